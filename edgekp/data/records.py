"""The one record every reader yields."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Pose:
    """Head pose in degrees: yaw (left/right turn), pitch (up/down), roll (in-plane)."""

    yaw: float
    pitch: float
    roll: float

    def as_array(self) -> np.ndarray:
        return np.array([self.yaw, self.pitch, self.roll], dtype=np.float32)


@dataclass(frozen=True, eq=False)
class FaceRecord:
    """One annotated face.

    points are K x 2 float32 (x, y) in 0-based pixel coordinates of the full image; ``image`` is a
    path, or ``array`` holds the decoded RGB uint8 image (H x W x 3) when it came from memory.
    """

    source: str
    points: np.ndarray
    image: Path | None = None
    array: np.ndarray | None = None
    visible: np.ndarray | None = None
    pose: Pose | None = None
    box: tuple[float, float, float, float] | None = None  # x, y, w, h in pixels

    @property
    def photo(self) -> str:
        """The source photo id: 300W names faces '<photo>_<n>', so faces of one photo share it."""
        stem = Path(self.source).name
        head, sep, tail = stem.rpartition("_")
        return head if sep and tail.isdigit() else stem
