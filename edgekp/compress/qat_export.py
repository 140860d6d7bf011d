"""Export of QAT runs: the extension point the export pipeline calls for a run of kind 'qat'.

A QAT run is exported only to the target its quantizer simulated, only at int8, and with its own
conversion (the fake-quant ranges learned in fine-tuning become the artifact's int8 scales; no
post-training calibration). Everything else (metadata, structure checks, parity in the real
runtime against the fake-quantized torch model, the run directory) stays with the export pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgekp.artifacts import RunDir
from edgekp.config.qat import QUANTIZER_TARGETS
from edgekp.errors import UnsupportedOptionError
from edgekp.export.base import ExportSpec, Route


@dataclass(frozen=True)
class QatConversion:
    """How one QAT run becomes an artifact of one target."""

    quantizer: str
    target: str
    ignored: tuple[str, ...]
    route: Route

    def convert(self, model: Any, spec: ExportSpec, calibration: np.ndarray | None, out_dir: Path) -> Path:
        size, meta = spec.input_size, {**spec.metadata, "qat_quantizer": self.quantizer}
        if self.quantizer == "nncf" and self.target == "openvino":
            from edgekp.compress.qat_nncf import to_openvino

            return to_openvino(model, size, out_dir / "model.xml", meta)
        if self.quantizer == "nncf" and self.target == "onnx":
            from edgekp.compress.qat_nncf import to_onnx_qdq

            return to_onnx_qdq(model, size, out_dir / "model.onnx", meta)
        if self.quantizer == "pt2e":
            from edgekp.compress.qat_pt2e import to_tflite

            return to_tflite(model, size, out_dir / "model.tflite", meta, list(self.ignored))
        from edgekp.compress.qat_coreml import to_mlpackage

        return to_mlpackage(model, size, out_dir / "model.mlpackage", meta)


def qat_conversion(parent_dir: str | Path, target: str, precision: str) -> QatConversion | None:
    """None for a run that is not QAT; else its conversion, or a one-line refusal for another target/precision."""
    parent = RunDir.open(parent_dir)
    if parent.kind != "qat":
        return None
    recipe = parent.manifest.get("recipe") or {}
    quantizer, trained_for = str(recipe.get("quantizer")), str(recipe.get("target"))
    allowed = QUANTIZER_TARGETS.get(quantizer, ())
    if target not in allowed:
        raise UnsupportedOptionError(
            f"{str(parent.path)!r} was quantization-aware trained with {quantizer!r} (for {trained_for}); it exports only to "
            f"{', '.join(allowed) or 'nothing'}, not {target!r}; run 'edgekp qat' with a {target} recipe (recipes/qat/) instead"
        )
    if precision != "int8":
        raise UnsupportedOptionError(
            f"{str(parent.path)!r} is a QAT run: it exports at --precision int8 only (got {precision!r}); export its parent for {precision}")
    ignored = tuple((parent.manifest.get("compression") or {}).get("ignored_modules", []))
    route = Route(f"qat-{quantizer}", ("int8",), (), target, (), f"{quantizer} QAT ranges -> {target} int8, no re-calibration")
    return QatConversion(quantizer, target, ignored, route)


def check_qat_requests(parent_dir: str | Path, requests: list[Any]) -> None:
    """Refuse, before any model is loaded, every request a QAT run cannot serve (no-op for other runs)."""
    for request in requests:
        qat_conversion(parent_dir, request.target, request.precision)
