"""The training loop: checkpoints, resume equals an uninterrupted run, non-finite loss, curves."""

from __future__ import annotations

import pytest
import torch

from edgekp.errors import TrainingError
from edgekp.lineage.checkpoints import load_checkpoint
from edgekp.models import create_model
from edgekp.train import loop as loop_module
from edgekp.train.loop import Trainer

SIZE = 64


@pytest.fixture
def make_trainer(tiny_data, make_settings):
    def build(out, saved, **optim) -> Trainer:
        torch.manual_seed(0)
        model = create_model("kp_hvit_test", input_size=SIZE, num_points=68)
        return Trainer(model, tiny_data, make_settings(**optim), out, lambda m, info: saved.append(info["epoch"]))

    return build


def test_fit_writes_checkpoint_curves_and_best(make_trainer, tmp_path):
    saved: list[int] = []
    result = make_trainer(tmp_path, saved).fit()
    assert result.epochs_run == 2 and saved and saved[0] == 0
    assert (tmp_path / "last.pt").is_file()
    assert (tmp_path / "history.csv").read_text().count("\n") == 3
    assert (tmp_path / "history.png").stat().st_size > 1000
    assert result.balance["after"]["total"] >= result.balance["before"]["total"]
    assert abs(result.balance["after"]["large"] - result.balance["after"]["small"]) <= max(
        1, 0.25 * result.balance["after"]["total"]
    )


def test_resume_equals_uninterrupted(make_trainer, tmp_path, monkeypatch):
    full = make_trainer(tmp_path / "full", [])
    full.fit()
    reference = load_checkpoint(tmp_path / "full" / "last.pt")

    calls = {"n": 0}
    real_write = loop_module.write_history

    def crash_after_first_epoch(rows, out):
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyboardInterrupt  # the process dies right after epoch 0's checkpoint
        real_write(rows, out)

    monkeypatch.setattr(loop_module, "write_history", crash_after_first_epoch)
    with pytest.raises(KeyboardInterrupt):
        make_trainer(tmp_path / "killed", []).fit()
    assert load_checkpoint(tmp_path / "killed" / "last.pt")["epoch"] == 0
    make_trainer(tmp_path / "killed", []).fit(resume=True)
    resumed = load_checkpoint(tmp_path / "killed" / "last.pt")
    assert resumed["epoch"] == reference["epoch"] == 1
    for key, value in reference["model"].items():
        torch.testing.assert_close(resumed["model"][key], value, rtol=0, atol=1e-6, msg=key)
    assert [r["val_nme"] for r in resumed["history"]] == pytest.approx(
        [r["val_nme"] for r in reference["history"]], abs=1e-6
    )


def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(make_trainer, tmp_path, monkeypatch):
    trainer = make_trainer(tmp_path, [], max_epochs=3)
    real_loss = loop_module.two_part_loss
    epochs = {"n": 0}

    def loss_going_nan(*args, **kwargs):
        parts = real_loss(*args, **kwargs)
        if trainer.schedule.step >= trainer.schedule.steps_per_epoch:  # from the second epoch on
            epochs["n"] += 1
            return type(parts)(parts.total * float("nan"), parts.first, parts.second)
        return parts

    monkeypatch.setattr(loop_module, "two_part_loss", loss_going_nan)
    with pytest.raises(TrainingError, match="non-finite.*last good checkpoint"):
        trainer.fit()
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 0


def test_patience_stops_training(make_trainer, tmp_path, monkeypatch):
    trainer = make_trainer(tmp_path, [], max_epochs=6, patience=1)
    monkeypatch.setattr(trainer, "validate", lambda: {"nme": 0.5})
    result = trainer.fit()
    assert result.stop_reason == "converged" and result.epochs_run == 2


def test_cosine_spans_the_balanced_epochs_actually_run(make_trainer, tmp_path):
    """The schedule's epoch length is the balanced plan's batch count, so the last step of
    ``max_epochs`` ends the cosine at 2 % of the peak rate (an upper-bound estimate of twice the
    pool had left balanced runs at about a third of it)."""
    trainer = make_trainer(tmp_path, [], max_epochs=3, warmup_epochs=0.0)
    index = trainer.epoch_plan(0)[0]
    assert trainer.schedule.steps_per_epoch == trainer.batches_per_epoch(len(index))
    trainer.fit()
    assert trainer.schedule.step == 3 * trainer.schedule.steps_per_epoch
    rates = [r["lr"] for r in load_checkpoint(tmp_path / "last.pt")["history"]]
    # lr in the history is the rate set after an epoch's last step: at the end, the cosine's floor.
    assert rates[-1] == pytest.approx(2e-3 * 0.02, rel=1e-6)
