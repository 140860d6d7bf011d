"""The coordinate losses and the patent's two-part loss."""

from __future__ import annotations

import math

import pytest
import torch

from edgekp.config.train import LossSpec
from edgekp.train.losses import coordinate_loss, two_part_loss, wing_loss


def test_wing_loss_matches_hand_computation():
    pred = torch.tensor([[[0.0, 0.0]]])
    target = torch.tensor([[[1.0, 20.0]]])
    w, eps = 10.0, 2.0
    c = w - w * math.log(1 + w / eps)
    expected = (w * math.log(1 + 1.0 / eps) + (20.0 - c)) / 2
    assert wing_loss(pred, target, w, eps).item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("kind", ["l1", "smooth_l1", "wing"])
def test_loss_is_zero_at_target_and_positive_elsewhere(kind):
    spec = LossSpec(type=kind)
    target = torch.rand(4, 68, 2)
    assert coordinate_loss(target, target, spec, 128).item() == pytest.approx(0.0, abs=1e-7)
    assert coordinate_loss(target + 0.01, target, spec, 128).item() > 0


def test_two_part_loss_is_first_plus_weighted_second():
    spec = LossSpec(type="l1", second_weight=0.5)
    a, b = torch.zeros(2, 5, 2), torch.full((2, 5, 2), 0.1)
    parts = two_part_loss(a, b, a, a + 0.2, spec, input_size=100)
    assert parts.first.item() == pytest.approx(10.0, rel=1e-5)
    assert parts.second.item() == pytest.approx(20.0, rel=1e-5)
    assert parts.total.item() == pytest.approx(10.0 + 0.5 * 20.0, rel=1e-5)


def test_second_loss_drives_gradient_through_expanded_predictions():
    spec = LossSpec(type="l1", second_weight=1.0)
    original = torch.zeros(1, 3, 2, requires_grad=True)
    expanded = torch.zeros(1, 3, 2, requires_grad=True)
    two_part_loss(original, original.detach(), expanded, torch.ones(1, 3, 2), spec, 10).total.backward()
    assert original.grad is not None and torch.count_nonzero(original.grad) == 0
    assert expanded.grad is not None and torch.all(expanded.grad < 0)
