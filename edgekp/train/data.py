"""Turn a train recipe's data section into preloaded train/val crops with poses.

Faces are decoded and cropped once (design.md: this kept decoding out of the training loop);
each epoch then only draws indices (pose balance, dataset weights) and augments tensors. Every
split carries per-point visibility (0 no location, 1 occluded, 2 visible) beside the points; the
validation faces are grouped into named sets (the held-out split, each data.val entry), each
scored with its own normalization.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgekp.config.data import DatasetSpec, DataSpec
from edgekp.config.train import TrainRecipe
from edgekp.data.records import FaceRecord
from edgekp.data.schemes import Scheme, get_scheme
from edgekp.errors import DataError
from edgekp.logs import get_logger

log = get_logger(__name__)


@dataclass
class FaceArrays:
    """Preloaded crops of one split: images N x S x S x 3 uint8, points N x K x 2 in [0, 1]."""

    images: np.ndarray
    points: np.ndarray  # NaN where a point has no location
    poses: np.ndarray
    sources: list[str]
    dataset: np.ndarray  # index into the recipe's dataset list, per face
    visibility: np.ndarray | None = None  # N x K uint8; None: every finite point visible

    def __post_init__(self) -> None:
        if self.visibility is None:
            self.visibility = np.where(np.isfinite(self.points).all(axis=-1), 2, 0).astype(np.uint8)

    def __len__(self) -> int:
        return len(self.sources)

    def subset(self, index: np.ndarray) -> FaceArrays:
        return FaceArrays(
            self.images[index],
            self.points[index],
            self.poses[index],
            [self.sources[i] for i in index],
            self.dataset[index],
            self.visibility[index],  # type: ignore[index]
        )


@dataclass(frozen=True)
class ValSet:
    """A named group of validation faces (indices into TrainingData.val) scored with one normalization."""

    name: str
    norm: str
    index: np.ndarray


@dataclass
class TrainingData:
    train: FaceArrays
    val: FaceArrays
    scheme: Scheme
    dataset_weights: np.ndarray
    summary: dict[str, Any] = field(default_factory=dict)
    val_sets: list[ValSet] = field(default_factory=list)
    select: str | None = None  # the val set whose NME picks the checkpoint; None: all faces pooled
    dataset_names: list[str] = field(default_factory=list)  # per recipe dataset index (train, then val)


def _in_val(photo: str, fraction: float) -> bool:
    """Deterministic photo-level split: the same photo always falls on the same side."""
    digest = hashlib.sha256(photo.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def _read(
    spec: DatasetSpec,
    data: DataSpec,
    scheme: Scheme,
    skipped: list[dict[str, str]],
    notices: list[dict[str, str]] | None = None,
) -> list[FaceRecord]:
    from edgekp.data.readers import read_dataset

    path = data.resolve(spec.path)
    fmt = spec.format
    if fmt == "synthetic":
        from edgekp.data.synthetic_store import ensure_synthetic_dataset

        ensure_synthetic_dataset(path, n=spec.n or 0, size=spec.render_size, seed=spec.seed)
        fmt = "pts"
    if not path.exists():
        hint = "" if data.root else " (relative paths resolve against data.root: --set data.root=DIR)"
        raise DataError(f"dataset not found: {str(path)!r}{hint}")
    dataset = read_dataset(
        path, format=fmt, scheme=scheme, skip_bad=data.skip_bad, min_labelled=data.min_labelled_points
    )
    skipped.extend({"file": str(f), "reason": r} for f, r in dataset.skipped)
    if notices is not None:
        notices.extend({"file": str(f), "reason": r} for f, r in dataset.notices)
    records = list(dataset.records)
    if spec.max_faces is not None:
        records = records[: spec.max_faces]
    if not records:
        raise DataError(f"dataset {str(path)!r} holds no usable faces")
    return records


def _to_arrays(records: list[FaceRecord], dataset_ids: list[int], size: int, data: DataSpec) -> FaceArrays:
    from edgekp.data.crops import preload_crops

    crops = preload_crops(records, size=size, margin=data.crop.margin)
    return FaceArrays(
        images=crops.images,
        points=crops.points.astype(np.float32),
        poses=crops.poses.astype(np.float32),
        sources=list(crops.sources),
        dataset=np.asarray(dataset_ids, dtype=np.int64),
        visibility=crops.vis(),
    )


def _visibility_counts(arrays: FaceArrays) -> dict[str, int]:
    vis = arrays.visibility
    assert vis is not None
    return {
        "visible": int((vis == 2).sum()),
        "occluded": int((vis == 1).sum()),
        "unlabelled": int((vis == 0).sum()),
        "faces_with_unlabelled": int((vis == 0).any(axis=1).sum()),
    }


def build_training_data(recipe: TrainRecipe) -> TrainingData:
    from edgekp.data.balance import counts_by_dataset, yaw_bin_counts

    data, size = recipe.data, recipe.model.input_size
    scheme = get_scheme(data.scheme)
    if scheme.num_points != recipe.model.num_points:
        raise DataError(
            f"scheme {scheme.name!r} has {scheme.num_points} points but model.num_points is {recipe.model.num_points}"
        )
    if not data.train:
        raise DataError("the recipe lists no training data (data.train is empty)")
    skipped: list[dict[str, str]] = []
    notices: list[dict[str, str]] = []
    train_recs: list[FaceRecord] = []
    train_ids: list[int] = []
    val_recs: list[FaceRecord] = []
    val_ids: list[int] = []
    val_group: list[int] = []  # index into the val set list, per validation face
    holdout: dict[str, list[str]] = {}
    split = data.val_split if data.uses_split() else None
    for i, spec in enumerate(data.train):
        records = _read(spec, data, scheme, skipped, notices)
        splittable = split is not None and (not split.datasets or spec.path in split.datasets)
        for rec in records:
            key = rec.photo if split is not None and split.group_by == "photo" else rec.source
            to_val = splittable and _in_val(f"{spec.path}/{key}", split.fraction)  # type: ignore[union-attr]
            (val_recs if to_val else train_recs).append(rec)
            (val_ids if to_val else train_ids).append(i)
            if to_val:
                val_group.append(0)
                holdout.setdefault(spec.path, []).append(rec.source)
    first_val = 1 if split is not None else 0
    for j, spec in enumerate(data.val):
        records = _read(spec, data, scheme, skipped, notices)
        val_recs.extend(records)
        val_ids.extend([len(data.train) + j] * len(records))
        val_group.extend([first_val + j] * len(records))
    if not val_recs:
        raise DataError("no validation faces: give data.val or a data.val_split that covers some dataset")
    if split is not None and 0 not in val_group:
        raise DataError(
            f"the val_split {split.name!r} holds out no face (fraction {split.fraction}, datasets "
            f"{split.datasets or 'all'}); raise the fraction or list the datasets it should split"
        )
    log.info("reading crops: %d train faces, %d validation faces at %d px", len(train_recs), len(val_recs), size)
    train = _to_arrays(train_recs, train_ids, size, data)
    val = _to_arrays(val_recs, val_ids, size, data)
    groups = np.asarray(val_group)
    val_sets = [ValSet(name, norm, np.flatnonzero(groups == g)) for g, (name, norm) in enumerate(data.val_sets())]
    weights = np.array([s.weight for s in data.train] + [1.0] * len(data.val), dtype=np.float64)
    names = [s.path for s in data.train] + [s.label for s in data.val]
    summary = {
        "train_faces": len(train),
        "val_faces": len(val),
        "per_dataset": {
            s.path: {"train": int((train.dataset == i).sum()), "val": int((val.dataset == i).sum())}
            for i, s in enumerate(list(data.train) + list(data.val))
        },
        # Faces per |yaw| bin before balancing (pose: labels where the dataset has them, else estimated).
        "yaw_bins": {
            "train": counts_by_dataset(train.poses, train.dataset, names),
            "val": {v.name: yaw_bin_counts(val.poses[v.index]) for v in val_sets},
        },
        "visibility": {"train": _visibility_counts(train), "val": _visibility_counts(val)},
        "val_sets": [{"name": v.name, "norm": v.norm, "faces": len(v.index)} for v in val_sets],
        "select": data.select or "all validation faces",
        "val_photos_overlap_train": sorted({r.photo for r in val_recs} & {r.photo for r in train_recs})[:10]
        if split is not None and split.group_by == "photo"
        else [],
        "skipped": skipped,
        "notices": notices[:200],
        "notice_count": len(notices),
        # Faces held out of training, per dataset path: `edgekp eval --holdout` scores exactly these.
        "holdout": holdout,
    }
    return TrainingData(train, val, scheme, weights, summary, val_sets, data.select, names)


def holdout_of_recipe(recipe: TrainRecipe) -> dict[str, list[str]]:
    """The faces a recipe's val_split holds out, per dataset path, from annotations alone."""
    data, split = recipe.data, recipe.data.val_split
    if not data.uses_split() or split is None:
        return {}
    scheme = get_scheme(data.scheme)
    holdout: dict[str, list[str]] = {}
    for spec in data.train:
        if split.datasets and spec.path not in split.datasets:
            continue
        for rec in _read(spec, data, scheme, []):
            key = rec.photo if split.group_by == "photo" else rec.source
            if _in_val(f"{spec.path}/{key}", split.fraction):
                holdout.setdefault(spec.path, []).append(rec.source)
    return holdout


def weighted_pool(dataset: np.ndarray, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices for one epoch honouring per-dataset weights: weight 0.5 keeps a random half of
    that dataset's faces this epoch, weight 2 repeats each face twice."""
    pool = []
    for i, w in enumerate(weights):
        members = np.flatnonzero(dataset == i)
        if len(members) == 0:
            continue
        whole, frac = int(np.floor(w)), float(w - np.floor(w))
        pool.extend([members] * whole)
        if frac > 0:
            pool.append(rng.choice(members, size=int(round(frac * len(members))), replace=False))
    return np.concatenate(pool) if pool else np.zeros(0, dtype=np.int64)
