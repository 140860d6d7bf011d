"""Physical head removal: exactness, rebuild from config, and how heads are chosen."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch

from edgekp.compress.heads import choose_heads, head_counts, plan_quota, remove_heads
from edgekp.errors import ConfigError
from edgekp.lineage.plain_format import load_model, save_model
from edgekp.models import count_flops, count_parameters
from tests.compress.conftest import SIZE, trained_tiny_model


@pytest.mark.parametrize("block", range(6))
@pytest.mark.parametrize("head", [0, 1])
def test_removing_a_zero_gated_head_leaves_outputs_unchanged(block: int, head: int) -> None:
    model = trained_tiny_model()
    name, attn = model.attention_modules()[block]
    x = torch.rand(3, 3, SIZE, SIZE)
    with torch.no_grad():
        reference = model(x)
        attn.head_gate[head] = 0.0
        gated = model(x)
        pruned = remove_heads(model, {name: [head]})
        got = pruned(x)
    assert not torch.allclose(gated, reference, atol=1e-4), "the head must matter for the test to mean anything"
    assert (got - gated).abs().max().item() < 1e-6
    assert head_counts(pruned)[name] == 1
    assert count_parameters(pruned) < count_parameters(model)


def test_removal_keeps_the_surviving_heads_and_their_gates() -> None:
    model = trained_tiny_model()
    removal = {name: [0] for name, _ in model.attention_modules()[:4]}
    with torch.no_grad():
        for name, attn in model.attention_modules():
            attn.head_gate.copy_(torch.tensor([0.0, 0.7]) if name in removal else torch.tensor([1.3, 0.9]))
        pruned = remove_heads(model, removal)
        x = torch.rand(2, 3, SIZE, SIZE)
        assert torch.allclose(pruned(x), model(x), atol=1e-6)
    assert dict(pruned.attention_modules())[next(iter(removal))].head_gate.tolist() == pytest.approx([0.7])


def test_pruned_model_rebuilds_from_its_config_alone(tmp_path: Path) -> None:
    model = trained_tiny_model()
    names = [n for n, _ in model.attention_modules()]
    pruned = remove_heads(model, {names[0]: [1], names[3]: [0], names[5]: [1]})
    assert (
        pruned.config.ref1.heads == (1, 2) and pruned.config.ref2.heads == (2, 1) and pruned.config.level2.heads == (1,)
    )
    save_model(tmp_path / "model.pt", pruned, {"input_size": SIZE})
    loaded, meta = load_model(tmp_path / "model.pt")
    assert loaded.config == pruned.config and meta["input_size"] == SIZE
    assert not any("mask" in k for k in loaded.state_dict())
    assert count_flops(loaded) < count_flops(model) and count_parameters(loaded) < count_parameters(model)
    x = torch.rand(2, 3, SIZE, SIZE)
    with torch.no_grad():
        assert torch.equal(loaded(x), pruned.eval()(x))


def test_removal_refuses_to_empty_a_block() -> None:
    model = trained_tiny_model()
    name = model.attention_modules()[0][0]
    with pytest.raises(ConfigError, match="no head"):
        remove_heads(model, {name: [0, 1]})


def test_global_choice_respects_the_floor_and_takes_lowest_scores() -> None:
    counts = {"a": 4, "b": 1, "c": 2}
    scores = {"a": np.array([0.1, 0.9, 0.2, 0.3]), "b": np.array([0.0]), "c": np.array([0.05, 0.8])}
    quota = plan_quota(counts, 0.5, "global", 1)
    assert quota.total == 4  # round-half-up of 3.5
    removal, kept = choose_heads(scores, counts, counts, quota, 1.0, 1)
    assert removal == {"a": [0, 2, 3], "b": [], "c": [0]} and kept == 0
    # 6 of 7 heads asked for: each of the three blocks keeps one, so only 4 can go.
    quota = plan_quota(counts, 0.9, "global", 1)
    removal, kept = choose_heads(scores, counts, counts, quota, 1.0, 1)
    left = {n: counts[n] - len(r) for n, r in removal.items()}
    assert min(left.values()) >= 1 and kept == quota.total - 4


def test_per_block_ratio_that_empties_a_block_is_an_error() -> None:
    with pytest.raises(ConfigError, match="would leave block 'b' with 0 of its 2 heads"):
        plan_quota({"a": 4, "b": 2}, 0.75, "per_block", 1)
    quota = plan_quota({"a": 4, "b": 2}, 0.5, "per_block", 1)
    assert quota.per_block == {"a": 2, "b": 1}


def test_iterative_fractions_reach_the_quota_without_overshoot() -> None:
    original = {"a": 4, "b": 4}
    quota = plan_quota(original, 0.5, "global", 1)
    current = dict(original)
    scores = {"a": np.array([0.1, 0.2, 0.3, 0.4]), "b": np.array([0.15, 0.25, 0.35, 0.45])}
    total = 0
    for step in (1, 2, 3):
        removal, _ = choose_heads(
            {n: s[: current[n]] for n, s in scores.items()}, current, original, quota, step / 3, 1
        )
        for n, r in removal.items():
            current[n] -= len(r)
        total += sum(len(r) for r in removal.values())
    assert total == quota.total == 4


def test_remove_heads_does_not_touch_the_input_model() -> None:
    model = trained_tiny_model()
    before = copy.deepcopy(model.state_dict())
    remove_heads(model, {model.attention_modules()[0][0]: [0]})
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
