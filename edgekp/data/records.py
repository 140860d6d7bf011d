"""The one record every reader yields, with per-point visibility."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Per-point visibility, COCO's v: the annotators' three cases (MERL-RAV uses all three).
UNLABELLED = 0  # self-occluded or not annotated: the point has no location (its coordinates are NaN)
OCCLUDED = 1  # externally occluded (hair, hand): a location the annotators estimated
VISIBLE = 2


@dataclass(frozen=True)
class Pose:
    """Head pose in degrees: yaw (left/right turn), pitch (up/down), roll (in-plane).

    An angle the dataset does not label is NaN (MERL-RAV labels yaw only); ``record_poses`` estimates it.
    """

    yaw: float
    pitch: float = math.nan
    roll: float = math.nan

    def as_array(self) -> np.ndarray:
        return np.array([self.yaw, self.pitch, self.roll], dtype=np.float32)


@dataclass(frozen=True, eq=False)
class FaceRecord:
    """One annotated face.

    points are K x 2 float32 (x, y) in 0-based pixel coordinates of the full image; ``image`` is a
    path, or ``array`` holds the decoded RGB uint8 image (H x W x 3) when it came from memory.
    ``visibility`` is K uint8 (UNLABELLED / OCCLUDED / VISIBLE); None means every point is visible.
    The record enforces one invariant: an unlabelled point's coordinates are NaN, whatever placeholder
    the file wrote (COCO writes 0, 0), so a consumer that forgets the mask gets NaN, not a wrong point.
    """

    source: str
    points: np.ndarray
    image: Path | None = None
    array: np.ndarray | None = None
    visibility: np.ndarray | None = None
    pose: Pose | None = None
    box: tuple[float, float, float, float] | None = None  # x, y, w, h in pixels

    def __post_init__(self) -> None:
        if self.visibility is None:
            return
        vis = np.asarray(self.visibility, dtype=np.uint8).reshape(-1)
        if len(vis) != len(self.points):
            raise ValueError(f"face {self.source!r}: {len(vis)} visibility flags for {len(self.points)} points")
        if (vis > VISIBLE).any():
            raise ValueError(f"face {self.source!r}: visibility must be 0, 1 or 2")
        points = np.array(self.points, dtype=np.float32, copy=True)
        points[vis == UNLABELLED] = np.nan
        object.__setattr__(self, "visibility", vis)
        object.__setattr__(self, "points", points)

    @property
    def labelled(self) -> np.ndarray:
        """K bool: points with a location (visible or occluded, finite coordinates)."""
        return np.isfinite(self.points).all(axis=1)

    @property
    def photo(self) -> str:
        """The source photo id: 300W names faces '<photo>_<n>', so faces of one photo share it."""
        stem = Path(self.source).name
        head, sep, tail = stem.rpartition("_")
        return head if sep and tail.isdigit() else stem


def visibility_of(record: FaceRecord) -> np.ndarray:
    """K uint8 visibility, VISIBLE everywhere for a record that carries none (but NaN points: UNLABELLED)."""
    if record.visibility is not None:
        return record.visibility
    vis = np.full(len(record.points), VISIBLE, np.uint8)
    vis[~record.labelled] = UNLABELLED
    return vis
