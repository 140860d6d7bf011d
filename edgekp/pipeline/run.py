"""``edgekp run``: the whole pipeline from one recipe, each stage a run directory under ``--out``.

    <out>/data    synthetic faces rendered (or real datasets checked) and hashed
    <out>/train   edgekp train             <out>/train/exports/<target>-<precision>[-route]
    <out>/prune   edgekp prune             <out>/prune/exports/...
    <out>/qat     edgekp qat               <out>/qat/exports/...
    <run>/bench   edgekp bench of each model stage (cached by hash)
    <out>/report  edgekp report over train, prune and qat, side by side

Every stage's recipe is resolved and validated before the first stage runs (edgekp.pipeline.plan);
the stages then call the library functions the verbs call (train, prune, qat, export_one,
bench_run, build_report). A stage is reused when its inputs' hash matches (edgekp.pipeline.stages);
an interrupted training or fine-tuning resumes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgekp.config.loader import dump_recipe, load_recipe
from edgekp.config.pipeline import PipelineRecipe
from edgekp.errors import EdgeKPError, MissingBackendError, NotBuiltError, UnsupportedOptionError
from edgekp.files.atomic import atomic_write_json
from edgekp.lineage.run_dir import RunDir
from edgekp.logs import get_logger
from edgekp.pipeline import stages
from edgekp.pipeline.plan import CompressPlan, PipelinePlan, plan_pipeline

log = get_logger(__name__)


@dataclass
class PipelineState:
    plan: PipelinePlan
    command: str
    timings: dict[str, float] = field(default_factory=dict)
    models: dict[str, Path] = field(default_factory=dict)  # stage -> run dir holding model.pt
    notes: list[str] = field(default_factory=list)

    @property
    def recipe(self) -> PipelineRecipe:
        return self.plan.recipe

    @property
    def out(self) -> Path:
        return self.plan.out

    @property
    def root(self) -> str | None:
        return self.plan.root


def stage_data(st: PipelineState, train_recipe: Any) -> str:
    """Render synthetic datasets once, check real ones exist; returns the data stage's hash."""
    from edgekp.data.synthetic_store import ensure_synthetic_dataset
    from edgekp.errors import DataError
    from edgekp.measure.hashes import data_hash

    folder = st.out / "data"
    specs = [*train_recipe.data.train, *train_recipe.data.val]
    digest = stages.inputs_hash("data", [s.model_dump(mode="json") for s in specs], [st.root])
    if stages.state(folder, digest) == "reuse":
        return stages.content_hash(folder) or digest
    stages.begin(folder, digest)
    run = RunDir.create(
        folder, "data", recipe={"root": st.root, "datasets": [s.model_dump(mode="json") for s in specs]}
    )
    hashes = {}
    for spec in specs:
        path = train_recipe.data.resolve(spec.path)
        if spec.format == "synthetic":
            ensure_synthetic_dataset(path, n=spec.n or 0, size=spec.render_size, seed=spec.seed)
        elif not path.exists():
            raise DataError(
                f"dataset {spec.path!r} not found at {str(path)!r}; give the data root with --set data.root=PATH"
            )
        hashes[spec.path] = data_hash(path)
    run.finish("ok", artifacts=hashes)
    stages.finish(folder, digest)
    return stages.content_hash(folder) or digest


def stage_train(st: PipelineState, train_recipe: Any, data_hash_: str) -> None:
    from edgekp.train.run import train

    folder = st.out / "train"
    digest = stages.inputs_hash("train", dump_recipe(train_recipe), [data_hash_])
    mode = stages.state(folder, digest)
    if mode != "reuse":
        stages.begin(folder, digest)
        train(train_recipe, folder, resume=mode == "resume" and (folder / "last.pt").is_file())
        stages.finish(folder, digest)
    st.models["train"] = folder


def stage_compress(st: PipelineState, stage: CompressPlan) -> None:
    from edgekp.compress.heads import prune
    from edgekp.compress.qat import qat

    name, spec = stage.name, stage.spec
    parent = st.models.get(spec.parent)
    if parent is None:
        st.notes.append(f"{name}: skipped, its parent stage {spec.parent!r} did not run")
        return
    folder = st.out / name
    digest = stages.inputs_hash(name, dump_recipe(stage.recipe), [stages.content_hash(parent)])
    mode = stages.state(folder, digest)
    if mode != "reuse":
        run = {"prune": prune, "qat": qat}[name]
        try:
            stages.begin(folder, digest)
            summary = run(stage.recipe, parent, folder, resume=mode == "resume" and (folder / "last.pt").is_file())
            log.info("%s: best validation NME %.4f after %s epochs", name, summary["best_val_nme"], summary["epochs"])
        except NotBuiltError as exc:
            st.notes.append(f"{name}: skipped ({exc})")
            log.warning("%s stage skipped: %s", name, exc)
            return
        stages.finish(folder, digest)
    st.models[name] = folder


def stage_export(st: PipelineState, name: str, folder: Path) -> None:
    from edgekp.export.base import get_target
    from edgekp.export.pipeline import ExportRequest, default_out, export_one, open_parent

    recipe, items = st.plan.export, st.plan.exports[name]
    parent = None
    skipped = []
    for item in items:
        req = ExportRequest(item.target, item.precision, item.route)
        target = get_target(item.target)
        route = item.route or target.capabilities.routes[0].name
        out = default_out(folder, target, item.precision, route)
        digest = stages.inputs_hash("export", [dump_recipe(recipe), req.__dict__], [stages.content_hash(folder)])
        if stages.state(out, digest, done=("ok", "failed")) == "reuse":
            continue
        try:
            parent = parent or open_parent(folder)
            stages.begin(out, digest)
            export_one(req, from_run=folder, recipe=recipe, out=out, parent=parent)
        except (MissingBackendError, UnsupportedOptionError) as exc:
            skipped.append({"target": item.target, "precision": item.precision, "route": route, "reason": str(exc)})
            log.warning("%s %s %s skipped: %s", name, item.target, item.precision, exc)
            continue
        except EdgeKPError as exc:  # recorded in the export run's manifest; the report shows it
            log.warning("%s %s %s failed: %s", name, item.target, item.precision, str(exc)[:300])
        stages.finish(out, digest)
    atomic_write_json(folder / "exports" / "skipped.json", skipped)


def stage_bench(st: PipelineState, name: str, folder: Path) -> None:
    from edgekp.bench.bench_run import BenchOptions, bench_run
    from edgekp.measure.timing import LatencySettings

    b = st.recipe.bench
    data = None
    if b.data is not None:
        data = str(Path(st.root) / b.data) if st.root and not Path(b.data).is_absolute() else b.data
    opts = BenchOptions(
        data=data,
        data_format=b.format,
        threads=tuple(b.threads),
        max_faces=b.max_faces,
        latency=LatencySettings(warmup=b.warmup, min_runs=b.min_runs, min_seconds=b.min_seconds),
        peers=b.peers and name == "train",
        peers_cache=b.peers_cache,
        command=st.command,
    )
    bench_run(folder, opts)


def _timed(st: PipelineState, name: str, fn: Any, *args: Any) -> Any:
    t0 = time.perf_counter()
    log.info("pipeline: stage %s", name)
    try:
        return fn(*args)
    finally:
        st.timings[name] = round(time.perf_counter() - t0, 1) + st.timings.get(name, 0.0)


def run_pipeline(recipe_path: str, overrides: list[str], out: str | None, command: str) -> dict[str, Any]:
    from edgekp.report.build import build_report

    recipe = load_recipe(recipe_path, overrides, expect=PipelineRecipe)
    out_dir = Path(out or f"runs/{recipe.name}")
    st = PipelineState(plan_pipeline(recipe, out_dir), command)  # every stage's recipe validated here, before any work
    out_dir.mkdir(parents=True, exist_ok=True)
    train_recipe = st.plan.train
    t_start = time.perf_counter()
    data_digest = _timed(st, "data", stage_data, st, train_recipe)
    _timed(st, "train", stage_train, st, train_recipe, data_digest)
    for stage in st.plan.compress:
        _timed(st, stage.name, stage_compress, st, stage)
    for name, folder in st.models.items():
        _timed(st, "export", stage_export, st, name, folder)
    for name, folder in st.models.items():
        _timed(st, "bench", stage_bench, st, name, folder)
    outcome = _timed(
        st,
        "report",
        lambda: build_report(
            list(st.models.values()),
            out_dir / "report",
            command=command,
            title=recipe.report.title,
            floors=recipe.report.floors,
            notes=st.notes,
        ),
    )
    summary = {
        "out": str(out_dir),
        "report": str(outcome.out / "report.md"),
        "stages": st.timings,
        "total_seconds": round(time.perf_counter() - t_start, 1),
        "notes": st.notes,
        "failed_rows": outcome.failed,
        **outcome.doc.summary,
    }
    atomic_write_json(out_dir / "pipeline.json", {"recipe": dump_recipe(recipe), "command": command, **summary})
    return summary
