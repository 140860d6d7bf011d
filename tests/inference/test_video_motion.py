"""The tracker's motion model: Lucas-Kanade flow of the inner landmarks, fitted with a similarity."""

from __future__ import annotations

import cv2
import numpy as np

from edgekp.inference.motion import points_motion
from video_fixtures import small_clip


def test_flow_recovers_a_known_shift_turn_and_zoom(shared_data):
    clip = small_clip(shared_data, still=1)
    frame, points = clip.frames[0], clip.points[0]
    centre = points.mean(0)
    truth = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), 4.0, 1.04)
    truth[:, 2] += (2.5, -1.5)
    moved = cv2.warpAffine(frame, truth, frame.shape[1::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in (frame, moved)]
    found = points_motion(grey[0], grey[1], points)
    assert found is not None
    where = lambda m: points @ m[:, :2].T + m[:, 2]  # noqa: E731
    error = np.linalg.norm(where(found) - where(truth), axis=1).mean()
    iod = np.linalg.norm(points[36] - points[45])
    assert error < 0.02 * iod, error  # within 2 % of the eye distance; no motion model is off by > 5 %
    still = points_motion(grey[0], grey[0], points)
    assert np.abs(where(still) - points).max() < 0.05
