"""The Target interface and the target registry: everything edgekp knows about a runtime, it asks a Target.

A target declares what it can do as data (``Capabilities``: routes, precisions, file suffix, display
name) so the pipeline can refuse an unsupported request before any work, and list what *is* supported
in the refusal. It owns its conversion (``convert``), its runner (``load_runner``), its profiler
(``profile``) and its typed options (``options_type``, declared in edgekp.config.export). Callers find
a target by name (``get_target``) or by an artifact's file suffix (``target_for_suffix``).

A new target is a config class plus one module: ``declare_target(name, Options)`` (edgekp.config.export),
then a ``Target`` subclass decorated with ``@register_target`` (tests/export/test_custom_target.py).
"""

from __future__ import annotations

import importlib.util
import platform
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel

from edgekp.config.base import nearest
from edgekp.config.export import (
    PRECISION_NAMES,
    TARGET_NAMES,
    PrecisionName,
    declared_targets,
    forget_target,
    target_options_type,
)
from edgekp.config.qat import QUANTIZER_TARGETS
from edgekp.errors import ConfigError, MissingBackendError, UnsupportedOptionError
from edgekp.export.profiling import Profile
from edgekp.export.runner import Runner, TorchRunner  # noqa: F401  (the Runner interface every target's runner implements)

Precision = PrecisionName
PRECISIONS: tuple[Precision, ...] = PRECISION_NAMES  # type: ignore[assignment]
# The image layout the artifact's input expects; runners always take NCHW and convert inside.
Layout = Literal["NCHW", "NHWC"]


@dataclass(frozen=True)
class Route:
    """One way of producing a target's artifact (e.g. tflite via litert-torch or via TensorFlow)."""

    name: str
    precisions: tuple[Precision, ...]
    calibrated: tuple[Precision, ...]  # precisions that need a calibration set on this route
    extra: str  # the pip extra that installs this route's converter
    packages: tuple[tuple[str, str], ...]  # (import name, pip package) checked by check_available
    description: str = ""
    layout: Layout | None = None  # the artifact's input layout when it is not the target's (tflite's tf route: NHWC)


@dataclass(frozen=True)
class QatRoute:
    """How a model quantization-aware trained by ``quantizer`` becomes this target's int8 artifact:
    its fake-quant ranges become the artifact's scales (no post-training calibration)."""

    quantizer: str  # the QAT quantizer (edgekp.lineage.checkpoints.Quantization.quantizer) this route converts
    route: Route


def qat_routes_for(target: str) -> tuple[QatRoute, ...]:
    """The QAT routes of one target, from the quantizer/target table the QAT recipe is validated with."""
    return tuple(
        QatRoute(q, Route(f"qat-{q}", ("int8",), (), target, (), f"{q} QAT ranges -> {target} int8, no re-calibration"))
        for q, targets in QUANTIZER_TARGETS.items()
        if target in targets
    )


@dataclass(frozen=True)
class Capabilities:
    """What a target offers, as data: shown by ``--help``, checked before any conversion."""

    routes: tuple[Route, ...]  # the first one is the default
    runtime: str  # where the exported artifact can be executed, in words
    runtime_platforms: tuple[str, ...] | None  # platform.system() values that can execute it; None: any
    suffix: str  # artifact file/folder suffix: how `edgekp predict` and `bench` recognise the target's files
    layout: Layout = "NCHW"
    runtime_packages: tuple[tuple[str, str], ...] = ()
    runtime_extra: str = ""
    qat_routes: tuple[QatRoute, ...] = ()  # the QAT quantizers whose models this target converts
    metadata_options: tuple[Precision, ...] = ("int8",)  # precisions whose metadata records the recipe's target options
    runtime_os: str = ""  # where runtime_platforms is set: those systems in words ("macOS"), for reports
    display_name: str = ""  # the runtime as reports title it ("TFLite (LiteRT)"); "" : the target's name

    def route(self, name: str | None) -> Route:
        if name is None:
            return self.routes[0]
        for r in self.routes:
            if r.name == name:
                return r
        names = [r.name for r in self.routes]
        hint = nearest(name, names)
        tip = f"; did you mean {hint!r}?" if hint else ""
        raise UnsupportedOptionError(f"unknown route {name!r}{tip} (this target's routes: {', '.join(names)})")


@dataclass(frozen=True)
class ExportSpec:
    """Everything a conversion needs to know besides the model itself."""

    input_size: int
    num_points: int
    precision: Precision
    route: str
    scheme: str | None = None
    # The target's typed options (its options_type, from the export recipe); a plain dict is validated into
    # them by the target (Target.typed_options), so a spec built without options gets the recipe's defaults.
    options: Any = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)  # embedded in the artifact where possible
    layout: Layout = "NCHW"  # the artifact's input layout (Target.input_form)
    input_dtype: str = "float32"  # what the app writes into the input: "uint8" pixels 0-255 or "float32" in [0, 1]
    contract: dict[str, Any] = field(default_factory=dict)  # the edgekp-model/2 contract (edgekp.export.contract)

    @property
    def image_input(self) -> bool:
        """The artifact takes the app's pixels (not the NCHW float tensor the torch model takes)."""
        return (self.layout, self.input_dtype) != ("NCHW", "float32")


def missing_packages(packages: tuple[tuple[str, str], ...]) -> list[str]:
    """The pip names of the packages whose import name cannot be found (without importing them)."""
    out = []
    for module, pip_name in packages:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            out.append(pip_name)
    return out


def require_modules(model: Any, names: tuple[str, ...], option: str) -> None:
    """A target's ``float_modules`` option must name modules of the model: else a one-line config error."""
    missing = sorted(set(names) - {name for name, _ in model.named_modules()})
    if missing:
        raise ConfigError(f"{option} names no module of this model: {', '.join(missing)} (e.g. head, head.fc2)")


class Target(ABC):
    """An export target: capabilities as data plus convert / load_runner / verify."""

    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    @property
    def display_name(self) -> str:
        return self.capabilities.display_name or self.name

    # -- options: the target's config class (edgekp.config.export.declare_target) --------------
    @property
    def options_type(self) -> type[BaseModel]:
        return target_options_type(self.name)

    def typed_options(self, options: Any) -> Any:
        """The target's typed options from a typed value, a plain dict (validated) or None (the defaults)."""
        if isinstance(options, self.options_type):
            return options
        return self.options_type.model_validate(dict(options or {}))

    def options_from(self, recipe: Any) -> Any:
        """This target's typed options in an export recipe (its section; the defaults where it has none)."""
        return self.typed_options(getattr(recipe, self.name, None))

    # -- capability checks (data only, no heavy imports) ----------------------------------------
    def runs_here(self) -> bool:
        """Whether this host can execute the artifact (CoreML needs macOS)."""
        allowed = self.capabilities.runtime_platforms
        return allowed is None or platform.system() in allowed

    def supported(self) -> list[str]:
        """Every 'precision' / 'precision --route R' pair this target accepts on this host."""
        default = self.capabilities.routes[0].name
        out = []
        for route in self.capabilities.routes:
            for p in route.precisions:
                out.append(p if route.name == default else f"{p} --route {route.name}")
        return out

    def check_supported(self, precision: str, route: str | None, options: Any) -> Route:
        """Refuse an unsupported precision/route/option combination before any work."""
        r = self.capabilities.route(route)
        if precision not in r.precisions:
            raise UnsupportedOptionError(
                f"{self.name} does not support precision {precision!r} on route {r.name!r}; "
                f"supported here: {', '.join(self.supported())}"
            )
        self.check_options(precision, r, self.typed_options(options))
        return r

    def check_options(self, precision: str, route: Route, options: Any) -> None:
        """Target-specific refusals (e.g. CoreML int8 activations off macOS); default: none."""

    def qat_route(self, quantizer: str, precision: str, source: str = "the model", trained_for: str = "") -> Route:
        """The route converting a model QAT-trained by ``quantizer``; a one-line refusal for any other pair."""
        for q in self.capabilities.qat_routes:
            if q.quantizer == quantizer:
                if precision not in q.route.precisions:
                    raise UnsupportedOptionError(
                        f"{source} is a QAT run: it exports at --precision int8 only (got {precision!r}); export its "
                        f"parent for {precision}"
                    )
                return q.route
        allowed = [
            name
            for name in list_targets()
            if any(q.quantizer == quantizer for q in get_target(name).capabilities.qat_routes)
        ]
        trained = f" (for {trained_for})" if trained_for else ""
        raise UnsupportedOptionError(
            f"{source} was quantization-aware trained with {quantizer!r}{trained}; it exports only to "
            f"{', '.join(allowed) or 'nothing'}, "
            f"not {self.name!r}; run 'edgekp qat' with a {self.name} recipe (recipes/qat/) instead"
        )

    def layout(self, route: Route) -> Layout:
        return route.layout or self.capabilities.layout

    def input_form(self, route: Route, precision: str, options: Any) -> tuple[Layout, str]:
        """(layout, dtype) of what the app writes into the artifact's input; default: the route's layout, float32."""
        return self.layout(route), "float32"

    def check_available(self, route: str | Route | None = None) -> None:
        """Raise MissingBackendError naming the pip extra when the route's converter or the runtime is absent."""
        r = route if isinstance(route, Route) else self.capabilities.route(route)
        for pkg in missing_packages(r.packages):
            raise MissingBackendError(pkg, r.extra, f"{self.name} export (route {r.name})")
        for pkg in missing_packages(self.capabilities.runtime_packages):
            raise MissingBackendError(pkg, self.capabilities.runtime_extra or r.extra, f"running {self.name} artifacts")

    # -- work ----------------------------------------------------------------------------------
    def artifact_name(self, stem: str) -> str:
        return stem + self.capabilities.suffix

    def artifact_files(self, artifact: Path) -> list[Path]:
        """The files an artifact is made of (OpenVINO: the .xml and its .bin); a folder is one entry."""
        return [artifact]

    @abstractmethod
    def convert(self, model: Any, spec: ExportSpec, calibration: np.ndarray | None, out_dir: Path) -> Path:
        """Write the artifact into ``out_dir`` and return its path. ``calibration`` is N x 3 x S x S float32."""

    def convert_qat(self, model: Any, spec: ExportSpec, out_dir: Path) -> Path:
        """Write the int8 artifact of a fake-quantized model (one of ``capabilities.qat_routes``)."""
        raise UnsupportedOptionError(f"{self.name} has no QAT route")

    @abstractmethod
    def load_runner(self, artifact: Path, threads: int = 1) -> Runner:
        """A Runner executing ``artifact`` with its real runtime (raises UnsupportedOptionError where it cannot)."""

    # -- profiling (edgekp bench --profile) -----------------------------------------------------
    @property
    def has_profiler(self) -> bool:
        return type(self).profile is not Target.profile

    def profile(self, artifact: Path, image: np.ndarray, threads: int = 1) -> Profile:
        """A per-operator breakdown of ``artifact`` in its own runtime (image: 1 x 3 x S x S float in [0, 1])."""
        raise UnsupportedOptionError(f"{self.name} has no per-operator profiler")

    def artifact_input_shape(self, artifact: Path) -> list[int]:
        """The artifact's input shape as the file declares it (-1: dynamic), read without a runtime session."""
        raise UnsupportedOptionError(f"{self.name} cannot read an artifact's input shape")

    def reference_runner(self, model: Any, spec: ExportSpec, artifact: Path) -> Runner | None:
        """Where the artifact cannot run here, a stand-in whose numerics estimate it (None: no estimate)."""
        return None

    def verify(self, artifact: Path, spec: ExportSpec) -> dict[str, Any]:
        """Structural checks of the artifact; raise nothing, return findings (``problems`` lists failures)."""
        return {}

    def embedded_metadata(self, artifact: Path) -> dict[str, str]:
        """Read back the flat edgekp-export/1 metadata embedded in the artifact ({} when none)."""
        import json

        text = self.contract_text(artifact)
        if text is None:
            return {}
        try:
            data = json.loads(text)
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in (data.get("export") or {}).items()} if isinstance(data, dict) else {}

    def contract_text(self, artifact: Path) -> str | None:
        """The JSON string of the edgekp-model/2 contract embedded in the artifact (None: none there)."""
        return None


_REGISTRY: dict[str, type[Target]] = {}


def register_target(cls: type[Target]) -> type[Target]:
    """Add a target (a class decorator). Its name must be declared with its options class first
    (edgekp.config.export: the built-in ones in TARGET_NAMES, others by declare_target)."""
    if cls.name not in declared_targets():
        raise ValueError(
            f"export target {cls.name!r} is not declared in edgekp.config.export.TARGET_NAMES "
            "(or by edgekp.config.export.declare_target)"
        )
    if cls.name in _REGISTRY:
        raise ValueError(f"export target {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def unregister_target(name: str) -> None:
    """Remove a target registered outside edgekp (and its declaration); the built-in ones stay."""
    if name in TARGET_NAMES:
        raise ValueError(f"{name!r} is a built-in export target")
    _REGISTRY.pop(name, None)
    forget_target(name)


def _load_builtin() -> None:
    # Importing the target modules is cheap: their backends are imported inside the methods.
    import importlib

    for module in ("onnx", "tflite", "coreml", "openvino"):  # registration order = listing order
        importlib.import_module(f"edgekp.export.{module}")


def list_targets() -> list[str]:
    _load_builtin()
    return [name for name in declared_targets() if name in _REGISTRY]


def route_names() -> list[str]:
    """Every conversion route any target offers (the CLI's --route choices)."""
    return sorted({r.name for name in list_targets() for r in get_target(name).capabilities.routes})


def get_target(name: str) -> Target:
    _load_builtin()
    if name not in _REGISTRY:
        hint = nearest(name, _REGISTRY)
        tip = f"; did you mean {hint!r}?" if hint else ""
        raise UnsupportedOptionError(f"unknown export target {name!r}{tip} (targets: {', '.join(_REGISTRY)})")
    return _REGISTRY[name]()


def target_for_suffix(suffix: str) -> Target | None:
    """The target whose artifacts end in ``suffix`` (".onnx", ".mlpackage", ...); None when no target's do."""
    for name in list_targets():
        target = get_target(name)
        if target.capabilities.suffix == suffix:
            return target
    return None
