"""Crops: box geometry, point/pixel agreement, preloading and its cache."""

from __future__ import annotations

import numpy as np
import pytest

from edgekp.data.crops import (
    CropSet,
    cache_key,
    crop_box_from_points,
    crop_face,
    preload_crops,
    to_normalized,
    to_pixels,
)
from edgekp.data.records import FaceRecord, Pose


def _dot_image(h: int, w: int, points: np.ndarray) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    for x, y in points.round().astype(int):
        img[y - 1 : y + 2, x - 1 : x + 2] = 255
    return img


def test_box_is_square_and_centred() -> None:
    x, y, w, h = crop_box_from_points(np.array([[10.0, 20.0], [50.0, 100.0]]), margin=0.25)
    assert w == h == pytest.approx(80 * 1.5)
    assert (x + w / 2, y + h / 2) == pytest.approx((30.0, 60.0))


@pytest.mark.parametrize("image_size", [(300, 260), (1200, 1000)])  # no pre-shrink, and the area pre-shrink path
def test_points_follow_pixels(image_size: tuple[int, int]) -> None:
    rng = np.random.default_rng(0)
    h, w = image_size
    pts = np.c_[rng.uniform(0.3 * w, 0.7 * w, 5), rng.uniform(0.3 * h, 0.7 * h, 5)]
    crop = crop_face(_dot_image(h, w, pts), pts, 128, margin=0.3, jitter=0.05, rng=rng)
    assert crop.image.shape == (128, 128, 3) and crop.image.dtype == np.uint8
    gray = crop.image[..., 0].astype(float)
    for p in crop.points:
        x, y = p.round().astype(int)
        patch = gray[y - 3 : y + 4, x - 3 : x + 4]
        yy, xx = np.mgrid[y - 3 : y + 4, x - 3 : x + 4]
        centre = np.array([(xx * patch).sum(), (yy * patch).sum()]) / patch.sum()
        assert np.abs(centre - p).max() < 0.7
    assert np.allclose(crop.to_image(crop.points), pts, atol=1e-4)


def test_normalized_round_trip() -> None:
    px = np.array([[-0.5, -0.5], [127.5, 127.5], [63.5, 10.0]])
    norm = to_normalized(px, 128)
    assert norm[0].tolist() == [0.0, 0.0] and norm[1].tolist() == [1.0, 1.0]
    assert np.allclose(to_pixels(norm, 128), px, atol=1e-4)


def _records(n: int) -> list[FaceRecord]:
    rng = np.random.default_rng(1)
    from edgekp.data.pose import mean_face

    recs = []
    for i in range(n):
        pts = (mean_face()[:, :2] * 60 + 100 + rng.normal(0, 1, (68, 2))).astype(np.float32)
        pose = Pose(40.0, 0.0, 0.0) if i == 0 else None
        recs.append(
            FaceRecord(source=f"photo{i // 2}_{i % 2 + 1}", points=pts, array=_dot_image(200, 220, pts), pose=pose)
        )
    return recs


def test_preload_and_cache(tmp_path) -> None:
    recs = _records(6)
    crops = preload_crops(recs, size=64, margin=0.25, workers=2, cache_dir=tmp_path)
    assert crops.images.shape == (6, 64, 64, 3) and crops.points.shape == (6, 68, 2)
    assert crops.points.min() > 0 and crops.points.max() < 1
    assert crops.poses[0].tolist() == [40.0, 0.0, 0.0]  # the label wins
    assert np.abs(crops.poses[1:]).max() < 10  # estimated: near frontal
    assert crops.photos[:2] == ["photo0", "photo0"] and crops.sources[1] == "photo0_2"
    cached = tmp_path / f"crops-{cache_key(recs, 64, 0.25)}.npz"
    assert cached.exists()
    again = preload_crops(recs, size=64, margin=0.25, load=lambda r: pytest.fail("cache not used"), cache_dir=tmp_path)
    assert np.array_equal(again.images, crops.images) and again.sources == crops.sources
    assert cache_key(recs, 64, 0.3) != cache_key(recs, 64, 0.25)
    assert isinstance(CropSet.load(cached), CropSet)


def test_preload_real_faces(shared_data, read_pts) -> None:
    folder = shared_data / "300w/afw"
    if not folder.is_dir():
        pytest.skip("300w/afw not present")
    crops = preload_crops(read_pts(folder, limit=40), size=128, margin=0.25)
    assert crops.images.shape == (40, 128, 128, 3) and crops.images.mean() > 30
    assert crops.points.min() >= 0 and crops.points.max() <= 1
