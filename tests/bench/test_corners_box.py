"""The six eye/mouth corners box-normalized (nme_corners_box): the figure peers are compared on for
profiles, where the inter-ocular distance collapses. Checked against the definition by hand."""

from __future__ import annotations

import numpy as np
import pytest

from edgekp.bench.accuracy import CORNERS_68, score_crops
from edgekp.data.crops import CropSet
from edgekp.data.schemes import IBUG68


def _faces(n: int = 5) -> tuple[CropSet, np.ndarray]:
    rng = np.random.default_rng(0)
    points = rng.uniform(0.2, 0.8, size=(n, 68, 2)).astype(np.float32)
    poses = np.zeros((n, 3), np.float32)
    poses[:, 0] = np.linspace(0, 80, n)
    crops = CropSet(
        np.zeros((n, 8, 8, 3), np.uint8), points, poses, [str(i) for i in range(n)], [str(i) for i in range(n)], 8, 0.25
    )
    pred = points.copy()
    pred[:, list(CORNERS_68), 0] += 0.01  # only the corners are off, by 0.01 of the crop
    return crops, pred


def test_corners_box_is_the_corner_error_over_the_landmark_box():
    crops, pred = _faces()
    got = score_crops(pred, crops, IBUG68, np.zeros(len(pred), bool))
    span = crops.points.max(axis=1) - crops.points.min(axis=1)
    box = np.sqrt(span[:, 0] * span[:, 1])
    eyes = np.linalg.norm(crops.points[:, 36] - crops.points[:, 45], axis=1)
    assert got["nme_corners_box"] == pytest.approx(float(np.mean(0.01 / box)), rel=1e-5)
    assert got["nme_corners"] == pytest.approx(float(np.mean(0.01 / eyes)), rel=1e-5)
    # A peer scored on the corners alone gets the same figure: the normalizer still comes from the whole face.
    peer = score_crops(pred, crops, IBUG68, np.zeros(len(pred), bool), points=CORNERS_68)
    assert peer["nme_corners_box"] == pytest.approx(got["nme_corners_box"], rel=1e-6)
