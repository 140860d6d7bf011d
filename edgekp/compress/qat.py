"""Quantization-aware training: the compressor, ignored scopes, calibration and the QAT checkpoint.

A QAT run's ``model.pt`` is not a plain model checkpoint: it records which quantizer wrapped the
network, so the model can be rebuilt with its fake-quant state and export can refuse a target of
another quantizer. Format (weights_only-loadable)::

    {"format": "edgekp-qat/1", "quantizer": "nncf" | "coreml" | "pt2e", "target": ..., "name": <variant>,
     "config": HvitConfig.to_dict(), "ignored_modules": [...], "quant_state": <backend data>,
     "state_dict": <the wrapped model's state>, "meta": {...}}

Each quantizer lives in its own module (qat_nncf, qat_coreml, qat_pt2e) behind ``QatBackend``;
their heavy libraries are imported only there.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
from torch import nn

from edgekp.compress.checkpoint_formats import QAT_FORMAT
from edgekp.compress.lifecycle import Compressor
from edgekp.config.qat import QatRecipe
from edgekp.errors import ConfigError, LineageError
from edgekp.lineage.checkpoints import (
    LoadedModel,
    Quantization,
    load_checkpoint,
    load_model_file,
    load_run_model,
    save_checkpoint,
)
from edgekp.lineage.run_dir import MODEL_FILE, RunDir
from edgekp.logs import get_logger
from edgekp.train.data import TrainingData

log = get_logger(__name__)

FORMAT = QAT_FORMAT
_BACKENDS = {
    "nncf": "edgekp.compress.qat_nncf",
    "coreml": "edgekp.compress.qat_coreml",
    "pt2e": "edgekp.compress.qat_pt2e",
}


class QatBackend(Protocol):
    """What each quantizer module provides (module-level functions)."""

    def prepare(
        self, model: nn.Module, calibration: np.ndarray, recipe: QatRecipe, ignored: list[str]
    ) -> nn.Module: ...
    def quant_state(self, model: nn.Module) -> Any: ...
    def restore(
        self, model: nn.Module, quant_state: Any, state_dict: dict[str, Any], ignored: list[str]
    ) -> nn.Module: ...
    def quantizer_names(self, model: nn.Module) -> list[str]: ...


def backend(quantizer: str) -> QatBackend:
    if quantizer not in _BACKENDS:
        raise LineageError(f"unknown QAT quantizer {quantizer!r} (known: {', '.join(_BACKENDS)})")
    return importlib.import_module(_BACKENDS[quantizer])  # type: ignore[return-value]


def resolve_ignored(model: nn.Module, patterns: list[str]) -> list[str]:
    """Module names matched in full by the patterns; ConfigError naming the first pattern that matches nothing."""
    names = [name for name, _ in model.named_modules() if name]
    matched: list[str] = []
    for pattern in patterns:
        try:
            rx = re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"ignored_scopes: '{pattern}' is not a valid regular expression ({exc})") from None
        hits = [n for n in names if rx.fullmatch(n)]
        if not hits:
            examples = ", ".join([n for n in names if n.count(".") <= 1][:12])
            raise ConfigError(
                f"ignored_scopes: pattern '{pattern}' matches no module of the model (a pattern matches a "
                f"whole module name; names look like: {examples}, ...)"
            )
        matched.extend(h for h in hits if h not in matched)
    # A module inside an ignored one is already covered; keep the outermost names only.
    return [n for n in matched if not any(n.startswith(o + ".") for o in matched if o != n)]


def calibration_images(recipe: QatRecipe, data: TrainingData, size: int, data_root: str | None) -> np.ndarray:
    """N x 3 x S x S float32 in [0, 1]: faces from the training data, or a calibration set definition."""
    spec = recipe.calibration
    if spec.source == "train":
        rng = np.random.default_rng(recipe.seed)
        index = np.sort(rng.permutation(len(data.train))[: spec.faces])
        images = data.train.images[index]
    else:
        from edgekp.data.calibration import load_calibration

        check_calibration_scheme(spec.source, data.scheme.name)
        images = load_calibration(spec.source, data_root, size).images[: spec.faces]
    return np.ascontiguousarray(images.transpose(0, 3, 1, 2), dtype=np.float32) / 255.0


def check_calibration_scheme(source: str, scheme: str, margin: float | None = None) -> None:
    from edgekp.data.calibration import check_margin, read_definition

    definition = read_definition(source)
    if definition.scheme != scheme:
        raise ConfigError(
            f"calibration set {source!r} uses landmark scheme {definition.scheme!r} but the model predicts "
            f"{scheme!r}; give a {scheme} calibration set (edgekp data calib) or calibration.source=train"
        )
    if margin is not None:  # the set's faces are cut as the model's training crops were
        check_margin(definition, float(margin), repr(source))


def save_qat_model(path: Path, model: nn.Module, info: dict[str, Any], meta: dict[str, Any]) -> None:
    import json

    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    quant_state = backend(info["quantizer"]).quant_state(model)
    save_checkpoint(
        path,
        {
            "format": FORMAT,
            **info,
            "quant_state": quant_state,
            "state_dict": state,
            "meta": json.loads(json.dumps(meta, default=str)),
        },
    )


def is_qat_checkpoint(path: Path) -> bool:
    try:
        return load_checkpoint(path).get("format") == FORMAT
    except LineageError:
        return False


def restore_qat_model(path: Path, state: dict[str, Any]) -> LoadedModel:
    """The loader of the ``edgekp-qat/1`` format (registered in edgekp.compress.checkpoint_formats): the
    fake-quantized model rebuilt by its quantizer, in eval."""
    from edgekp.models import HvitConfig, KeypointHVit

    base = KeypointHVit(HvitConfig.from_dict(state["config"]), variant=str(state.get("name", "custom")))
    ignored = list(state.get("ignored_modules", []))
    model = backend(state["quantizer"]).restore(base.eval(), state["quant_state"], state["state_dict"], ignored)
    keep_identity(model, base)
    quantization = Quantization(
        str(state["quantizer"]),
        str(state.get("target")),
        tuple(ignored),
        None if state.get("preset") is None else str(state["preset"]),
    )
    return LoadedModel(model.eval(), dict(state.get("meta") or {}), FORMAT, path, quantization)


def load_qat_model(run_dir: str | Path) -> tuple[nn.Module, dict[str, Any], dict[str, Any]]:
    """(the fake-quantized model in eval, meta, {"quantizer", "target", "ignored_modules", "preset"}), through the one
    loader.
    """
    path = Path(run_dir) / MODEL_FILE
    loaded = load_model_file(path)
    if loaded.quantization is None:
        raise LineageError(f"{str(path)!r} is not a QAT checkpoint (format {loaded.format!r}, expected {FORMAT!r})")
    q = loaded.quantization
    info = {
        "quantizer": q.quantizer,
        "target": q.target,
        "ignored_modules": list(q.ignored_modules),
        "preset": q.preset,
    }
    return loaded.model, loaded.meta, info


def keep_identity(model: nn.Module, base: nn.Module) -> None:
    """Wrapped models (fx GraphModules) lose the attributes export reads: config, variant."""
    for attr in ("config", "variant"):
        if not hasattr(model, attr):
            object.__setattr__(model, attr, getattr(base, attr))


class QatCompressor(Compressor):
    """The lifecycle's compressor for QAT (kind 'qat'); see edgekp.compress.lifecycle."""

    kind: ClassVar[str] = "qat"
    parent_kinds: ClassVar[tuple[str, ...]] = ("train", "prune", "qat")

    def __init__(self, recipe: QatRecipe, data_root: str | None = None) -> None:
        self.recipe = recipe
        self.data_root = data_root
        self.ignored: list[str] = []
        self.base: nn.Module | None = None
        self.summary: dict[str, Any] = {}

    def check_parent(self, parent: RunDir) -> None:
        """Every refusal that needs no data, before any data is read: lineage, scopes, calibration scheme."""
        if parent.kind == "qat":
            raise LineageError(
                f"{str(parent.path)!r} is already quantized (a qat run); QAT starts from a train or prune run"
            )
        loaded = load_run_model(parent.path)
        model, meta = loaded.model, loaded.meta
        resolve_ignored(model, self.recipe.ignored_scopes)
        if self.recipe.calibration.source != "train":
            from edgekp.data.schemes import scheme_for_points

            scheme = str(meta.get("scheme") or getattr(scheme_for_points(model.config.num_points), "name", "unknown"))
            check_calibration_scheme(self.recipe.calibration.source, scheme, meta.get("crop_margin"))

    def prepare(self, model: nn.Module, data: TrainingData, out: Path) -> nn.Module:
        # BatchNorm token norms (token_norm: batch) are folded into the next Linear first: int8 is
        # simulated on the graph the exporters convert, and the folded config rebuilds on restore.
        model = model.inference_form() if hasattr(model, "inference_form") else model
        self.base = model
        self.ignored = resolve_ignored(model, self.recipe.ignored_scopes)
        calib = calibration_images(self.recipe, data, int(model.config.input_size), self.data_root)
        log.info(
            "qat: %s for %s, %d calibration faces, float modules: %s",
            self.recipe.quantizer,
            self.recipe.target,
            len(calib),
            ", ".join(self.ignored) or "none",
        )
        from edgekp.compress.qat_nncf import int8_numerics

        wrapped = backend(self.recipe.quantizer).prepare(model, calib, self.recipe, self.ignored)
        keep_identity(wrapped, model)
        names = backend(self.recipe.quantizer).quantizer_names(wrapped)
        self.summary = {
            "quantizer": self.recipe.quantizer,
            "target": self.recipe.target,
            "preset": self.recipe.preset,
            "ignored_modules": self.ignored,
            "calibration_faces": len(calib),
            "fake_quantizers": len(names),
            **int8_numerics(self.recipe),
        }  # host ISA + resolved overflow fix (tests/compress/test_qat.py)
        return wrapped

    def finalize(self, model: nn.Module) -> nn.Module:
        # The fake-quantized model is what gets saved: export converts it with its quantizer's route.
        return model

    def save_model(self, model: nn.Module, path: Path, meta: dict[str, Any]) -> None:
        from edgekp.lineage.plain_format import _unwrap

        net = _unwrap(model) if hasattr(model, "module") else model
        keep_identity(net, self.base)  # type: ignore[arg-type]
        info = {
            "quantizer": self.recipe.quantizer,
            "target": self.recipe.target,
            "preset": self.recipe.preset,
            "name": str(getattr(net, "variant", "custom")),
            "config": net.config.to_dict(),  # type: ignore[union-attr]
            "ignored_modules": self.ignored,
        }
        save_qat_model(path, net, info, meta)

    def manifest_extra(self) -> dict[str, Any]:
        return dict(self.summary)


def qat(
    recipe: QatRecipe, parent_dir: str | Path, out: str | Path, resume: bool = False, data: TrainingData | None = None
) -> dict[str, Any]:
    """Run the QAT stage: ``parent_dir`` (a train or prune run) -> ``out`` (a qat run directory), beside prune()."""
    from edgekp.compress.lifecycle import compress

    root = recipe.data.root if recipe.data is not None else None
    return compress(QatCompressor(recipe, data_root=root), recipe, parent_dir, out, resume=resume, data=data)
