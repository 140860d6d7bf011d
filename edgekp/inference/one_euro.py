"""The One Euro filter (Casiez, Roussel, Vogel, CHI 2012) for a face's landmarks.

Each point is low-passed with a cutoff that rises with its speed: still points are smoothed hard
(jitter goes), moving points barely (little lag). Speeds are measured in face sizes per second, so
one setting fits a face 60 px wide and one 600 px wide. Causal: a frame's output uses only that
frame and earlier ones. ``reset`` forgets the past (a re-detected face starts fresh).
"""

from __future__ import annotations

import math

import numpy as np

from edgekp.config.video import SmoothingConfig


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff))
    return 1.0 / (1.0 + tau / dt)


def face_size(points: np.ndarray) -> float:
    """The landmark box's longer side in pixels (at least 1)."""
    finite = points[np.isfinite(points).all(axis=1)]
    return max(1.0, float((finite.max(0) - finite.min(0)).max())) if len(finite) else 1.0


class LandmarkFilter:
    def __init__(self, config: SmoothingConfig) -> None:
        self.config = config
        self.reset()

    def reset(self) -> None:
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    def __call__(self, points: np.ndarray, t: float) -> np.ndarray:
        """Filtered K x 2 points for raw ``points`` (image pixels) seen at time ``t`` seconds."""
        points = np.asarray(points, np.float64)
        if not self.config.enabled:
            return points
        if self._x is None or self._t is None or t <= self._t:
            self._x, self._dx, self._t = points.copy(), np.zeros_like(points), t
            return points
        dt = t - self._t
        size = face_size(points)
        # Speed in face sizes per second, itself low-passed so that one noisy frame cannot open the cutoff.
        raw_speed = (points - self._x) / dt / size
        self._dx = self._dx + _alpha(self.config.d_cutoff, dt) * (raw_speed - self._dx)
        speed = np.linalg.norm(self._dx, axis=1, keepdims=True)
        a = _alpha(self.config.min_cutoff + self.config.beta * speed, dt)
        self._x = self._x + a * (points - self._x)
        self._t = t
        return self._x.copy()
