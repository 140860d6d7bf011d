"""``edgekp bench``: accuracy, latency, size, params and FLOPs of every artifact of a run.

Every artifact sees the same faces, cropped once at the model's input size with the training crop
geometry. Accuracy is computed on all faces in batches; latency on one face (batch 1) per thread
count. Results are cached in ``<run>/bench/cache.json`` and written to ``<run>/bench/bench.json``
(schema: edgekp.bench.schema).
"""

from __future__ import annotations

import datetime as _dt
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgekp.bench.cache import BenchCache, cache_key
from edgekp.bench.runs import ArtifactRef, find_artifacts
from edgekp.bench.schema import Accuracy, BenchResult, BenchRow, Latency
from edgekp.errors import DataError, EdgeKPError, LineageError
from edgekp.files.atomic import atomic_write_json
from edgekp.lineage.run_dir import MODEL_FILE, RunDir
from edgekp.logs import get_logger
from edgekp.measure.hashes import data_hash
from edgekp.measure.timing import LatencySettings, time_call

log = get_logger(__name__)

BENCH_DIR = "bench"
BENCH_FILE = "bench.json"
SAMPLES_FILE = "samples.npz"
N_SAMPLES = 8
ACCURACY_KEY = (
    "accuracy-v3"  # v2: visibility, box NME, yaw bins; v3: box-normalized corners (older cached figures are not reused)
)


@dataclass(frozen=True)
class BenchOptions:
    data: str | tuple[str, ...] | None = None  # one dataset, or several scored together as one set
    holdout: bool = False  # keep only the faces the run's training held out (its validation photos)
    data_format: str = "auto"
    targets: tuple[str, ...] | None = None  # None: every target; "pytorch" is always kept as the baseline
    threads: tuple[int, ...] = (1,)
    latency: LatencySettings = field(default_factory=LatencySettings)
    max_faces: int | None = None
    yaw_threshold: float = 30.0
    peers: bool = False
    peers_cache: str | None = None
    command: str = ""


@dataclass(frozen=True)
class FaceSet:
    """The faces every artifact is scored on."""

    path: str  # what was scored: the dataset path(s), "(held-out faces)" when filtered
    hash: str
    records: list[Any]
    crops: Any  # CropSet at the model's input size
    inputs: np.ndarray  # N x 3 x S x S float32 in [0, 1]: what every Runner takes
    is_large: np.ndarray
    scheme: Any
    large_rule: str


def resolve_data(run: RunDir, data: str | tuple[str, ...] | None) -> list[tuple[Path, str]]:
    """--data (one or several), else the first validation set of the run's training recipe (rendered if synthetic)."""
    from edgekp.lineage.manifest import Manifest

    if data is not None:
        paths = [data] if isinstance(data, str) else list(data)
        found = []
        for item in paths:
            path = Path(item).expanduser()
            if not path.exists():
                raise DataError(f"dataset not found: {str(path)!r}")
            found.append((path, "auto"))
        return found
    recipe = Manifest.of(run).train_recipe()
    if recipe is None or not recipe.data.val:
        raise DataError(
            f"{str(run.path)!r}: its training recipe names no validation set; give --data PATH (with --holdout for a "
            "val_split)"
        )
    first = recipe.data.val[0]
    path = recipe.data.resolve(first.path)
    if first.format == "synthetic":
        from edgekp.data.synthetic_store import ensure_synthetic_dataset

        ensure_synthetic_dataset(path, int(first.n or 0), first.render_size, first.seed)
        return [(path, "synthetic")]
    if not path.exists():
        raise DataError(f"validation set of {str(run.path)!r} not found at {str(path)!r}; give --data PATH")
    return [(path, str(first.format))]


def _read_records(run: RunDir, datasets: list[tuple[Path, str]], scheme: Any, opts: BenchOptions) -> list[Any]:
    from edgekp.bench.holdout import holdout_sources
    from edgekp.data.readers import read_dataset

    records = []
    for path, fmt in datasets:
        dataset = read_dataset(path, format=fmt if opts.data_format == "auto" else opts.data_format, scheme=scheme)
        found = list(dataset.records)
        if opts.holdout:
            keep = holdout_sources(str(run.path), path)
            found = [r for r in found if r.source in keep]
        if not found:
            raise DataError(
                f"dataset {str(path)!r} holds no usable faces" + (" held out by this run" if opts.holdout else "")
            )
        records.extend(found)
    return records


def load_faces(
    run: RunDir, datasets: list[tuple[Path, str]], meta: dict[str, Any], opts: BenchOptions, cache_dir: Path
) -> FaceSet:
    from edgekp.config.data import BalanceSpec
    from edgekp.data.balance import is_large_pose
    from edgekp.data.crops import preload_crops
    from edgekp.data.schemes import get_scheme

    scheme = get_scheme(str(meta.get("scheme", "ibug68")))
    records = sorted(_read_records(run, datasets, scheme, opts), key=lambda r: r.source)[: opts.max_faces]
    if records[0].points.shape[0] != int(meta.get("num_points", 68)):
        raise DataError(
            f"the model predicts {meta.get('num_points')} points but {str(datasets[0][0])!r} has "
            f"{records[0].points.shape[0]} per face"
        )
    if "crop_margin" not in meta:  # no silent default: the wrong margin scores every face on the wrong crop
        raise LineageError(
            f"{str(run.path)!r}: its model records no crop_margin, so the crops it was trained on are unknown"
        )
    size, margin = int(meta["input_size"]), float(meta["crop_margin"])
    crops = preload_crops(records, size=size, margin=margin, cache_dir=cache_dir)
    digest = (
        "+".join(data_hash(p) for p, _ in datasets) + f"|{opts.holdout}|{opts.max_faces}|{size}|{margin}|{scheme.name}"
    )
    large = is_large_pose(np.nan_to_num(crops.poses), BalanceSpec(yaw_threshold=opts.yaw_threshold))
    inputs = np.ascontiguousarray(crops.images.transpose(0, 3, 1, 2), np.float32) / 255.0
    label = " + ".join(str(p) for p, _ in datasets) + (" (held-out faces)" if opts.holdout else "")
    return FaceSet(label, digest, records, crops, inputs, large, scheme, f"|yaw| > {opts.yaw_threshold:g} deg")


def score(pred: np.ndarray, faces: FaceSet, points: tuple[int, ...] | None = None, what: str = "all") -> dict[str, Any]:
    """Accuracy fields of the schema, from the one accuracy path (edgekp.bench.accuracy.score_crops,
    which eval uses too): inter-ocular and box NME over labelled points, by pose and |yaw| bin.
    ``points`` restricts scoring to a subset (peers with other schemes)."""
    from edgekp.bench.accuracy import score_crops

    fields = score_crops(pred, faces.crops, faces.scheme, faces.is_large, norm="inter_ocular", points=points)
    return {
        "data": str(faces.path),
        "data_hash": faces.hash,
        "large_pose_rule": faces.large_rule,
        "points": what,
        **fields,
    }


def _runner(ref: ArtifactRef, threads: int) -> Any:
    from edgekp.bench.predictor import load_predictor

    return load_predictor(ref.path, threads=threads).runner


def _predict(runner: Any, inputs: np.ndarray, batch: int = 64) -> np.ndarray:
    return np.concatenate([np.asarray(runner(inputs[i : i + batch]), np.float32) for i in range(0, len(inputs), batch)])


def _model_cost(run: RunDir) -> tuple[dict[str, Any], int | None, int | None]:
    """(meta, params, flops) of the run's own model; the exports share its params and FLOPs."""
    from edgekp.bench.predictor import load_torch_model
    from edgekp.models.cost import count_flops, count_parameters

    model, meta = load_torch_model(run.path / MODEL_FILE)
    try:
        return (
            meta | {"input_size": model.config.input_size, "num_points": model.config.num_points},
            count_parameters(model),
            count_flops(model),
        )
    except Exception as exc:
        log.warning("cannot count params/FLOPs of %s: %s", run.path, str(exc)[:120])
        return meta | {"input_size": model.config.input_size, "num_points": model.config.num_points}, None, None


def _latencies(ref: ArtifactRef, inputs: np.ndarray, opts: BenchOptions, cache: BenchCache) -> list[Latency]:
    out = []
    for t in opts.threads:
        key = cache_key(str(ref.sha256), None, t, "latency", asdict(opts.latency) | {"host": platform.node()})
        hit = cache.get(key)
        if hit is None:
            runner = _runner(ref, t)
            one = inputs[:1]
            with runner.session():  # the runner's thread setting holds for the whole timing loop
                hit = time_call(lambda runner=runner, one=one: runner(one), opts.latency) | {
                    "threads": t,
                    "runtime": getattr(runner, "name", ""),
                    "runtime_version": getattr(runner, "runtime_version", ""),
                }
            if ref.target == "pytorch":
                import torch

                hit["runtime_version"] = torch.__version__
            cache.put(key, hit)
        out.append(Latency.model_validate(hit))
    return out


def _bench_ref(
    ref: ArtifactRef,
    run: RunDir,
    faces: FaceSet,
    cost: tuple[dict, int | None, int | None],
    opts: BenchOptions,
    cache: BenchCache,
) -> BenchRow:
    from edgekp.export.base import get_target
    from edgekp.export.pipeline import artifact_size

    meta, params, flops = cost
    row = BenchRow(
        run=run.path.name,
        variant=run.kind,
        target=ref.target,
        precision=ref.precision,
        route=ref.route,
        status=ref.status,
        reason=ref.reason,
        params=params,
        flops=flops,
        num_points=int(meta["num_points"]),
        scheme=faces.scheme.name,
    )
    if ref.path is None:
        return row
    row.artifact, row.sha256 = str(ref.path.relative_to(run.path)), ref.sha256
    row.size_bytes = artifact_size(ref.path)
    if ref.target != "pytorch" and not get_target(ref.target).runs_here():
        row.notes.append(
            f"needs macOS: {ref.target} accuracy and latency can only be measured on a macOS host "
            "(here: converted and verified structurally)"
        )
        return row
    try:
        key = cache_key(str(ref.sha256), faces.hash, None, ACCURACY_KEY)
        acc = cache.get(key)
        if acc is None:
            acc = score(_predict(_runner(ref, opts.threads[0]), faces.inputs), faces)
            cache.put(key, acc)
        row.accuracy = Accuracy.model_validate(acc)
        row.latency = _latencies(ref, faces.inputs, opts, cache)
    except EdgeKPError as exc:
        row.status, row.reason = "skipped", f"cannot run here: {str(exc)[:200]}"
    return row


def _samples(run: RunDir, faces: FaceSet, out: Path) -> str:
    """A few crops with true and PyTorch-predicted points, for the report's sample grid."""
    runner = _runner(ArtifactRef("pytorch", "fp32", "eager", "ok", run.path / MODEL_FILE, None), 1)
    idx = np.linspace(0, len(faces.records) - 1, min(N_SAMPLES, len(faces.records))).astype(int)
    pred = _predict(runner, faces.inputs[idx])
    np.savez_compressed(
        out, images=faces.crops.images[idx], points=faces.crops.points[idx], pred=pred, large=faces.is_large[idx]
    )
    return out.name


def bench_run(run_dir: str | Path, opts: BenchOptions = BenchOptions()) -> BenchResult:
    from edgekp.measure.host import host_info

    run, refs = find_artifacts(run_dir)
    if opts.targets is not None:
        refs = [r for r in refs if r.target == "pytorch" or r.target in opts.targets]
    folder = run.path / BENCH_DIR
    folder.mkdir(parents=True, exist_ok=True)
    cache = BenchCache(folder)
    cost = _model_cost(run)
    faces = load_faces(run, resolve_data(run, opts.data), cost[0], opts, folder)
    rows = []
    for ref in refs:
        log.info("bench: %s %s", run.path.name, ref.label)
        rows.append(_bench_ref(ref, run, faces, cost, opts, cache))
    if opts.peers:
        from edgekp.bench.peers import bench_peers

        rows.extend(bench_peers(faces, opts, cache))
    result = BenchResult(
        run=str(run.path.resolve()),
        run_name=run.path.name,
        kind=run.kind,
        created=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        command=opts.command,
        host=host_info(),
        data=str(faces.path),
        threads=list(opts.threads),
        samples=_samples(run, faces, folder / SAMPLES_FILE),
        rows=rows,
    )
    atomic_write_json(folder / BENCH_FILE, result.model_dump(mode="json", by_alias=True))
    return result
