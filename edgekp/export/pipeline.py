"""Everything cross-cutting, done once for every target, in four steps:

    plan      every refusal that needs no conversion (capability, QAT route, lineage, calibration,
              tolerances), and the metadata and spec the conversion gets
    convert   the target's converter (or its QAT route), timed, its size on disk
    validate  structure, embedded metadata, parity in the real runtime (or the target's stand-in)
    record    sidecar, manifest, and the failed/ folder when a check failed

A refused request costs nothing and leaves nothing behind. Errors keep the CLI's contract: what the
user can fix (a refused option, a failed parity check, a converter that cannot take this model) is an
EdgeKPError (one line, exit 2); anything else is a bug: recorded in the manifest, then re-raised as
it is (exit 1, traceback under -v).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgekp.config.export import ExportRecipe
from edgekp.errors import ConfigError, EdgeKPError, ExportValidationError, LineageError
from edgekp.export.base import ExportSpec, Route, Target, get_target
from edgekp.export.calibration import CalibrationSet, load_calibration
from edgekp.export.contract import check_embedded_contract, export_contract
from edgekp.export.metadata import build_metadata
from edgekp.export.parity import ParityReport, Tolerance, compare, compare_presence, raise_if_failed, summary
from edgekp.export.runners import Runner, TorchRunner, pixels
from edgekp.lineage.atomic import atomic_write_json
from edgekp.lineage.checkpoints import LoadedModel, load_run_model
from edgekp.lineage.hashes import sha256_file, sha256_json
from edgekp.lineage.run_dir import RunDir
from edgekp.lineage.sidecar import sidecar_path, write_sidecar
from edgekp.logs import get_logger

log = get_logger(__name__)

PARENT_KINDS = ("train", "prune", "qat")
FAILED = "failed"


@dataclass(frozen=True)
class ExportRequest:
    target: str
    precision: str
    route: str | None = None


@dataclass(frozen=True)
class Parent:
    """The run an export starts from and its model, loaded once for all of its exports."""

    run: RunDir
    loaded: LoadedModel

    @property
    def path(self) -> Path:
        return self.run.path


@dataclass(frozen=True)
class ExportPlan:
    request: ExportRequest
    target: Target
    route: Route
    parent: Parent
    spec: ExportSpec
    calibration: CalibrationSet
    parity_set: CalibrationSet
    tolerance: Tolerance
    out_dir: Path
    resolved: dict[str, Any]  # the export run's recipe, for its manifest
    scheme: Any
    threads: int

    @property
    def model(self) -> Any:
        return self.parent.loaded.model

    @property
    def quantized(self) -> bool:
        return self.parent.loaded.quantization is not None

    @property
    def label(self) -> str:
        return f"{self.target.name} {self.request.precision} ({self.route.name})"


@dataclass
class Converted:
    artifact: Path
    seconds: float
    size_bytes: int


@dataclass
class Validated:
    report: ParityReport
    structure: dict[str, Any] = field(default_factory=dict)
    embedded: dict[str, str] = field(default_factory=dict)


def default_out(from_run: Path, target: Target, precision: str, route: str) -> Path:
    """``<from>/exports/<target>-<precision>`` (plus ``-<route>`` when not the target's default route)."""
    default_route = target.capabilities.routes[0].name
    suffix = "" if route == default_route else f"-{route}"
    return from_run / "exports" / f"{target.name}-{precision}{suffix}"


def target_options(recipe: ExportRecipe, target: str) -> dict[str, Any]:
    return dict(getattr(recipe, target).model_dump(mode="json"))


def artifact_files(path: Path) -> list[Path]:
    files = [path]
    if path.suffix == ".xml" and path.with_suffix(".bin").is_file():
        files.append(path.with_suffix(".bin"))
    return files


def artifact_size(path: Path) -> int:
    """Bytes on disk: a folder (.mlpackage) summed, an OpenVINO .xml with its .bin."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return sum(p.stat().st_size for p in artifact_files(path))


def _hash(path: Path) -> str:
    if path.is_dir():  # .mlpackage: hash of its files' hashes, in a stable order
        return sha256_json({str(p.relative_to(path)): sha256_file(p) for p in sorted(path.rglob("*")) if p.is_file()})
    return sha256_file(path)


def open_parent(from_run: str | Path) -> Parent:
    """The parent run and its model (any checkpoint format); LineageError (one line) on anything wrong."""
    run = RunDir.open(from_run, expect_kinds=PARENT_KINDS)
    loaded = load_run_model(run.path)
    recipe = run.manifest.get("recipe") or {}
    declared = (recipe.get("model") or {}).get("num_points") if isinstance(recipe, dict) else None
    if isinstance(declared, int) and declared != loaded.model.config.num_points:
        raise LineageError(
            f"{str(run.path)!r}: model.pt has {loaded.model.config.num_points} points but the run's recipe says "
            f"{declared}; "
            "the checkpoint belongs to another run"
        )
    return Parent(run, loaded)


def _scheme(num_points: int, name: str | None) -> Any:
    from edgekp.data.schemes import get_scheme, scheme_for_points

    if name:
        scheme = get_scheme(name)
        return scheme if scheme.num_points == num_points else None
    return scheme_for_points(num_points)


def _check_calibration(calib: CalibrationSet, num_points: int, what: str) -> None:
    k = calib.points.shape[1]
    if k != num_points:
        raise LineageError(f"{what} set {calib.name!r} has {k} points per face but the model predicts {num_points}")


def select_route(
    request: ExportRequest, target: Target, parent_path: Path, loaded: LoadedModel, options: dict[str, Any]
) -> Route:
    """The route of a request: the QAT route of the model's quantizer, else the requested one; refusals here."""
    q = loaded.quantization
    if q is not None:
        if request.route is not None:
            raise EdgeKPError(
                f"{str(parent_path)!r} is a QAT run: it converts with its quantizer's route, not --route "
                f"{request.route}"
            )
        route = target.qat_route(q.quantizer, request.precision, source=repr(str(parent_path)), trained_for=q.target)
    else:
        route = target.check_supported(request.precision, request.route, options)
    target.check_available(route)
    return route


def plan_export(
    request: ExportRequest,
    *,
    parent: Parent,
    recipe: ExportRecipe,
    out: str | Path | None = None,
    calib: str | None = None,
    data_root: str | None = None,
) -> ExportPlan:
    """Every check that needs no conversion, then what the conversion needs."""
    target = get_target(request.target)
    options = target_options(recipe, target.name)
    route = select_route(request, target, parent.path, parent.loaded, options)
    model, meta = parent.loaded.model, parent.loaded.meta
    cfg = model.config
    size, k = int(cfg.input_size), int(cfg.num_points)
    if "crop_margin" not in meta:
        raise LineageError(
            f"{str(parent.path)!r}: its model.pt records no crop_margin; the crops a phone app must cut are unknown"
        )

    root = data_root or recipe.data_root
    calib_def = calib or recipe.calibration
    calibration = load_calibration(calib_def, root, size)
    _check_calibration(calibration, k, "calibration")
    parity_set = calibration if recipe.parity in (None, calib_def) else load_calibration(recipe.parity, root, size)
    _check_calibration(parity_set, k, "parity")
    if len(parity_set) < recipe.parity_min_faces:
        raise EdgeKPError(
            f"parity set {parity_set.name!r} has {len(parity_set)} faces; at least {recipe.parity_min_faces} are needed"
        )
    tol = getattr(recipe.tolerances, request.precision)

    out_dir = Path(out) if out is not None else default_out(parent.path, target, request.precision, route.name)
    scheme = _scheme(k, meta.get("scheme") if isinstance(meta.get("scheme"), str) else None)
    # QAT routes convert the fake-quantized graph as trained: NCHW float in.
    layout, dtype = (
        ("NCHW", "float32")
        if parent.loaded.quantization is not None
        else target.input_form(route, request.precision, options)
    )
    source_hash = sha256_file(parent.loaded.path)
    metadata = build_metadata(
        target=target.name,
        precision=request.precision,
        route=route.name,
        input_size=size,
        num_points=k,
        scheme=getattr(scheme, "name", None),
        layout=layout,
        crop_margin=float(meta["crop_margin"]),
        source_run=str(parent.path.resolve()),
        source_hash=source_hash,
        model_name=str(getattr(model, "variant", "custom")),
        mean=tuple(cfg.mean),
        std=tuple(cfg.std),
        options=options if request.precision in target.capabilities.metadata_options else {},
        input_dtype=dtype,
    )
    if parent.loaded.quantization is not None:
        metadata["qat_quantizer"] = parent.loaded.quantization.quantizer
    contract = export_contract(model, metadata, scheme, layout, dtype, float(meta["crop_margin"]), source_hash)
    spec = ExportSpec(
        size,
        k,
        request.precision,
        route.name,
        getattr(scheme, "name", None),
        options,
        metadata,
        layout,  # type: ignore[arg-type]
        dtype,
        contract,
    )
    resolved = recipe.model_dump(mode="json") | {
        "exports": [request.__dict__],
        "calibration": calib_def,
        "data_root": root,
    }
    return ExportPlan(
        request,
        target,
        route,
        parent,
        spec,
        calibration,
        parity_set,
        Tolerance(tol.max_abs, tol.nme_rel),
        out_dir,
        resolved,
        scheme,
        recipe.threads,
    )


def convert(plan: ExportPlan) -> Converted:
    """The target's conversion; a converter that cannot take this model is a one-line ExportValidationError."""
    calib = None
    if plan.spec.precision in plan.route.calibrated:
        calib = plan.calibration.model_inputs()
    t0 = time.perf_counter()
    try:
        if plan.quantized:
            artifact = plan.target.convert_qat(plan.model, plan.spec, plan.out_dir)
        else:
            # inference_form: BatchNorm token norms folded into the next Linear (models/norms.py).
            model = plan.model.inference_form() if hasattr(plan.model, "inference_form") else plan.model
            artifact = plan.target.convert(model, plan.spec, calib, plan.out_dir)
    except EdgeKPError:
        raise
    except Exception as exc:
        first = str(exc).strip().splitlines()[0][:240] if str(exc).strip() else type(exc).__name__
        raise ExportValidationError(f"{plan.label} conversion failed: {type(exc).__name__}: {first}") from exc
    seconds = time.perf_counter() - t0
    size_bytes = artifact_size(artifact)
    log.info("%s: %s, %.1f KB, converted in %.1f s", plan.target.name, artifact.name, size_bytes / 1024, seconds)
    return Converted(artifact, seconds, size_bytes)


def _artifact_runner(plan: ExportPlan, artifact: Path) -> tuple[Runner | None, bool]:
    """(runner, estimated): the real runtime when it runs here, else the target's stand-in."""
    if plan.target.runs_here():
        return plan.target.load_runner(artifact, plan.threads), False
    return plan.target.reference_runner(plan.model, plan.spec, artifact), True


def validate(plan: ExportPlan, converted: Converted, report: ParityReport) -> Validated:
    """Structure, embedded metadata and parity; findings go into ``report`` (nothing raised for a failed check)."""
    artifact = converted.artifact
    structure = plan.target.verify(artifact, plan.spec)
    report.problems.extend(structure.get("problems", []))
    embedded = plan.target.embedded_metadata(artifact)
    if embedded and embedded.get("num_points") != str(plan.spec.num_points):
        report.problems.append("embedded metadata does not match the export (num_points)")
    report.problems.extend(check_embedded_contract(plan.target, artifact, plan.spec))
    # The reference runs at the process's thread setting (recorded in the manifest's host info).
    reference = TorchRunner(plan.model)
    runner, estimated = _artifact_runner(plan, artifact)
    report.estimated = estimated
    report.note = structure.get("note", "")
    # The same pixels to both: an artifact taking uint8 sees round(x * 255), so torch sees that / 255.
    inputs = plan.parity_set.model_inputs()
    if plan.spec.input_dtype == "uint8":
        inputs = pixels(inputs).astype(np.float32) / 255.0
    torch_pred = reference(inputs)
    if runner is None:
        report.runtime = "none (structural checks only)"
    else:
        report.runtime = runner.name
        compare(torch_pred, runner(inputs), plan.parity_set.points, plan.scheme, plan.tolerance, report)
        compare_presence(reference.presence(inputs), runner.presence(inputs), plan.tolerance, report)
    return Validated(report, structure, embedded)


def _move_to_failed(out: Path, artifact: Path | None, report: dict[str, Any]) -> Path:
    failed = out / FAILED
    failed.mkdir(parents=True, exist_ok=True)
    if artifact is not None:
        for path in [*artifact_files(artifact), sidecar_path(artifact)]:
            if path.exists():
                dest = failed / path.name
                if dest.exists():
                    shutil.rmtree(dest) if dest.is_dir() else dest.unlink()
                shutil.move(str(path), str(dest))
    atomic_write_json(failed / "parity_report.json", report)
    return failed


def record(plan: ExportPlan, run: RunDir, converted: Converted, checked: Validated) -> dict[str, Any]:
    """Sidecar and manifest; a failed parity check keeps the artifact in failed/ and raises one line."""
    report, artifact = checked.report, converted.artifact
    entry = {
        "artifact": artifact.name,
        "size_bytes": converted.size_bytes,
        "convert_seconds": round(converted.seconds, 3),
        "sha256": _hash(artifact),
        "calibration": plan.calibration.describe(),
        "parity_set": plan.parity_set.describe(),
        "parity": report.to_dict(),
        "structure": checked.structure,
        "embedded_metadata": bool(checked.embedded),
        "contract": plan.spec.contract,
    }
    write_sidecar(artifact, plan.spec.metadata, entry)
    if not report.passed:
        failed = _move_to_failed(plan.out_dir, artifact, entry)
        run.finish("failed", parity=report.to_dict(), failed_dir=str(failed))
        try:
            raise_if_failed([report])
        except ExportValidationError as exc:
            raise ExportValidationError(f"{exc} (artifact and report kept in {failed})") from None
    # Delegate readiness (TFLite) and MIL ops with precisions (CoreML) go into the manifest as well.
    readiness = {k: checked.structure[k] for k in ("delegates", "mil_ops", "placement") if k in checked.structure}
    run.finish(
        "ok",
        artifacts={artifact.name: entry["sha256"]},
        parity=report.to_dict(),
        size_bytes=converted.size_bytes,
        convert_seconds=entry["convert_seconds"],
        **readiness,
    )
    log.info("parity: %s", summary(report))
    if report.estimated:
        log.warning("%s", report.note or f"{plan.target.name}: numerics estimated, not measured on the target runtime")
    return {
        **entry,
        "out": str(plan.out_dir),
        "artifact": str(artifact),
        "sidecar": str(sidecar_path(artifact)),
        "summary": summary(report),
    }


def export_one(
    request: ExportRequest,
    *,
    from_run: str | Path,
    recipe: ExportRecipe,
    out: str | Path | None = None,
    calib: str | None = None,
    data_root: str | None = None,
    parent: Parent | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Export one target/precision/route; returns the result summary; raises EdgeKPError on failure.
    An export already in the folder is replaced only with ``force``."""
    if parent is None:  # the cheap refusals (target, route, QAT pair) come before the model loads
        check_request(request, from_run, recipe)
        parent = open_parent(from_run)
    plan = plan_export(request, parent=parent, recipe=recipe, out=out, calib=calib, data_root=data_root)
    existing = plan.out_dir / plan.target.artifact_name("model")
    if existing.exists() and not force:
        raise ConfigError(
            f"{str(plan.out_dir)!r} already holds an export ({existing.name}); give --force to replace it, "
            "or --out another folder"
        )
    run = RunDir.create(plan.out_dir, "export", recipe=plan.resolved, parent=parent.run, threads=recipe.threads)
    if (plan.out_dir / FAILED).exists():
        shutil.rmtree(plan.out_dir / FAILED)
    report = ParityReport(
        plan.target.name,
        request.precision,
        plan.route.name,
        len(plan.parity_set),
        "torch",
        "",
        False,
        face_set=plan.parity_set.name,
    )
    converted: Converted | None = None
    try:
        converted = convert(plan)
        checked = validate(plan, converted, report)
    except BaseException as exc:
        # Recorded either way (the manifest says failed, the artifact goes to failed/); a user error
        # propagates as the one line it is, anything else as the bug it is, traceback intact.
        message = (
            str(exc)
            if isinstance(exc, EdgeKPError)
            else f"{plan.label} checks crashed: {type(exc).__name__}: {str(exc)[:240]}"
        )
        if message not in report.problems:
            report.problems.append(message)
        _move_to_failed(plan.out_dir, converted.artifact if converted else None, report.to_dict())
        run.finish("failed", error=message, parity=report.to_dict())
        raise
    return record(plan, run, converted, checked)


def check_request(request: ExportRequest, from_run: str | Path, recipe: ExportRecipe) -> None:
    """Refuse an impossible request from the run's manifest alone (no model load): target, route, QAT pair."""
    run = RunDir.open(from_run, expect_kinds=PARENT_KINDS)
    target = get_target(request.target)
    if run.kind == "qat":
        r = run.manifest.get("recipe") or {}
        target.qat_route(
            str(r.get("quantizer")), request.precision, source=repr(str(run.path)), trained_for=str(r.get("target"))
        )
    else:
        target.check_supported(request.precision, request.route, target_options(recipe, target.name))


def export_many(requests: list[ExportRequest], **kwargs: Any) -> list[dict[str, Any]]:
    """Export each request; all failures are gathered and raised once at the end."""
    for req in requests:  # a QAT run refuses other targets before its model loads
        check_request(req, kwargs["from_run"], kwargs["recipe"])
    parent = open_parent(kwargs["from_run"])
    results, errors = [], []
    for req in requests:
        try:
            results.append(export_one(req, parent=parent, **kwargs))
        except EdgeKPError as exc:
            errors.append(f"{req.target} {req.precision}: {exc}")
    if errors:
        raise ExportValidationError(f"{len(errors)} of {len(requests)} exports failed: " + " | ".join(errors))
    return results
