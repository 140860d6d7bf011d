"""Everything cross-cutting, done once for every target: capability and lineage checks, calibration,
conversion timing and size, metadata (embedded and sidecar), structural checks, parity, the failed/
folder, and the export run's manifest.

Order matters: every check that needs no conversion runs before any conversion, so a refused
request costs nothing and leaves nothing behind.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgekp.artifacts import RunDir, atomic_write_json, sha256_file
from edgekp.config.export import ExportRecipe
from edgekp.errors import EdgeKPError, ExportValidationError, LineageError
from edgekp.export.base import ExportSpec, Runner, Target, TorchRunner, get_target
from edgekp.export.calibration import CalibrationSet, load_calibration
from edgekp.export.metadata import build_metadata, sidecar_path, write_sidecar
from edgekp.export.parity import ParityReport, Tolerance, compare, raise_if_failed, summary
from edgekp.logs import get_logger

log = get_logger(__name__)

PARENT_KINDS = ("train", "prune", "qat")
FAILED = "failed"


@dataclass(frozen=True)
class ExportRequest:
    target: str
    precision: str
    route: str | None = None


def default_out(from_run: Path, target: Target, precision: str, route: str) -> Path:
    """``<from>/exports/<target>-<precision>`` (plus ``-<route>`` when not the target's default route)."""
    default_route = target.capabilities.routes[0].name
    suffix = "" if route == default_route else f"-{route}"
    return from_run / "exports" / f"{target.name}-{precision}{suffix}"


def target_options(recipe: ExportRecipe, target: str) -> dict[str, Any]:
    return dict(getattr(recipe, target).model_dump(mode="json"))


def artifact_size(path: Path) -> int:
    """Bytes on disk: a folder (.mlpackage) summed, an OpenVINO .xml with its .bin."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    size = path.stat().st_size
    if path.suffix == ".xml" and path.with_suffix(".bin").is_file():
        size += path.with_suffix(".bin").stat().st_size
    return size


def artifact_files(path: Path) -> list[Path]:
    files = [path]
    if path.suffix == ".xml" and path.with_suffix(".bin").is_file():
        files.append(path.with_suffix(".bin"))
    return files


def _hash(path: Path) -> str:
    if path.is_dir():  # .mlpackage: hash of its files' hashes, in a stable order
        from edgekp.artifacts import sha256_json

        return sha256_json({str(p.relative_to(path)): sha256_file(p) for p in sorted(path.rglob("*")) if p.is_file()})
    return sha256_file(path)


def open_parent(from_run: str | Path) -> tuple[RunDir, Any, dict[str, Any]]:
    """The parent run, its model and the model's meta; LineageError (one line) on anything wrong."""
    from edgekp.models.io import load_model_from_run

    parent = RunDir.open(from_run, expect_kinds=PARENT_KINDS)
    if parent.kind == "qat":  # the fake-quantized model, rebuilt by its quantizer (edgekp.compress.qat)
        from edgekp.compress.qat import load_qat_model

        model, meta, _ = load_qat_model(parent.path)
    else:
        model, meta = load_model_from_run(parent.path)
    recipe = parent.manifest.get("recipe") or {}
    declared = (recipe.get("model") or {}).get("num_points") if isinstance(recipe, dict) else None
    if isinstance(declared, int) and declared != model.config.num_points:
        raise LineageError(
            f"{str(parent.path)!r}: model.pt has {model.config.num_points} points but the run's recipe says {declared}; "
            "the checkpoint belongs to another run"
        )
    return parent, model.eval(), meta


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


def _artifact_runner(target: Target, model: Any, spec: ExportSpec, artifact: Path, threads: int) -> tuple[Runner | None, bool]:
    """(runner, estimated): the real runtime when it runs here, else the target's stand-in."""
    if target.runs_here():
        return target.load_runner(artifact, threads), False
    return target.reference_runner(model, spec, artifact), True


def export_one(
    request: ExportRequest,
    *,
    from_run: str | Path,
    recipe: ExportRecipe,
    out: str | Path | None = None,
    calib: str | None = None,
    data_root: str | None = None,
    parent_bundle: tuple[RunDir, Any, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Export one target/precision/route; returns the result summary; raises EdgeKPError on failure."""
    target = get_target(request.target)
    options = target_options(recipe, target.name)
    # QAT runs convert with their quantizer's own route (edgekp.compress.qat_export), and only to its target.
    from edgekp.compress.qat_export import qat_conversion

    qat = qat_conversion(parent_bundle[0].path if parent_bundle else from_run, target.name, request.precision)
    if qat is not None:
        route = qat.route
    else:
        route = target.check_supported(request.precision, request.route, options)  # refusal before any work
        target.check_available(route.name)
    parent, model, meta = parent_bundle or open_parent(from_run)
    cfg = model.config
    size, k = int(cfg.input_size), int(cfg.num_points)

    root = data_root or recipe.data_root
    calib_def = calib or recipe.calibration
    calibration = load_calibration(calib_def, root, size)
    _check_calibration(calibration, k, "calibration")
    parity_set = calibration if recipe.parity in (None, calib_def) else load_calibration(recipe.parity, root, size)
    _check_calibration(parity_set, k, "parity")
    if len(parity_set) < recipe.parity_min_faces:
        raise EdgeKPError(f"parity set {parity_set.name!r} has {len(parity_set)} faces; at least {recipe.parity_min_faces} are needed")

    out_dir = Path(out) if out is not None else default_out(parent.path, target, request.precision, route.name)
    scheme = _scheme(k, meta.get("scheme") if isinstance(meta.get("scheme"), str) else None)
    metadata = build_metadata(
        target=target.name, precision=request.precision, route=route.name, input_size=size, num_points=k,
        scheme=getattr(scheme, "name", None), layout="NHWC" if route.name == "tf" else target.capabilities.layout,
        source_run=str(parent.path.resolve()), source_hash=sha256_file(parent.path / "model.pt"),
        model_name=str(getattr(model, "variant", "custom")), mean=tuple(cfg.mean), std=tuple(cfg.std),
        options=options if request.precision == "int8" or target.name == "coreml" else {},
    )
    spec = ExportSpec(size, k, request.precision, route.name, getattr(scheme, "name", None), options, metadata)
    resolved = recipe.model_dump(mode="json") | {"exports": [request.__dict__], "calibration": calib_def, "data_root": root}
    run = RunDir.create(out_dir, "export", recipe=resolved, parent=parent, threads=recipe.threads)
    for stale in (out_dir / FAILED,):
        if stale.exists():
            shutil.rmtree(stale)

    report = ParityReport(target.name, request.precision, route.name, len(parity_set), "torch", "", False)
    artifact: Path | None = None
    inputs = parity_set.model_inputs()
    calib_inputs = calibration.model_inputs() if route.calibrated and request.precision in route.calibrated else None
    try:
        t0 = time.perf_counter()
        try:
            artifact = (qat.convert if qat is not None else target.convert)(model, spec, calib_inputs, out_dir)
        except EdgeKPError:
            raise
        except Exception as exc:  # noqa: BLE001 - converters raise anything; the user gets one line
            first = str(exc).strip().splitlines()[0][:240] if str(exc).strip() else type(exc).__name__
            raise ExportValidationError(f"{target.name} {request.precision} ({route.name}) conversion failed: {type(exc).__name__}: {first}") from exc
        seconds = time.perf_counter() - t0
        size_bytes = artifact_size(artifact)
        log.info("%s: %s, %.1f KB, converted in %.1f s", target.name, artifact.name, size_bytes / 1024, seconds)

        structure = target.verify(artifact, spec)
        report.problems.extend(structure.get("problems", []))
        embedded = target.embedded_metadata(artifact)
        if embedded and embedded.get("num_points") != str(k):
            report.problems.append("embedded metadata does not match the export (num_points)")
        reference = TorchRunner(model, threads=recipe.threads)
        runner, estimated = _artifact_runner(target, model, spec, artifact, recipe.threads)
        report.estimated = estimated
        report.note = structure.get("note", "")
        torch_pred = reference(inputs)
        if runner is None:
            report.runtime = "none (structural checks only)"
        else:
            report.runtime = runner.name
            tol = getattr(recipe.tolerances, request.precision)
            compare(torch_pred, runner(inputs), parity_set.points, scheme, Tolerance(tol.max_abs, tol.nme_rel), report)
        record = {
            "artifact": artifact.name, "size_bytes": size_bytes, "convert_seconds": round(seconds, 3),
            "sha256": _hash(artifact), "calibration": calibration.describe(), "parity_set": parity_set.describe(),
            "parity": report.to_dict(), "structure": structure, "embedded_metadata": bool(embedded),
        }
        write_sidecar(artifact, metadata, record)
    except Exception as exc:  # noqa: BLE001 - a failed check fails the export: recorded, kept in failed/, one line
        if not isinstance(exc, EdgeKPError):
            first = str(exc).strip().splitlines()[0][:240] if str(exc).strip() else ""
            exc = ExportValidationError(f"{target.name} {request.precision} ({route.name}) checks failed: {type(exc).__name__}: {first}")
        if str(exc) not in report.problems:
            report.problems.append(str(exc))
        _move_to_failed(out_dir, artifact, report.to_dict())
        run.finish("failed", error=str(exc), parity=report.to_dict())
        raise exc from None
    if not report.passed:
        failed = _move_to_failed(out_dir, artifact, record)
        run.finish("failed", parity=report.to_dict(), failed_dir=str(failed))
        try:
            raise_if_failed([report])
        except ExportValidationError as exc:
            raise ExportValidationError(f"{exc} (artifact and report kept in {failed})") from None
    run.finish("ok", artifacts={artifact.name: record["sha256"]}, parity=report.to_dict(),
               size_bytes=size_bytes, convert_seconds=record["convert_seconds"])
    log.info("parity: %s", summary(report))
    if report.estimated:
        log.warning("%s", report.note or f"{target.name}: numerics estimated, not measured on the target runtime")
    return {**record, "out": str(out_dir), "artifact": str(artifact), "sidecar": str(sidecar_path(artifact)),
            "summary": summary(report)}


def export_many(requests: list[ExportRequest], **kwargs: Any) -> list[dict[str, Any]]:
    """Export each request; all failures are gathered and raised once at the end."""
    from edgekp.compress.qat_export import check_qat_requests

    check_qat_requests(kwargs["from_run"], requests)  # a QAT run refuses other targets before its model loads
    bundle = open_parent(kwargs["from_run"])
    results, errors = [], []
    for req in requests:
        try:
            results.append(export_one(req, parent_bundle=bundle, **kwargs))
        except EdgeKPError as exc:
            errors.append(f"{req.target} {req.precision}: {exc}")
    if errors:
        raise ExportValidationError(f"{len(errors)} of {len(requests)} exports failed: " + " | ".join(errors))
    return results
