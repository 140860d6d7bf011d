"""The One Euro landmark filter: smooths a still face, follows a moving one without lag."""

from __future__ import annotations

import numpy as np

from edgekp.config.video import SmoothingConfig
from edgekp.inference.one_euro import LandmarkFilter, similarity


def _face(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(100, 220, (68, 2))


def test_still_face_jitter_is_smoothed():
    rng = np.random.default_rng(0)
    face = _face(rng)
    smooth = LandmarkFilter(SmoothingConfig())
    raw = [face + rng.normal(0, 0.8, face.shape) for _ in range(60)]
    out = [smooth(p, t / 30) for t, p in enumerate(raw)]
    step = lambda seq: np.mean([np.abs(b - a).mean() for a, b in zip(seq[30:-1], seq[31:])])  # noqa: E731
    assert step(out) < 0.25 * step(raw)


def test_moving_face_is_followed_without_lag():
    """A face that shifts, turns and zooms each frame: the motion-compensated filter keeps up, a plain
    low-pass filter (follow_motion off) lags it."""
    import cv2

    rng = np.random.default_rng(1)
    face = _face(rng)
    frames = []
    for t in range(40):
        m = cv2.getRotationMatrix2D((160.0, 160.0), 0.5 * t, 1 + 0.004 * t)
        m[:, 2] += (3.0 * t, -1.5 * t)
        frames.append(face @ m[:, :2].T + m[:, 2])
    follow, plain = LandmarkFilter(SmoothingConfig()), LandmarkFilter(SmoothingConfig(follow_motion=False))
    lag_follow = max(np.abs(follow(p, t / 30) - p).max() for t, p in enumerate(frames))
    lag_plain = max(np.abs(plain(p, t / 30) - p).max() for t, p in enumerate(frames))
    assert lag_follow < 0.05 and lag_plain > 2.0, (lag_follow, lag_plain)


def test_reset_forgets_the_past_and_similarity_is_exact():
    rng = np.random.default_rng(2)
    a, b = _face(rng), _face(rng)
    smooth = LandmarkFilter(SmoothingConfig())
    smooth(a, 0.0)
    smooth.reset()
    np.testing.assert_array_equal(smooth(b, 1 / 30), b)  # a re-detected face starts from its own points
    import cv2

    m = cv2.getRotationMatrix2D((10.0, 20.0), 7.0, 1.1)
    np.testing.assert_allclose(similarity(a, a @ m[:, :2].T + m[:, 2]), m, atol=1e-9)
