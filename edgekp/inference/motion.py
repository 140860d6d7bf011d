"""Frame-to-frame image motion of a face: Lucas-Kanade flow of its inner landmarks fitted with a
similarity (``points_motion``, the tracker's default), or phase correlation of its region (a shift only).

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
    return cv2.warpAffine(gray, matrix, (PATCH, PATCH), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE).astype(
        np.float32
    )


def region_shift(
    previous: np.ndarray, current: np.ndarray, square: tuple[float, float, float, float], deadzone: float = 0.0
) -> np.ndarray:
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


INNER = slice(17, 68, 2)  # every other brow, nose, eye and mouth point: texture on the face itself (the jaw
# line sits on the background's edge); half of them cost half as much and fit the similarity as well (0.057 %
# against 0.050 % of the eye distance per frame on the benchmark's clips)
LK_WINDOW = 11  # px: the Lucas-Kanade window


def points_motion(previous: np.ndarray, current: np.ndarray, points: np.ndarray) -> np.ndarray | None:
    """2 x 3 similarity (shift, turn, zoom) the face moved by from ``previous`` to ``current`` (grey
    frames), from pyramidal Lucas-Kanade flow of its inner landmarks, fitted robustly (RANSAC); None
    when too few points were followed. The crop of the next pass is carried by it, so a turn or a
    zoom reaches the crop as well as a shift."""
    inner = points[INNER] if len(points) >= 68 else points
    inner = inner[np.isfinite(inner).all(axis=1)].astype(np.float32)
    if len(inner) < 4:
        return None
    side = float((inner.max(0) - inner.min(0)).max())
    levels = max(1, int(np.ceil(np.log2(max(side, 1.0) / 60.0))))  # pyramid depth grows with the face's size
    # Only the face's region is searched: the pyramids of a whole frame cost more than the flow itself.
    reach = LK_WINDOW * 2**levels + 8
    h, w = current.shape[:2]
    x0, y0 = (int(max(0, v)) for v in np.floor(inner.min(0) - reach))
    x1, y1 = int(min(w, np.ceil(inner.max(0)[0] + reach))), int(min(h, np.ceil(inner.max(0)[1] + reach)))
    if x1 - x0 < 2 * LK_WINDOW or y1 - y0 < 2 * LK_WINDOW:
        return None
    offset = np.array([x0, y0], np.float32)
    start = (inner - offset).reshape(-1, 1, 2)
    moved, status, _ = cv2.calcOpticalFlowPyrLK(
        previous[y0:y1, x0:x1],
        current[y0:y1, x0:x1],
        start,
        None,
        winSize=(LK_WINDOW, LK_WINDOW),
        maxLevel=levels,
        criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03),
    )
    ok = status.reshape(-1).astype(bool)
    if ok.sum() < 4:
        return None
    matrix, _ = cv2.estimateAffinePartial2D(start[ok], moved[ok], method=cv2.RANSAC, ransacReprojThreshold=2.0)
    if matrix is None:
        return None
    matrix[:, 2] += offset - matrix[:, :2] @ offset  # region coordinates back to the frame's
    return matrix
