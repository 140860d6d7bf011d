"""Calibration sets: a committed definition (which faces, chosen how, with hashes), never the images.

A definition (YAML) names its source — datasets by path *relative to a data root given at use time*,
or the synthetic generator's parameters — plus the selection (count, pose balance, seed) and the
sha256 of every chosen image (for synthetic faces, of the rendered pixels). Loading re-reads the
faces and refuses, in one line, a set that is empty or whose hashes no longer match: int8 scales
and parity numbers computed on different faces would not be the numbers the definition promises.
The same definitions serve export (int8 calibration, parity) and QAT. It lives beside the data it reads
(crops, readers, the synthetic generator); export and compress call it with the model's crop margin.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import Field

from edgekp.config.base import StrictModel, validate
from edgekp.errors import ConfigError, DataError

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGED = Path(__file__).resolve().parents[1] / "shipped"  # holds calibration/synthetic_64.yaml


class CalibDataset(StrictModel):
    path: str = Field(description="dataset folder or file, relative to the data root given at use time")
    format: str = "auto"


class SyntheticSource(StrictModel):
    size: int = Field(160, ge=32, le=1024, description="rendered image size in pixels")
    seed: int = 0
    pool: int | None = Field(None, ge=1, description="faces rendered to choose from (None: exactly n)")


class CalibFace(StrictModel):
    source: str
    image: str | None = Field(None, description="image path relative to the data root (dataset sets)")
    sha256: str
    large_pose: bool | None = None


class CalibrationDef(StrictModel):
    kind: Literal["calibration"] = "calibration"
    version: Literal[1] = 1
    name: str
    source: Literal["dataset", "synthetic"]
    datasets: list[CalibDataset] = Field(default_factory=list)
    synthetic: SyntheticSource | None = None
    scheme: str = "ibug68"
    n: int = Field(ge=0)
    balanced: bool = False
    yaw_threshold: float = 30.0
    seed: int = 0
    margin: float = Field(0.25, ge=0, le=1, description="crop margin around the landmark box")
    faces: list[CalibFace] = Field(default_factory=list)
    excluded: int = Field(0, ge=0, description="faces kept out of the choice (a training run's held-out faces)")


@dataclass(frozen=True)
class CalibrationSet:
    """Faces cropped at the model's input size: images N x S x S x 3 uint8, points N x K x 2 normalized."""

    name: str
    path: Path
    images: np.ndarray
    points: np.ndarray
    large_pose: np.ndarray
    sources: list[str]
    definition: CalibrationDef

    def __len__(self) -> int:
        return len(self.images)

    def model_inputs(self) -> np.ndarray:
        """N x 3 x S x S float32 in [0, 1]: what every Runner takes."""
        return np.ascontiguousarray(self.images.transpose(0, 3, 1, 2), dtype=np.float32) / 255.0

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": str(self.path),
            "faces": len(self),
            "source": self.definition.source,
            "n_large_pose": int(self.large_pose.sum()),
            "balanced": self.definition.balanced,
        }


def resolve_definition(path: str | Path) -> Path:
    """A definition path as given, else relative to the repository (where the committed sets live), else
    the copy inside the package (``edgekp/shipped/calibration``): the default synthetic set must resolve
    from any directory and in a non-editable install, where the repository's calibration/ is absent."""
    p = Path(path).expanduser()
    if p.is_file() or p.is_absolute():
        return p
    for base in (REPO_ROOT, PACKAGED):
        fallback = base / p
        if fallback.is_file():
            return fallback
    return p


def synthetic_warning(path: str | Path) -> str | None:
    """One line for int8 calibrated on the synthetic set (the default): real faces calibrate better."""
    try:
        definition = read_definition(path)
    except DataError:
        return None  # the export itself reports a missing or broken definition
    if definition.source != "synthetic":
        return None
    return (
        f"int8 calibrated on synthetic faces ({definition.name}, needs no download); real faces calibrate better: "
        "--calib calibration/merlrav_300w_train_256.yaml --data-root DIR"
    )


def read_definition(path: str | Path) -> CalibrationDef:
    p = resolve_definition(path)
    if not p.is_file():
        raise DataError(f"calibration set definition not found: {str(path)!r} (build one with 'edgekp data calib')")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DataError(f"calibration set {str(p)!r} is not valid YAML ({getattr(exc, 'problem', exc)})") from None
    return validate(CalibrationDef, data, str(p))


def write_definition(definition: CalibrationDef, path: str | Path) -> Path:
    from edgekp.files.atomic import atomic_write_bytes

    p = Path(path)
    text = yaml.safe_dump(definition.model_dump(mode="json", exclude_none=True), sort_keys=False, width=120)
    atomic_write_bytes(p, text.encode())
    return p


def _pixels_sha(image: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(image, np.uint8).tobytes()).hexdigest()


def synthetic_records(n: int, size: int, seed: int) -> list[Any]:
    from edgekp.data.records import FaceRecord, Pose
    from edgekp.data.synthetic import render_synthetic

    images, points, poses = render_synthetic(n, size=size, seed=seed)
    return [
        FaceRecord(
            source=f"synthetic-{seed}-{i:06d}", points=points[i], array=images[i], pose=Pose(*map(float, poses[i]))
        )
        for i in range(n)
    ]


def record_sha(record: Any) -> str:
    from edgekp.files.hashes import sha256_file

    if record.array is not None:
        return _pixels_sha(record.array)
    return sha256_file(record.image)


def _poses(records: list[Any]) -> np.ndarray:
    from edgekp.data.pose import record_poses

    return record_poses(records)


def _large(poses: np.ndarray, yaw_threshold: float) -> np.ndarray:
    from edgekp.config.data import BalanceSpec
    from edgekp.data.balance import is_large_pose

    return is_large_pose(np.nan_to_num(poses), BalanceSpec(yaw_threshold=yaw_threshold))


def select(
    records: list[Any], n: int, *, seed: int, balanced: bool, yaw_threshold: float
) -> tuple[list[int], np.ndarray]:
    """Indices of n faces (half large-pose, half small-pose when balanced and possible), sorted."""
    if n > len(records):
        raise DataError(f"asked for {n} calibration faces but the source holds only {len(records)}")
    rng = np.random.default_rng(seed)
    large = _large(_poses(records), yaw_threshold)
    if not balanced:
        chosen = rng.choice(len(records), size=n, replace=False)
    else:
        big, small = np.flatnonzero(large), np.flatnonzero(~large)
        n_big = min(len(big), n // 2)
        n_small = n - n_big  # when large-pose faces run short, the rest come from small-pose ones
        if n_small > len(small):
            n_small, n_big = len(small), n - len(small)
        chosen = np.concatenate([rng.choice(big, n_big, replace=False), rng.choice(small, n_small, replace=False)])
    order = sorted(int(i) for i in chosen)
    return order, large[order]


def build_definition(
    name: str,
    *,
    n: int,
    seed: int = 0,
    balanced: bool = True,
    yaw_threshold: float = 30.0,
    datasets: list[str] | None = None,
    data_root: Path | None = None,
    synthetic: SyntheticSource | None = None,
    margin: float = 0.25,
    exclude: dict[str, set[str]] | None = None,
) -> CalibrationDef:
    """Choose the faces and hash them; dataset paths are stored relative to ``data_root``.

    ``exclude`` maps a dataset path (relative to the data root) to face sources never to choose:
    a training run's held-out validation faces, so calibration never sees the faces reports score."""
    from edgekp.data.readers import read_dataset

    if n < 1:
        raise DataError("a calibration set needs at least one face (--n)")
    if synthetic is not None:
        records = synthetic_records(synthetic.pool or n, synthetic.size, synthetic.seed)
        entries: list[CalibDataset] = []
        rel_images: list[str | None] = [None] * len(records)
    else:
        if not datasets or data_root is None:
            raise DataError("a dataset calibration set needs --data and a data root")
        root = data_root.resolve()
        records, rel_images, entries = [], [], []
        for ds in datasets:
            path = Path(ds).expanduser().resolve()
            try:
                rel = path.relative_to(root)
            except ValueError:
                raise DataError(f"dataset {ds!r} is not inside the data root {str(root)!r}; give --data-root") from None
            dataset = read_dataset(path)
            entries.append(CalibDataset(path=rel.as_posix(), format=dataset.format))
            skip = (exclude or {}).get(rel.as_posix(), set())
            for r in dataset.records:
                if r.source in skip:
                    continue
                records.append(r)
                rel_images.append(Path(r.image).resolve().relative_to(root).as_posix() if r.image is not None else None)
    index, large = select(records, n, seed=seed, balanced=balanced, yaw_threshold=yaw_threshold)
    faces = [
        CalibFace(source=records[i].source, image=rel_images[i], sha256=record_sha(records[i]), large_pose=bool(b))
        for i, b in zip(index, large, strict=True)
    ]
    return CalibrationDef(
        name=name,
        source="synthetic" if synthetic is not None else "dataset",
        datasets=entries,
        synthetic=synthetic,
        n=len(faces),
        balanced=balanced,
        yaw_threshold=yaw_threshold,
        seed=seed,
        margin=margin,
        faces=faces,
        excluded=sum(len(v) for v in (exclude or {}).values()),
    )


def _dataset_records(definition: CalibrationDef, data_root: Path | None, where: str) -> list[Any]:
    from edgekp.data.readers import read_dataset

    if data_root is None:
        raise DataError(f"calibration set {where} reads real faces: give the data root (--data-root DIR)")
    by_image: dict[str, Any] = {}
    for ds in definition.datasets:
        path = data_root / ds.path
        if not path.exists():
            raise DataError(f"calibration set {where}: dataset {str(path)!r} not found under the data root")
        for r in read_dataset(path, format=ds.format).records:
            if r.image is not None:
                by_image[Path(r.image).resolve().relative_to(data_root.resolve()).as_posix()] = r
    missing = [f.image for f in definition.faces if f.image not in by_image]
    if missing:
        raise DataError(f"calibration set {where}: {len(missing)} faces no longer exist (first: {missing[0]!r})")
    return [by_image[str(f.image)] for f in definition.faces]


def check_margin(definition: CalibrationDef, model_margin: float, where: str) -> None:
    """The set's faces must be cut as the model's were: another margin gives int8 scales and parity
    figures for crops the model never sees."""
    if abs(float(definition.margin) - float(model_margin)) > 1e-9:
        raise ConfigError(
            f"calibration set {where} crops with margin {definition.margin:g} but the model was trained with "
            f"crop margin {float(model_margin):g}; give a set defined with margin: {float(model_margin):g}"
        )


def load_calibration(
    def_path: str | Path, data_root: str | Path | None, size: int, model_margin: float | None = None
) -> CalibrationSet:
    """Re-read the defined faces, verify every hash, and crop them at ``size``; DataError on any mismatch.
    ``model_margin``: the model's crop margin, which the set's must equal (ConfigError, before any face is read)."""
    from edgekp.data.crops import preload_crops

    path = resolve_definition(def_path)
    definition = read_definition(path)
    where = repr(str(path))
    if model_margin is not None:
        check_margin(definition, model_margin, where)
    if not definition.faces:
        raise DataError(f"calibration set {where} is empty (no faces); rebuild it with 'edgekp data calib'")
    if definition.source == "synthetic":
        syn = definition.synthetic or SyntheticSource()
        rendered = synthetic_records(syn.pool or len(definition.faces), syn.size, syn.seed)
        by_source = {r.source: r for r in rendered}
        records = [by_source.get(f.source) for f in definition.faces]
        if any(r is None for r in records):
            raise DataError(f"calibration set {where} names synthetic faces its generator does not produce")
    else:
        root = Path(data_root).expanduser() if data_root is not None else None
        records = _dataset_records(definition, root, where)
    bad = [f.source for f, r in zip(definition.faces, records, strict=True) if record_sha(r) != f.sha256]
    if bad:
        raise DataError(
            f"calibration set {where}: {len(bad)} of {len(records)} faces no longer match their sha256 "
            f"(first: {bad[0]!r}); the images changed: rebuild the set with 'edgekp data calib'"
        )
    crops = preload_crops(records, size, margin=definition.margin)
    large = np.array([bool(f.large_pose) for f in definition.faces])
    return CalibrationSet(definition.name, path, crops.images, crops.points, large, list(crops.sources), definition)
