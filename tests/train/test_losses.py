"""The coordinate losses and the patent's two-part loss."""

from __future__ import annotations

import math

import pytest
import torch

from edgekp.config.train import LossSpec
from edgekp.data.schemes import get_scheme
from edgekp.errors import ConfigError
from edgekp.train.losses import coordinate_loss, jaw_scale, two_part_loss, wing_loss


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


# --- visibility ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["l1", "smooth_l1", "wing"])
def test_gradient_is_exactly_zero_at_unlabelled_outputs(kind):
    spec = LossSpec(type=kind)
    g = torch.Generator().manual_seed(0)
    target = torch.rand(3, 68, 2, generator=g)
    vis = torch.full((3, 68), 2, dtype=torch.uint8)
    vis[0, :9] = 0  # self-occluded: the file wrote 0, 0 ...
    target[0, :9] = 0.0
    target[1, 20] = float("nan")  # ... or the record holds NaN
    pred = torch.rand(3, 68, 2, generator=g, requires_grad=True)
    loss = coordinate_loss(pred, target, spec, 128, visibility=vis)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.equal(pred.grad[0, :9], torch.zeros(9, 2)) and torch.equal(pred.grad[1, 20], torch.zeros(2))
    assert torch.count_nonzero(pred.grad[2]) > 100  # labelled points do learn


@pytest.mark.parametrize("kind", ["l1", "wing"])
def test_unlabelled_points_do_not_enter_the_normalization(kind):
    # The loss (and every labelled point's gradient) equals the loss of the batch without the point.
    spec = LossSpec(type=kind)
    g = torch.Generator().manual_seed(1)
    target, pred = torch.rand(2, 68, 2, generator=g), torch.rand(2, 68, 2, generator=g)
    vis = torch.full((2, 68), 2, dtype=torch.uint8)
    vis[1, 5] = 0
    keep = vis > 0
    full = pred.clone().requires_grad_(True)
    masked = coordinate_loss(full, torch.where(keep[..., None], target, 0.0), spec, 128, visibility=vis)
    masked.backward()
    only = pred[keep].clone().requires_grad_(True)
    reference = coordinate_loss(only[None], target[keep][None], spec, 128)
    reference.backward()
    assert masked.item() == pytest.approx(reference.item(), rel=1e-6)
    torch.testing.assert_close(full.grad[keep], only.grad, rtol=1e-5, atol=1e-9)


def test_occluded_points_count_with_the_recipe_weight():
    target = torch.zeros(1, 2, 2)
    pred = torch.tensor([[[0.1, 0.0], [0.0, 0.3]]])  # 12.8 px and 38.4 px off at input size 128
    vis = torch.tensor([[2, 1]], dtype=torch.uint8)
    # Weighted mean over coordinates: (12.8 + 0) + w * (0 + 38.4), divided by 2 * (1 + w).
    for w in (0.0, 0.5, 1.0):
        got = coordinate_loss(pred, target, LossSpec(type="l1", occluded_weight=w), 128, visibility=vis).item()
        assert got == pytest.approx((12.8 + w * 38.4) / (2 * (1 + w)), rel=1e-5)
    parts = two_part_loss(pred, target, pred, target, LossSpec(type="l1", occluded_weight=0.0), 128, vis, vis)
    assert parts.first.item() == pytest.approx(6.4, rel=1e-5)


def test_trainer_batches_carry_visibility_and_unlabelled_points_stay_out(tmp_path, make_settings):
    # A training set whose faces lack their far-side jaw (NaN, visibility 0), as MERL-RAV profiles do:
    # the trainer's batches carry the flags through augmentation and the loss stays finite.
    import numpy as np
    from face_fixtures import synthetic_face_arrays

    from edgekp.data.schemes import IBUG68
    from edgekp.models import create_model
    from edgekp.train.data import TrainingData, ValSet
    from edgekp.train.loop import Trainer

    train, val = synthetic_face_arrays(32, 21), synthetic_face_arrays(8, 22)
    for arrays in (train, val):
        arrays.points[:, :6] = np.nan
        arrays.visibility[:, :6] = 0  # type: ignore[index]
    data = TrainingData(train, val, IBUG68, np.ones(1), val_sets=[ValSet("val", "box", np.arange(8))], select="val")
    torch.manual_seed(0)
    model = create_model("kp_hvit_test", input_size=64, num_points=68)
    trainer = Trainer(model, data, make_settings(max_epochs=1), tmp_path, lambda m, info: None)
    index, roll, synth, _ = trainer.epoch_plan(0)
    _, points, vis, _, exp_points, exp_vis = trainer._batch(
        index[:16], roll[:16], synth[:16], torch.Generator().manual_seed(0)
    )
    assert torch.equal(torch.isnan(points).any(-1), vis == 0) and torch.equal(
        torch.isnan(exp_points).any(-1), exp_vis == 0
    )
    assert (exp_vis == 0).sum() == 16 * 6  # flips move the flags to the other jaw end, never drop or add one
    result = trainer.fit()
    assert np.isfinite(result.history[0]["loss"]) and result.history[0]["val_norm"] == "box"
    assert "val_nme[val]" in result.history[0] and np.isfinite(result.best_nme)


def test_jaw_weight_scales_the_jaw_contour_against_the_other_points():
    scheme = get_scheme("ibug68")
    target = torch.full((1, 68, 2), 0.5)
    jaw_off, brow_off = target.clone(), target.clone()
    jaw_off[:, :17] += 0.02  # only the 17 jaw points are wrong
    brow_off[:, 17:34] += 0.02  # 17 other points, equally wrong
    spec = LossSpec(type="l1")
    assert coordinate_loss(jaw_off, target, spec, 128) == pytest.approx(coordinate_loss(brow_off, target, spec, 128))
    scale = jaw_scale(scheme, 3.0)
    assert scale is not None and scale[:17].eq(3.0).all() and scale[17:].eq(1.0).all()
    jaw = coordinate_loss(jaw_off, target, spec, 128, point_scale=scale)
    brow = coordinate_loss(brow_off, target, spec, 128, point_scale=scale)
    assert float(jaw) == pytest.approx(3.0 * float(brow))
    assert jaw_scale(scheme, 1.0) is None  # the default changes nothing


def test_jaw_weight_refuses_a_scheme_without_a_jaw_contour():
    with pytest.raises(ConfigError, match="jaw contour"):
        jaw_scale(get_scheme("aflw19"), 2.0)
