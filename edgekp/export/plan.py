"""The first step of an export: the request checked once, then every refusal that needs no conversion.

``check_request`` is the one place a request (target, precision, route, the target's options, the QAT
pair) is checked: from the run's manifest alone, before the model loads, so a refused request costs
nothing. ``plan_export`` then loads what the conversion needs (calibration and parity sets, whose crop
margin must be the model's), builds the metadata and contract, and decides where the export goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgekp.config.export import ExportRecipe
from edgekp.data.calibration import CalibrationSet, load_calibration
from edgekp.errors import EdgeKPError, LineageError
from edgekp.export.base import ExportSpec, Route, Target, get_target
from edgekp.export.contract import export_contract
from edgekp.export.metadata import build_metadata
from edgekp.export.parity import Tolerance
from edgekp.files.hashes import sha256_file
from edgekp.lineage.checkpoints import LoadedModel, load_run_model
from edgekp.lineage.run_dir import RunDir

PARENT_KINDS = ("train", "prune", "qat")


@dataclass(frozen=True)
class ExportRequest:
    target: str
    precision: str
    route: str | None = None


@dataclass(frozen=True)
class CheckedRequest:
    """A request that passed ``check_request``: its target, the route it converts by, the target's typed options."""

    request: ExportRequest
    target: Target
    route: Route
    options: Any


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


def default_out(from_run: Path, target: Target, precision: str, route: str) -> Path:
    """``<from>/exports/<target>-<precision>`` (plus ``-<route>`` when not the target's default route)."""
    default_route = target.capabilities.routes[0].name
    suffix = "" if route == default_route else f"-{route}"
    return from_run / "exports" / f"{target.name}-{precision}{suffix}"


def target_options(recipe: ExportRecipe, target: str) -> dict[str, Any]:
    """A target's options in the recipe as a plain dict (what its metadata records; scripts' defaults)."""
    return dict(get_target(target).options_from(recipe).model_dump(mode="json"))


def check_request(request: ExportRequest, run: RunDir, recipe: ExportRecipe) -> CheckedRequest:
    """The one check of a request, from the run's manifest (no model load): target, precision, route,
    the target's options, and for a QAT run the quantizer/target pair; a one-line error when refused."""
    target = get_target(request.target)
    options = target.options_from(recipe)
    if run.kind == "qat":
        qat = run.manifest.get("recipe") or {}
        source = repr(str(run.path))
        route = target.qat_route(
            str(qat.get("quantizer")), request.precision, source=source, trained_for=str(qat.get("target"))
        )
        if request.route is not None:
            raise EdgeKPError(
                f"{source} is a QAT run: it converts with its quantizer's route, not --route {request.route}"
            )
    else:
        route = target.check_supported(request.precision, request.route, options)
    return CheckedRequest(request, target, route, options)


def check_requests(requests: list[ExportRequest], run: RunDir, recipe: ExportRecipe) -> list[CheckedRequest]:
    return [check_request(r, run, recipe) for r in requests]


def open_run(from_run: str | Path) -> RunDir:
    return RunDir.open(from_run, expect_kinds=PARENT_KINDS)


def open_parent(from_run: str | Path) -> Parent:
    """The parent run and its model (any checkpoint format); LineageError (one line) on anything wrong."""
    run = open_run(from_run)
    loaded = load_run_model(run.path)
    recipe = run.manifest.get("recipe") or {}
    declared = (recipe.get("model") or {}).get("num_points") if isinstance(recipe, dict) else None
    if isinstance(declared, int) and declared != loaded.model.config.num_points:
        raise LineageError(
            f"{str(run.path)!r}: model.pt has {loaded.model.config.num_points} points but the run's recipe says "
            f"{declared}; the checkpoint belongs to another run"
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


def _check_lineage(checked: CheckedRequest, parent: Parent) -> float:
    """The model agrees with its manifest (QAT or not) and records its crop margin; returns the margin."""
    qat_route = any(q.route.name == checked.route.name for q in checked.target.capabilities.qat_routes)
    if qat_route != (parent.loaded.quantization is not None):
        raise LineageError(
            f"{str(parent.path)!r}: the run's manifest and its model.pt disagree on quantization-aware training"
        )
    if "crop_margin" not in parent.loaded.meta:
        raise LineageError(
            f"{str(parent.path)!r}: its model.pt records no crop_margin; the crops a phone app must cut are unknown"
        )
    return float(parent.loaded.meta["crop_margin"])


def plan_export(
    checked: CheckedRequest,
    *,
    parent: Parent,
    recipe: ExportRecipe,
    out: str | Path | None = None,
    calib: str | None = None,
    data_root: str | None = None,
) -> ExportPlan:
    """Every refusal left that needs no conversion (converter installed, lineage, calibration and parity
    sets, tolerances), then what the conversion needs."""
    request, target, route, options = checked.request, checked.target, checked.route, checked.options
    target.check_available(route)
    margin = _check_lineage(checked, parent)
    model, meta = parent.loaded.model, parent.loaded.meta
    cfg = model.config
    size, k = int(cfg.input_size), int(cfg.num_points)

    root = data_root or recipe.data_root
    calib_def = calib or recipe.calibration
    calibration = load_calibration(calib_def, root, size, model_margin=margin)
    _check_calibration(calibration, k, "calibration")
    parity_set = (
        calibration
        if recipe.parity in (None, calib_def)
        else load_calibration(recipe.parity, root, size, model_margin=margin)
    )
    _check_calibration(parity_set, k, "parity")
    if len(parity_set) < recipe.parity_min_faces:
        raise EdgeKPError(
            f"parity set {parity_set.name!r} has {len(parity_set)} faces; at least {recipe.parity_min_faces} are needed"
        )
    tol = getattr(recipe.tolerances, request.precision)

    out_dir = Path(out) if out is not None else default_out(parent.path, target, request.precision, route.name)
    scheme = _scheme(k, meta.get("scheme") if isinstance(meta.get("scheme"), str) else None)
    quantized = parent.loaded.quantization is not None
    # QAT routes convert the fake-quantized graph as trained: NCHW float in.
    layout, dtype = ("NCHW", "float32") if quantized else target.input_form(route, request.precision, options)
    source_hash = sha256_file(parent.loaded.path)
    metadata = build_metadata(
        target=target.name,
        precision=request.precision,
        route=route.name,
        input_size=size,
        num_points=k,
        scheme=getattr(scheme, "name", None),
        layout=layout,
        crop_margin=margin,
        source_run=str(parent.path.resolve()),
        source_hash=source_hash,
        model_name=str(getattr(model, "variant", "custom")),
        mean=tuple(cfg.mean),
        std=tuple(cfg.std),
        options=options.model_dump(mode="json") if request.precision in target.capabilities.metadata_options else {},
        input_dtype=dtype,
    )
    if quantized:
        metadata["qat_quantizer"] = parent.loaded.quantization.quantizer
    contract = export_contract(model, metadata, scheme, layout, dtype, margin, source_hash)
    spec = ExportSpec(
        size,
        k,
        request.precision,  # type: ignore[arg-type]
        route.name,
        getattr(scheme, "name", None),
        options,  # the typed options, straight into the target's convert
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
