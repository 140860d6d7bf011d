"""Export's one entry point (``export_many``; ``export_one`` for a single request), done once for every
target, in four steps after the request is checked once (edgekp.export.plan.check_request):

    plan      every other refusal that needs no conversion (converter installed, lineage, calibration,
              tolerances), and the metadata and spec the conversion gets (edgekp.export.plan)
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
from edgekp.errors import ConfigError, EdgeKPError, ExportValidationError
from edgekp.export.base import target_for_suffix
from edgekp.export.contract import check_embedded_contract
from edgekp.export.parity import ParityReport, compare, compare_presence, raise_if_failed, summary
from edgekp.export.plan import (  # noqa: F401  (default_out, target_options: used by edgekp.pipeline and scripts)
    CheckedRequest,
    ExportPlan,
    ExportRequest,
    Parent,
    check_requests,
    default_out,
    open_parent,
    open_run,
    plan_export,
    target_options,
)
from edgekp.export.runner import Runner, TorchRunner, pixels
from edgekp.files.atomic import atomic_write_json
from edgekp.files.hashes import sha256_file, sha256_json
from edgekp.lineage.run_dir import RunDir
from edgekp.lineage.sidecar import sidecar_path, write_sidecar
from edgekp.logs import get_logger

log = get_logger(__name__)

FAILED = "failed"


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


def artifact_files(path: Path) -> list[Path]:
    """The files of an artifact, as its target says (OpenVINO: the .xml and its .bin)."""
    target = target_for_suffix(path.suffix)
    return target.artifact_files(path) if target is not None else [path]


def artifact_size(path: Path) -> int:
    """Bytes on disk: a folder (.mlpackage) summed, an OpenVINO .xml with its .bin."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return sum(p.stat().st_size for p in artifact_files(path))


def _hash(path: Path) -> str:
    if path.is_dir():  # .mlpackage: hash of its files' hashes, in a stable order
        return sha256_json({str(p.relative_to(path)): sha256_file(p) for p in sorted(path.rglob("*")) if p.is_file()})
    return sha256_file(path)


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


def _export_checked(
    checked: CheckedRequest,
    parent: Parent,
    recipe: ExportRecipe,
    out: str | Path | None,
    calib: str | None,
    data_root: str | None,
    force: bool,
) -> dict[str, Any]:
    """One checked request: plan, convert, validate, record. An export already in the folder is
    replaced only with ``force``."""
    plan = plan_export(checked, parent=parent, recipe=recipe, out=out, calib=calib, data_root=data_root)
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
        checked.request.precision,
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
        checked_artifact = validate(plan, converted, report)
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
    return record(plan, run, converted, checked_artifact)


def _warn_synthetic(requests: list[ExportRequest], calib: str | None, recipe: ExportRecipe) -> None:
    if any(r.precision == "int8" for r in requests):
        from edgekp.data.calibration import synthetic_warning

        warning = synthetic_warning(calib or recipe.calibration)
        if warning:
            log.warning("%s", warning)


def export_many(
    requests: list[ExportRequest],
    *,
    from_run: str | Path,
    recipe: ExportRecipe,
    out: str | Path | None = None,
    calib: str | None = None,
    data_root: str | None = None,
    force: bool = False,
    parent: Parent | None = None,
    gather: bool = True,
    warn_synthetic: bool = False,
) -> list[dict[str, Any]]:
    """Export's one entry point: every request checked once, before the model loads (a refused request
    is the one line it raises, before any work); then each exported. ``gather``: failures are collected
    and raised once at the end (else the first raises as it is). ``parent``: the run already loaded."""
    run = parent.run if parent is not None else open_run(from_run)
    checked = check_requests(requests, run, recipe)
    if warn_synthetic:  # after the checks: a refused request prints its one line and nothing else
        _warn_synthetic(requests, calib, recipe)
    parent = parent or open_parent(from_run)
    results, errors = [], []
    for c in checked:
        try:
            results.append(_export_checked(c, parent, recipe, out, calib, data_root, force))
        except EdgeKPError as exc:
            if not gather:
                raise
            errors.append(f"{c.request.target} {c.request.precision}: {exc}")
    if errors:
        raise ExportValidationError(f"{len(errors)} of {len(requests)} exports failed: " + " | ".join(errors))
    return results


def export_one(request: ExportRequest, **kwargs: Any) -> dict[str, Any]:
    """One target/precision/route through ``export_many`` (its error raised as it is); the result summary."""
    return export_many([request], gather=False, **kwargs)[0]
