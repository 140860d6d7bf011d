"""Frame-to-frame image motion of a face region, by phase correlation.

A tracker that crops frame t from frame t-1's landmarks sees the face off-centre by however far it
moved, and the model, trained on centred crops, follows such a shift only in part: the landmarks
lag the motion. Phase correlation of the face region between the two frames measures the shift
from the pixels (about 0.1 px on a still face, 0.3-0.6 px on hand-held shake at 320 px, here), so
the crop can be moved with the face before the landmark pass, and the smoothing filter can predict
where the points went (edgekp.inference.one_euro) instead of lagging them.
"""

from __future__ import annotations

import cv2
import numpy as np

PATCH = 48  # side of the compared patches: cost grows with it; accuracy is sub-pixel already here
MIN_RESPONSE = 0.2  # below this peak the correlation found no clear shift (occlusion, a cut): assume none

_WINDOW = cv2.createHanningWindow((PATCH, PATCH), cv2.CV_32F)


def _patch(gray: np.ndarray, square: tuple[float, float, float, float]) -> np.ndarray:
    x, y, side, _ = square
    s = PATCH / side
    matrix = np.array([[s, 0.0, -x * s], [0.0, s, -y * s]])
    return cv2.warpAffine(gray, matrix, (PATCH, PATCH), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE
                          ).astype(np.float32)


def region_shift(previous: np.ndarray, current: np.ndarray, square: tuple[float, float, float, float],
                 deadzone: float = 0.0) -> np.ndarray:
    """(dx, dy) image pixels the content of ``square`` moved from ``previous`` to ``current`` (grey frames).

    A shift under ``deadzone`` crop sides is taken as none, and larger ones shrink by it: on a still
    face the estimate's own noise would otherwise move the crop, and the landmarks with it."""
    (dx, dy), response = cv2.phaseCorrelate(_patch(previous, square), _patch(current, square), _WINDOW)
    if response < MIN_RESPONSE:
        return np.zeros(2)
    shift = np.array([dx, dy]) * (square[2] / PATCH)
    size = float(np.linalg.norm(shift))
    limit = deadzone * square[2]
    return shift * (1.0 - limit / size) if size > limit else np.zeros(2)
