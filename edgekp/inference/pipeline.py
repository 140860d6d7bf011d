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
from edgekp.inference.boxes import FaceBox


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


def landmarks_in_box(predictor: Predictor, image: np.ndarray, box: FaceBox, refine: int | None = None) -> np.ndarray:
    """``refine`` None: the predictor's (an exported file's contract, else edgekp's default)."""
    from edgekp.data.crops import crop_box_from_points, crop_face, to_pixels

    refine = predictor.refine if refine is None else refine
    size, margin = predictor.input_size, predictor.margin
    # A detector box spans roughly the landmark box; start from it, then refine from predictions.
    side = max(box.w, box.h) * (1 + 2 * margin)
    square = (box.x + box.w / 2 - side / 2, box.y + box.h / 2 - side / 2, side, side)
    points = np.zeros((0, 2), np.float32)
    for _ in range(refine + 1):
        crop = crop_face(image, np.zeros((1, 2)), size, box=square)
        pred = predictor.predict(crop.image[None])[0]
        points = crop.to_image(to_pixels(pred, size)).astype(np.float32)
        square = crop_box_from_points(points, margin)
    return points


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
