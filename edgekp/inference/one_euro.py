"""The One Euro filter (Casiez, Roussel, Vogel, CHI 2012) for a face's landmarks.

Each point is low-passed with a cutoff that rises with its speed: still points are smoothed hard
(jitter goes), moving points barely (little lag). Speeds are measured in face sizes per second, so
one setting fits a face 60 px wide and one 600 px wide. Causal: a frame's output uses only that
frame and earlier ones. ``reset`` forgets the past (a re-detected face starts fresh).

With ``follow_motion`` the filter runs in a motion-compensated frame: the similarity transform
(shift, roll, zoom) that takes the previous frame's raw landmarks to this frame's, fitted over all
of them, moves the previous estimate to a prediction, and the One Euro step smooths around that
prediction, its cutoff set by the speed the motion does not explain. A face carried by a pan or a
shaking hand is then followed without lag, while the points' own jitter around it is still
smoothed. Motion under ``deadzone`` face sizes per frame is the landmarks' own noise and is not followed.
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


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2 x 3 least-squares similarity (rotation, uniform scale, shift) taking ``src`` to ``dst``:
    closed form (complex-number regression), so every point counts and no sampling is involved."""
    a, b = src[:, 0] + 1j * src[:, 1], dst[:, 0] + 1j * dst[:, 1]
    ma, mb = a.mean(), b.mean()
    da = a - ma
    denom = float((da * da.conj()).real.sum())
    z = complex(((b - mb) * da.conj()).sum() / denom) if denom > 0 else 1.0 + 0j
    shift = mb - z * ma
    return np.array([[z.real, -z.imag, shift.real], [z.imag, z.real, shift.imag]])


class LandmarkFilter:
    def __init__(self, config: SmoothingConfig) -> None:
        self.config = config
        self.reset()

    def reset(self) -> None:
        self._raw: np.ndarray | None = None  # the previous raw points (for the motion fit)
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    def _prior(self, points: np.ndarray, size: float, measured: np.ndarray | None) -> np.ndarray:
        """The previous estimate moved by the face's motion since the previous frame (see the module doc):
        ``measured`` (2 x 3, from the image, e.g. optical flow) when the caller has it, else the
        similarity between the previous and these raw landmarks."""
        assert self._x is not None
        if not self.config.follow_motion or self._raw is None:
            return self._x
        good = np.isfinite(points).all(axis=1) & np.isfinite(self._raw).all(axis=1)
        if good.sum() < 3:
            return self._x
        matrix = measured if measured is not None else similarity(self._raw[good], points[good])
        motion = self._x @ matrix[:, :2].T + matrix[:, 2] - self._x
        magnitude = float(np.linalg.norm(motion, axis=1).mean())
        # A gate, not a shrink: motion past the deadzone is followed in full (shrinking every step
        # would leave a lag that builds up over a pan), motion inside it is the landmarks' own noise.
        return self._x + motion if magnitude > self.config.deadzone * size else self._x

    def __call__(self, points: np.ndarray, t: float, motion: np.ndarray | None = None) -> np.ndarray:
        """Filtered K x 2 points for raw ``points`` (image pixels) seen at time ``t`` seconds; ``motion``:
        the face's 2 x 3 image motion since the previous call, if measured."""
        points = np.asarray(points, np.float64)
        if not self.config.enabled:
            return points
        if self._x is None or self._t is None or t <= self._t:
            self._x, self._dx, self._t, self._raw = points.copy(), np.zeros_like(points), t, points.copy()
            return points
        dt = t - self._t
        size = face_size(points)
        prior = self._prior(points, size, motion)
        self._raw = points.copy()
        # Speed in face sizes per second, itself low-passed so that one noisy frame cannot open the cutoff.
        raw_speed = (points - prior) / dt / size
        self._dx = self._dx + _alpha(self.config.d_cutoff, dt) * (raw_speed - self._dx)
        speed = np.linalg.norm(self._dx, axis=1, keepdims=True)
        a = _alpha(self.config.min_cutoff + self.config.beta * speed, dt)
        self._x = prior + a * (points - prior)
        self._t = t
        return self._x.copy()
