"""Head importance scores: finite, non-negative, normalized per layer; gates left as they were."""

from __future__ import annotations

import numpy as np
import pytest

from edgekp.compress.heads import ScoringContext, score_heads
from edgekp.config.data import AugmentSpec
from edgekp.config.prune import ScoringSpec
from edgekp.config.train import LossSpec
from edgekp.train.data import TrainingData
from tests.compress.conftest import SIZE, trained_tiny_model


def _ctx(data: TrainingData) -> ScoringContext:
    return ScoringContext(data.train, data.scheme, LossSpec(), AugmentSpec(), SIZE, seed=0)


@pytest.mark.parametrize("method", ["taylor", "magnitude", "random"])
@pytest.mark.parametrize("loss", ["coordinate", "two_part"])
def test_scores_are_finite_non_negative_and_normalized_per_layer(
    prune_data: TrainingData, method: str, loss: str
) -> None:
    if method != "taylor" and loss == "two_part":
        pytest.skip("the loss only matters to taylor")
    model = trained_tiny_model()
    scores = score_heads(model, method, _ctx(prune_data), ScoringSpec(faces=16, batch_size=8, loss=loss))
    assert list(scores) == [n for n, _ in model.attention_modules()]
    for name, s in scores.items():
        assert s.shape == (2,), name
        assert np.isfinite(s).all() and (s >= 0).all()
        assert np.linalg.norm(s) == pytest.approx(1.0, abs=1e-9)
    # Scoring must leave the model as it found it: frozen gates, no grads, weights trainable again.
    assert all(not m.head_gate.requires_grad and m.head_gate.grad is None for _, m in model.attention_modules())
    assert all(p.grad is None for p in model.parameters())


def test_taylor_scores_are_deterministic_and_see_a_dead_head(prune_data: TrainingData) -> None:
    import torch

    model = trained_tiny_model()
    spec = ScoringSpec(faces=16, batch_size=8, accumulate="absolute")
    first = score_heads(model, "taylor", _ctx(prune_data), spec)
    again = score_heads(model, "taylor", _ctx(prune_data), spec)
    assert all(np.array_equal(first[n], again[n]) for n in first)
    name, attn = model.attention_modules()[2]
    with torch.no_grad():
        attn.head_gate[0] = 0.0  # gate x grad is zero for a switched-off head
    dead = score_heads(model, "taylor", _ctx(prune_data), spec)
    assert dead[name][0] == 0.0 and dead[name][1] == pytest.approx(1.0)
