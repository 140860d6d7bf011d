"""Face detection with OpenCV's Haar cascades.

Why these: they ship inside the opencv-python-headless wheel (no download at run time, no extra
dependency), run in milliseconds on a CPU, and the frontal + profile pair (profile also mirrored)
covers turned faces. Their boxes are loose, so the landmark pipeline refines the crop from its own
first prediction. A user with better boxes passes ``--box``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgekp.errors import MissingBackendError
from edgekp.inference.boxes import FaceBox

__all__ = ["HaarFaceDetector"]


class HaarFaceDetector:
    name = "haar"

    def __init__(self, min_size_fraction: float = 0.08) -> None:
        import cv2

        folder = Path(getattr(getattr(cv2, "data", None), "haarcascades", "") or "")
        frontal, profile = folder / "haarcascade_frontalface_default.xml", folder / "haarcascade_profileface.xml"
        if not frontal.is_file():
            raise MissingBackendError("opencv-python-headless<5", "all", "OpenCV's bundled face cascades")
        self._frontal = cv2.CascadeClassifier(str(frontal))
        self._profile = cv2.CascadeClassifier(str(profile)) if profile.is_file() else None
        self.min_size_fraction = min_size_fraction

    def detect(self, image_rgb: np.ndarray) -> list[FaceBox]:
        import cv2

        gray = cv2.equalizeHist(cv2.cvtColor(image_rgb, cv2.COLOR_RGB2GRAY))
        height, width = gray.shape
        min_side = max(20, int(self.min_size_fraction * min(height, width)))
        found: list[FaceBox] = []
        for x, y, w, h in self._run(self._frontal, gray, min_side):
            found.append(FaceBox(x, y, w, h, "haar-frontal"))
        if self._profile is not None:
            for x, y, w, h in self._run(self._profile, gray, min_side):
                found.append(FaceBox(x, y, w, h, "haar-profile"))
            for x, y, w, h in self._run(self._profile, gray[:, ::-1].copy(), min_side):
                found.append(FaceBox(width - x - w, y, w, h, "haar-profile"))
        return _suppress(found)

    @staticmethod
    def _run(cascade: object, gray: np.ndarray, min_side: int) -> list[tuple[float, float, float, float]]:
        boxes = cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=6, minSize=(min_side, min_side))  # type: ignore[attr-defined]
        return [tuple(float(v) for v in b) for b in (boxes if len(boxes) else [])]


def _suppress(boxes: list[FaceBox], iou: float = 0.3) -> list[FaceBox]:
    """Keep the larger of overlapping boxes (frontal and profile often fire on the same face)."""
    kept: list[FaceBox] = []
    for box in sorted(boxes, key=lambda b: -b.w * b.h):
        if all(box.iou(k) < iou for k in kept):
            kept.append(box)
    return sorted(kept, key=lambda b: (b.x, b.y))
