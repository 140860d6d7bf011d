"""Recipe sections that describe data: where faces come from, how they are cropped, balanced
and augmented."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from edgekp.config.base import StrictModel

DatasetFormat = Literal["auto", "pts", "aflw2000", "coco", "dlib_xml", "ljson", "synthetic"]
NmeNorm = Literal["inter_ocular", "inter_pupil", "box"]


class DatasetSpec(StrictModel):
    """One dataset: a folder or annotation file, read by one format reader."""

    path: str = Field(description="folder or annotation file; relative paths resolve against data.root")
    format: DatasetFormat = "auto"
    weight: float = Field(1.0, gt=0, description="sampling weight relative to the other datasets")
    max_faces: int | None = Field(None, gt=0, description="use at most this many faces (first ones, sorted)")
    n: int | None = Field(
        None, gt=0, description="format synthetic: how many faces to render into path (once; reused after)"
    )
    seed: int = Field(0, description="format synthetic: generator seed")
    render_size: int = Field(160, ge=32, le=1024, description="format synthetic: rendered image size in pixels")
    name: str | None = Field(None, description="validation set: its name in logs, history and manifest (default: path)")
    norm: NmeNorm = Field("inter_ocular", description="validation set: NME normalization (box for sets with profiles)")

    @property
    def label(self) -> str:
        return self.name or self.path

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
    name: str = Field("holdout", description="the held-out faces' name as a validation set")
    norm: NmeNorm = Field("inter_ocular", description="NME normalization of the held-out faces")
    with_val: bool = Field(
        False,
        description="hold out this split even when data.val lists explicit validation sets "
        "(default: data.val replaces the split)",
    )


class CropSpec(StrictModel):
    margin: float = Field(
        0.25, ge=0, le=1, description="extra border around the landmark box, per side, as a fraction of its size"
    )
    jitter: float = Field(
        0.05, ge=0, le=0.5, description="random shift/scale of the training box, as a fraction of its size"
    )


class DataSpec(StrictModel):
    root: str | None = Field(
        None, description="base folder for relative dataset paths (e.g. --set data.root=../shared/data)"
    )
    scheme: str = Field("ibug68", description="landmark scheme key (see edgekp.data.schemes)")
    train: list[DatasetSpec] = Field(default_factory=list)
    val: list[DatasetSpec] = Field(default_factory=list, description="explicit validation sets; empty: use val_split")
    val_split: ValSplit | None = Field(default_factory=ValSplit)
    crop: CropSpec = Field(default_factory=CropSpec)
    skip_bad: bool = Field(False, description="log and skip unreadable faces instead of failing")
    min_labelled_points: int | None = Field(
        None,
        ge=1,
        description="leave out (and report) faces with fewer labelled points (default: a third of the scheme's)",
    )
    select: str | None = Field(
        None,
        description="the validation set (by name) whose overall NME picks the best checkpoint, drives early stopping "
        "and the plateau schedule; default: all validation faces pooled, which needs one normalization for all",
    )

    def val_sets(self) -> list[tuple[str, str]]:
        """(name, norm) of every validation set in order: the held-out split (when used), then data.val."""
        sets = [(self.val_split.name, self.val_split.norm)] if self.uses_split() and self.val_split is not None else []
        return sets + [(v.label, v.norm) for v in self.val]

    def uses_split(self) -> bool:
        return self.val_split is not None and (not self.val or self.val_split.with_val)

    @model_validator(mode="after")
    def _selection_is_defined(self) -> DataSpec:
        sets = self.val_sets()
        names = [n for n, _ in sets]
        if len(set(names)) != len(names):
            raise ValueError(f"validation set names repeat ({', '.join(names)}); give each a distinct name")
        if self.select is not None and self.select not in names:
            raise ValueError(
                f"data.select {self.select!r} names no validation set; they are: {', '.join(names) or 'none'}"
            )
        if self.select is None and len({n for _, n in sets}) > 1:
            raise ValueError(
                "validation sets use different normalizations, so their pooled NME means nothing; "
                f"set data.select to one of: {', '.join(names)}"
            )
        return self

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
    delta: float = Field(
        0.05, ge=0, description="allowed |N_large - N_small|: a count if >= 1, else a fraction of the total"
    )

    @model_validator(mode="after")
    def _one_threshold(self) -> BalanceSpec:
        if self.enabled and not any(
            t is not None for t in (self.yaw_threshold, self.pitch_threshold, self.roll_threshold)
        ):
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
