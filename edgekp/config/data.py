"""Recipe sections that describe data: where faces come from, how they are cropped, balanced
and augmented."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from edgekp.config.base import StrictModel

DatasetFormat = Literal["auto", "pts", "aflw2000", "coco", "dlib_xml", "ljson", "synthetic"]


class DatasetSpec(StrictModel):
    """One dataset: a folder or annotation file, read by one format reader."""

    path: str = Field(description="folder or annotation file; relative paths resolve against data.root")
    format: DatasetFormat = "auto"
    weight: float = Field(1.0, gt=0, description="sampling weight relative to the other datasets")
    max_faces: int | None = Field(None, gt=0, description="use at most this many faces (first ones, sorted)")
    n: int | None = Field(None, gt=0, description="format synthetic: how many faces to render into path (once; reused after)")
    seed: int = Field(0, description="format synthetic: generator seed")
    render_size: int = Field(160, ge=32, le=1024, description="format synthetic: rendered image size in pixels")

    @model_validator(mode="after")
    def _synthetic_needs_n(self) -> DatasetSpec:
        if self.format == "synthetic" and self.n is None:
            raise ValueError("a synthetic dataset needs n: the number of faces to render")
        return self


class ValSplit(StrictModel):
    """Hold out part of the training faces for validation, grouped so one photo never sits on both sides."""

    fraction: float = Field(0.1, gt=0, lt=1)
    group_by: Literal["photo", "face"] = "photo"
    datasets: list[str] = Field(default_factory=list, description="only split these dataset paths (empty: all)")


class CropSpec(StrictModel):
    margin: float = Field(0.25, ge=0, le=1, description="extra border around the landmark box, per side, as a fraction of its size")
    jitter: float = Field(0.05, ge=0, le=0.5, description="random shift/scale of the training box, as a fraction of its size")


class DataSpec(StrictModel):
    root: str | None = Field(None, description="base folder for relative dataset paths (e.g. --set data.root=../shared/data)")
    scheme: str = Field("ibug68", description="landmark scheme key (see edgekp.data.schemes)")
    train: list[DatasetSpec] = Field(default_factory=list)
    val: list[DatasetSpec] = Field(default_factory=list, description="explicit validation sets; empty: use val_split")
    val_split: ValSplit | None = Field(default_factory=ValSplit)
    crop: CropSpec = Field(default_factory=CropSpec)
    skip_bad: bool = Field(False, description="log and skip unreadable faces instead of failing")

    def resolve(self, path: str) -> Path:
        p = Path(path).expanduser()
        if not p.is_absolute() and self.root is not None:
            p = Path(self.root).expanduser() / p
        return p


class BalanceSpec(StrictModel):
    """The patent's pose-balanced training set: |N_large - N_small| <= delta."""

    enabled: bool = True
    yaw_threshold: float | None = Field(30.0, gt=0, le=90)
    pitch_threshold: float | None = Field(None, gt=0, le=90)
    roll_threshold: float | None = Field(None, gt=0, le=180)
    strategy: Literal["oversample", "rotate", "undersample"] = "oversample"
    delta: float = Field(0.05, ge=0, description="allowed |N_large - N_small|: a count if >= 1, else a fraction of the total")

    @model_validator(mode="after")
    def _one_threshold(self) -> BalanceSpec:
        if self.enabled and not any(t is not None for t in (self.yaw_threshold, self.pitch_threshold, self.roll_threshold)):
            raise ValueError("balance needs at least one of yaw_threshold, pitch_threshold, roll_threshold")
        return self


class AugmentSpec(StrictModel):
    """Augmentation for the expanded copies (and, lightly, the originals)."""

    rotation_deg: float = Field(25.0, ge=0, le=180)
    scale: float = Field(0.15, ge=0, lt=1, description="max relative zoom in/out")
    shift: float = Field(0.08, ge=0, lt=0.5, description="max shift as a fraction of the crop")
    flip: float = Field(0.5, ge=0, le=1, description="probability of a horizontal flip with the scheme's pair swap")
    color: float = Field(0.3, ge=0, le=1, description="strength of brightness/contrast/saturation jitter")
    blur: float = Field(0.2, ge=0, le=1, description="probability of a Gaussian blur")
    noise: float = Field(0.2, ge=0, le=1, description="probability of additive Gaussian noise")
    occlusion: float = Field(0.3, ge=0, le=1, description="probability of a random occluding patch")
