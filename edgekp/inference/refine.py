"""The refinement `edgekp predict` does, pass by pass, and the box sources it is measured from.

``landmarks_per_pass(..., passes)[r]`` is exactly ``landmarks_in_box(..., refine=r)``: the first crop
from the face box, then each pass re-crops on the previous prediction's landmark box. One call gives
every refine count at the cost of the largest (benchmarks/refine_choice.py).
"""

from __future__ import annotations

import numpy as np

from edgekp.bench.predictor import Predictor
from edgekp.inference.boxes import FaceBox


def landmarks_per_pass(predictor: Predictor, image: np.ndarray, box: FaceBox, refine: int) -> list[np.ndarray]:
    """K x 2 image pixels after 0, 1, ..., ``refine`` re-crops (``refine + 1`` model calls)."""
    from edgekp.data.crops import crop_box_from_points, crop_face, to_pixels

    size, margin = predictor.input_size, predictor.margin
    side = max(box.w, box.h) * (1 + 2 * margin)
    square = (box.x + box.w / 2 - side / 2, box.y + box.h / 2 - side / 2, side, side)
    out = []
    for _ in range(refine + 1):
        crop = crop_face(image, np.zeros((1, 2)), size, box=square)
        pred = predictor.predict(crop.image[None])[0]
        points = crop.to_image(to_pixels(pred, size)).astype(np.float32)
        out.append(points)
        square = crop_box_from_points(points, margin)
    return out


def landmark_box(points: np.ndarray, detector: str = "landmarks") -> FaceBox:
    """The min/max box of the labelled (finite) points."""
    lo, hi = np.nanmin(points, axis=0), np.nanmax(points, axis=0)
    return FaceBox(float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1]), detector)


def previous_frame_box(
    points: np.ndarray, rng: np.random.Generator, shift: float = 0.05, scale: float = 0.05, noise: float = 0.01
) -> FaceBox:
    """The box a tracker gets from the previous frame's landmarks: the true points moved as a face moves
    between frames (a shift and a scale change up to ``shift``/``scale`` of the box size, uniform) plus
    per-point noise (``noise`` of the box size, Gaussian), then their min/max box."""
    pts = np.asarray(points, np.float64)
    box = landmark_box(pts)
    size = float(np.sqrt(max(box.w * box.h, 1.0)))
    centre = np.nanmean(pts, axis=0)
    moved = centre + (pts - centre) * (1.0 + rng.uniform(-scale, scale)) + rng.uniform(-shift, shift, 2) * size
    moved = moved + rng.normal(0.0, noise * size, pts.shape)
    return landmark_box(moved, "previous frame")
