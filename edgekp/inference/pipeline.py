"""Photo -> faces -> landmarks in image pixels.

The first crop comes from the face box; each refinement re-crops from the previous prediction's
landmark box, which is how the model saw faces in training (landmark box + margin).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekp.bench.predictor import Predictor
from edgekp.errors import DataError
from edgekp.inference.detector import FaceBox


@dataclass(frozen=True)
class FaceLandmarks:
    box: FaceBox
    points: np.ndarray  # K x 2 image pixels (0-based x, y)


def read_photo(path: str | Path) -> np.ndarray:
    """RGB uint8, or a one-line DataError for a missing, unreadable or truncated file."""
    import cv2

    path = Path(path)
    if not path.is_file():
        raise DataError(f"image not found: {str(path)!r}")
    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise DataError(f"cannot decode image {str(path)!r}: not an image or corrupt")
    if data[:2].tobytes() == b"\xff\xd8" and b"\xff\xd9" not in data[-1024:].tobytes():
        raise DataError(f"image {str(path)!r} is a truncated JPEG (no end-of-image marker)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def box_to_crop_matrix(cx: float, cy: float, side: float, size: int) -> np.ndarray:
    """2x3 affine matrix mapping image pixels to an S x S crop of a square box centred at (cx, cy)."""
    scale = size / side
    return np.array([[scale, 0.0, size / 2 - scale * cx], [0.0, scale, size / 2 - scale * cy]], dtype=np.float64)


def _landmark_square(points: np.ndarray, margin: float) -> tuple[float, float, float]:
    lo, hi = points.min(axis=0), points.max(axis=0)
    centre = (lo + hi) / 2
    side = float(max(hi - lo)) * (1 + 2 * margin)
    return float(centre[0]), float(centre[1]), max(side, 4.0)


def landmarks_in_box(predictor: Predictor, image: np.ndarray, box: FaceBox, refine: int = 2) -> np.ndarray:
    import cv2

    size, margin = predictor.input_size, predictor.margin
    # A detector box spans roughly the landmark box; start from it, then refine from predictions.
    cx, cy, side = box.x + box.w / 2, box.y + box.h / 2, max(box.w, box.h) * (1 + 2 * margin)
    points = np.zeros((0, 2))
    for _ in range(refine + 1):
        matrix = box_to_crop_matrix(cx, cy, side, size)
        crop = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        pred = predictor.predict(crop[None])[0] * size
        inverse = cv2.invertAffineTransform(matrix)
        points = pred @ inverse[:, :2].T + inverse[:, 2]
        cx, cy, side = _landmark_square(points, margin)
    return points.astype(np.float32)


def predict_photo(predictor: Predictor, image: np.ndarray, boxes: list[FaceBox]) -> list[FaceLandmarks]:
    return [FaceLandmarks(box, landmarks_in_box(predictor, image, box)) for box in boxes]


def draw_landmarks(image: np.ndarray, faces: list[FaceLandmarks]) -> np.ndarray:
    import cv2

    canvas = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    radius = max(1, round(min(image.shape[:2]) / 250))
    for face in faces:
        b = face.box
        cv2.rectangle(canvas, (int(b.x), int(b.y)), (int(b.x + b.w), int(b.y + b.h)), (255, 160, 0), radius)
        for x, y in face.points:
            cv2.circle(canvas, (int(round(x)), int(round(y))), radius + 1, (0, 255, 0), -1, lineType=cv2.LINE_AA)
    return canvas
