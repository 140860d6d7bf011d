"""train.schedule (warm-up + cosine, plateau halving) and train.ema (weight averaging), unit by unit."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from edgekp.config.train import OptimSpec
from edgekp.train.ema import WeightEma
from edgekp.train.schedule import LrSchedule


def _schedule(**spec: object) -> tuple[LrSchedule, torch.optim.Optimizer]:
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    return LrSchedule(
        opt, OptimSpec(**{"lr": 0.1, "max_epochs": 10, "warmup_epochs": 1.0, **spec}), steps_per_epoch=10
    ), opt


def _run(schedule: LrSchedule, steps: int) -> list[float]:
    lrs = []
    for _ in range(steps):
        lrs.append(schedule.apply())
        schedule.step_batch()
    return lrs


def test_warmup_is_linear_then_cosine_decays_to_two_percent() -> None:
    schedule, opt = _schedule()
    lrs = _run(schedule, 100)
    assert lrs[:10] == pytest.approx([0.1 * (i + 1) / 10 for i in range(10)])  # one epoch of 10 steps
    assert lrs[10] == pytest.approx(0.1)  # the peak: cosine starts at the full rate
    decay = lrs[10:]
    assert all(a >= b for a, b in zip(decay, decay[1:], strict=False))
    assert opt.param_groups[0]["lr"] == lrs[-1]  # apply() sets the optimizer's rate
    schedule.step = 100
    assert schedule.apply() == pytest.approx(0.1 * 0.02)  # the floor at the end of max_epochs
    middle = 10 + 45  # halfway through the 90 post-warm-up steps
    assert lrs[middle] == pytest.approx(0.1 * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * 0.5))))


def test_no_warmup_starts_at_the_full_rate() -> None:
    schedule, _ = _schedule(warmup_epochs=0)
    assert schedule.apply() == pytest.approx(0.1)


def test_plateau_halves_after_half_the_patience_without_improvement() -> None:
    schedule, _ = _schedule(schedule="plateau", warmup_epochs=0, patience=4)
    schedule.step_epoch(0.10)  # the first value is an improvement
    assert schedule.apply() == pytest.approx(0.1)
    schedule.step_epoch(0.11)
    assert schedule.apply() == pytest.approx(0.1)  # one bad epoch: not yet (patience // 2 = 2)
    schedule.step_epoch(0.12)
    assert schedule.apply() == pytest.approx(0.05)
    schedule.step_epoch(0.05)  # better again: the count restarts, the rate stays
    schedule.step_epoch(0.06)
    assert schedule.apply() == pytest.approx(0.05)


def test_cosine_ignores_plateaus_and_state_round_trips() -> None:
    schedule, _ = _schedule()
    _run(schedule, 37)
    for nme in (0.2, 0.3, 0.3, 0.3):
        schedule.step_epoch(nme)
    before = schedule.apply()
    copy, _ = _schedule()
    copy.load_state_dict(schedule.state_dict())
    assert copy.apply() == before and copy.state_dict() == schedule.state_dict()
    assert schedule.plateau_scale == 1.0  # only the plateau schedule halves


def _net(value: float) -> nn.Module:
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(value)
    return net


def test_ema_follows_the_warmed_up_decay() -> None:
    model = _net(0.0)
    ema = WeightEma(model, decay=0.9)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(1.0)
    ema.update(model)  # decay min(0.9, 2/11): the early average leans on the new weights
    d = 2 / 11
    weight = ema.model[0].weight
    assert torch.allclose(weight, torch.full_like(weight, 1 - d))
    for _ in range(200):
        ema.update(model)
    assert torch.allclose(ema.model[0].weight, torch.ones_like(weight), atol=1e-6)  # converges to a fixed model
    assert not any(p.requires_grad for p in ema.model.parameters())
    assert all(p.requires_grad for p in model.parameters())  # the trained model is left alone


def test_ema_copies_integer_buffers_and_round_trips() -> None:
    model = _net(0.5)
    ema = WeightEma(model, decay=0.99)
    model.train()
    model(torch.randn(4, 2))  # BatchNorm counts a batch (an integer buffer)
    ema.update(model)
    assert int(ema.model[1].num_batches_tracked) == int(model[1].num_batches_tracked) == 1
    other = WeightEma(_net(0.0), decay=0.99)
    other.load_state_dict(ema.state_dict())
    assert other.updates == 1
    for a, b in zip(other.model.state_dict().values(), ema.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
