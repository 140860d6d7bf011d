"""Batch augmentation: labels follow pixels, inverses and flips round-trip, seeds reproduce."""

from __future__ import annotations

import numpy as np
import torch

from edgekp.config.data import AugmentSpec
from edgekp.data.augment import BatchAugmenter, identity_spec
from edgekp.data.schemes import IBUG68

S = 128


def _points(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return 0.25 + 0.5 * torch.rand(n, 68, 2, generator=g)


def _geometric(**kw: float) -> AugmentSpec:
    return identity_spec().model_copy(update={"rotation_deg": 30.0, "scale": 0.2, "shift": 0.08, "flip": 0.5, **kw})


def test_identity_spec_changes_nothing() -> None:
    images, pts = torch.rand(4, 3, S, S), _points(4)
    out = BatchAugmenter(identity_spec(), IBUG68)(images, pts, torch.Generator().manual_seed(0))
    assert torch.allclose(out.images, images, atol=1e-5) and torch.allclose(out.points, pts, atol=1e-6)
    assert not out.flipped.any()


def test_flip_twice_is_identity() -> None:
    aug = BatchAugmenter(identity_spec().model_copy(update={"flip": 1.0}), IBUG68)
    images, pts = torch.rand(3, 3, S, S), _points(3)
    once = aug(images, pts, torch.Generator().manual_seed(0))
    assert once.flipped.all()
    # Pair order: the flipped point 36 (right outer eye corner) is the mirror of the old 45.
    assert torch.allclose(once.points[:, 36, 0], 1 - pts[:, 45, 0]) and torch.allclose(
        once.points[:, 36, 1], pts[:, 45, 1]
    )
    twice = aug(once.images, once.points, torch.Generator().manual_seed(1))
    assert torch.allclose(twice.points, pts, atol=1e-6)
    assert torch.allclose(twice.images, images, atol=1e-5)


def test_inverse_maps_back_within_half_a_pixel() -> None:
    aug = BatchAugmenter(AugmentSpec(), IBUG68)  # the default recipe's full augmentation
    pts = _points(64)
    out = aug(torch.rand(64, 3, S, S), pts, torch.Generator().manual_seed(3))
    assert out.flipped.any() and (~out.flipped).any()
    assert out.matrix.shape == (64, 3, 3)
    back = out.to_original(out.points)
    assert (back - pts).abs().max().item() * S < 0.5


def _dots(pts: torch.Tensor) -> torch.Tensor:
    """One Gaussian dot per image at a landmark (normalized -> pixel centres)."""
    yy, xx = torch.meshgrid(torch.arange(S, dtype=torch.float32), torch.arange(S, dtype=torch.float32), indexing="ij")
    px = pts * S - 0.5
    d2 = (xx - px[:, 0, None, None]) ** 2 + (yy - px[:, 1, None, None]) ** 2
    return torch.exp(-d2 / (2 * 1.5**2))[:, None].repeat(1, 3, 1, 1)


def test_warped_image_agrees_with_transformed_points() -> None:
    n = 32
    pts = _points(n, seed=5)
    images = _dots(pts[:, 30])  # a dot on the nose tip
    out = BatchAugmenter(_geometric(), IBUG68)(images, pts, torch.Generator().manual_seed(7))
    # After a flip the nose tip keeps its index (it is on the midline): compare with point 30.
    yy, xx = torch.meshgrid(torch.arange(S, dtype=torch.float32), torch.arange(S, dtype=torch.float32), indexing="ij")
    w = out.images[:, 0]
    centre = torch.stack([(w * xx).sum((1, 2)), (w * yy).sum((1, 2))], 1) / w.sum((1, 2))[:, None]
    expected = out.points[:, 30] * S - 0.5
    assert (centre - expected).abs().max() < 1.0


def test_eye_corner_follows_its_label_through_a_flip() -> None:
    pts = _points(8, seed=2)
    images = _dots(pts[:, 36])  # a dot on the subject's right outer eye corner
    aug = BatchAugmenter(_geometric(flip=1.0), IBUG68)
    out = aug(images, pts, torch.Generator().manual_seed(1))
    yy, xx = torch.meshgrid(torch.arange(S, dtype=torch.float32), torch.arange(S, dtype=torch.float32), indexing="ij")
    w = out.images[:, 0]
    centre = torch.stack([(w * xx).sum((1, 2)), (w * yy).sum((1, 2))], 1) / w.sum((1, 2))[:, None]
    # The mirrored dot now sits where the label of the *other* eye corner (45) is.
    assert (centre - (out.points[:, 45] * S - 0.5)).abs().max() < 1.0


def test_requested_roll_is_applied_exactly() -> None:
    aug = BatchAugmenter(identity_spec().model_copy(update={"rotation_deg": 10.0}), IBUG68)
    pts = _points(4)
    roll = torch.tensor([50.0, 0.0, -45.0, 0.0])
    out = aug(torch.rand(4, 3, S, S), pts, torch.Generator().manual_seed(0), roll_deg=roll)
    angle = torch.rad2deg(torch.atan2(out.matrix[:, 1, 0], out.matrix[:, 0, 0]))
    assert torch.allclose(angle[[0, 2]], roll[[0, 2]], atol=1e-4)
    assert (angle[[1, 3]].abs() <= 10.0).all()
    # Positive roll is clockwise on screen: the eye-corner line tilts down to the image right.
    eye = pts[0, 45] - pts[0, 36]
    eye_after = out.points[0, 45] - out.points[0, 36]
    assert torch.atan2(eye_after[1], eye_after[0]) > torch.atan2(eye[1], eye[0])


def test_deterministic_for_a_seed_and_photometric_keeps_points() -> None:
    aug = BatchAugmenter(AugmentSpec(blur=1.0, noise=1.0, occlusion=1.0), IBUG68)
    images, pts = torch.rand(6, 3, S, S), _points(6)
    a = aug(images, pts, torch.Generator().manual_seed(11))
    b = aug(images, pts, torch.Generator().manual_seed(11))
    assert torch.equal(a.images, b.images) and torch.equal(a.points, b.points)
    assert a.images.min() >= 0 and a.images.max() <= 1
    photo_only = BatchAugmenter(AugmentSpec(rotation_deg=0, scale=0, shift=0, flip=0, blur=1.0, noise=1.0), IBUG68)
    c = photo_only(images, pts, torch.Generator().manual_seed(2))
    assert torch.allclose(c.points, pts) and not torch.allclose(c.images, images)
    assert np.isfinite(c.images.numpy()).all()
