"""The refinement study measures what `edgekp predict` does: pass r is landmarks_in_box(refine=r)."""

from __future__ import annotations

import numpy as np

from edgekp.bench.predictor import load_predictor
from edgekp.inference.boxes import FaceBox
from edgekp.inference.pipeline import landmarks_in_box
from edgekp.inference.refine import landmark_box, landmarks_per_pass, previous_frame_box


def test_each_pass_is_predict_with_that_refine_count(tiny_model_run) -> None:
    predictor = load_predictor(str(tiny_model_run))
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (160, 200, 3), dtype=np.uint8)
    box = FaceBox(50.0, 30.0, 90.0, 80.0, "given")
    passes = landmarks_per_pass(predictor, image, box, 2)
    for r in range(3):
        np.testing.assert_array_equal(passes[r], landmarks_in_box(predictor, image, box, refine=r))


def test_previous_frame_box_moves_a_little_and_ignores_unlabelled_points() -> None:
    pts = np.array([[10.0, 10.0], [110.0, 10.0], [60.0, 110.0], [np.nan, np.nan]])
    truth = landmark_box(pts)
    assert (truth.w, truth.h) == (100.0, 100.0)
    moved = previous_frame_box(pts, np.random.default_rng(1))
    assert moved != truth
    assert abs(moved.x - truth.x) < 15 and abs(moved.w - truth.w) < 15
