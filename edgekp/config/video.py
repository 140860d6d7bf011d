"""Video settings of ``edgekp predict``: tracking and the One Euro landmark filter.

The CLI builds one :class:`VideoConfig` from its flags; a benchmark or a caller builds it directly.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from edgekp.config.base import StrictModel


class SmoothingConfig(StrictModel):
    """One Euro filter (Casiez et al., CHI 2012) on each landmark, speeds in face sizes per second."""

    enabled: bool = Field(True, description="smooth landmarks between frames (video only; photos are never smoothed)")
    min_cutoff: float = Field(0.3, gt=0, description="cutoff in Hz when the face is still: lower = steadier, more lag")
    beta: float = Field(
        8.0, ge=0, description="cutoff growth per face size per second of speed: higher = less lag in motion"
    )
    d_cutoff: float = Field(1.0, gt=0, description="cutoff in Hz of the speed estimate")
    follow_motion: bool = Field(
        True,
        description="smooth around a prediction that moves with the face: the similarity (shift, turn, zoom) "
        "from the last frame's raw landmarks to this frame's, applied to the last estimate",
    )
    motion_source: Literal["landmarks", "flow"] = Field(
        "flow",
        description="the motion followed: the similarity between consecutive raw landmarks, or the "
        "tracker's optical-flow similarity (tracking.motion_model 'flow'; else landmarks)",
    )
    deadzone: float = Field(
        0.006,
        ge=0,
        description="face motion under this many face sizes per frame counts as none (the raw landmarks' own noise)",
    )


class TrackingConfig(StrictModel):
    enabled: bool = Field(True, description="crop from the previous frame's landmarks; detect only when a face is lost")
    max_faces: int = Field(1, ge=1, description="at most this many faces per frame")
    presence_threshold: float | None = Field(
        None, gt=0, lt=1, description="drop a face whose presence probability falls below this (default: the model's)"
    )
    motion: bool = Field(
        True,
        description="move each tracked crop (and the filter's prediction) by the face region's "
        "image motion since the last frame (see motion_model)",
    )
    motion_model: Literal["shift", "flow"] = Field(
        "flow",
        description="how a tracked crop follows the face: 'shift', phase correlation of the face region "
        "(a shift only); 'flow', Lucas-Kanade flow of the inner landmarks fitted with a "
        "similarity (shift, turn, zoom)",
    )
    crop_gain: float = Field(
        0.1,
        gt=0,
        le=1,
        description="with the 'flow' model, each tracked crop is the last one carried by the face's "
        "motion, moved this fraction of the way to the box around the moved landmarks "
        "(1: re-cut around the landmarks every frame)",
    )
    motion_deadzone: float = Field(
        0.003, ge=0, description="'shift' model: a measured shift under this many crop sides moves no crop"
    )
    crop_from: Literal["raw", "smoothed"] = Field(
        "smoothed",
        description="landmarks the next crop is cut around: the model's own, or the smoothed ones (a "
        "steadier crop, so the model sees the still face the same way each frame)",
    )
    refine_tracked: int = Field(
        0, ge=0, le=3, description="extra landmark passes per tracked frame (re-crop from the first)"
    )
    refine_detected: int = Field(
        1, ge=0, le=3, description="extra landmark passes after a detection (its box is loose)"
    )
    min_overlap_new: float = Field(
        0.3, gt=0, le=1, description="a detection overlapping a tracked face this much (IoU) is that face"
    )


class VideoConfig(StrictModel):
    tracking: TrackingConfig = TrackingConfig()
    smoothing: SmoothingConfig = SmoothingConfig()
