"""ONNX: the hub format. torch -> ONNX (dynamo exporter, opset 20) -> onnxsim -> onnxruntime.

Opset 20 because it has a native Gelu: at 17/18 GELU becomes Erf, which later routes (onnx2tf)
turn into a Flex op the TFLite interpreter cannot run. The runtime (runner, profiler) is
edgekp.export.onnx_runtime.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from edgekp.errors import EdgeKPError
from edgekp.export.base import Capabilities, ExportSpec, Route, Runner, Target, qat_routes_for, register_target
from edgekp.export.contract import INPUT_NAME, OUTPUT_NAME
from edgekp.export.metadata import prefixed, unprefixed
from edgekp.export.onnx_runtime import OrtRunner, onnx_input_shape, profile_onnx
from edgekp.export.profiling import Profile
from edgekp.logs import get_logger

log = get_logger(__name__)

OPSET = 20
_ONNX_PACKAGES = (("onnx", "onnx"), ("onnxscript", "onnxscript"), ("onnxsim", "onnxsim"))
_ORT = (("onnxruntime", "onnxruntime"),)


def export_onnx(
    model: Any, input_size: int, path: Path, *, dynamic_batch: bool = True, exporter: str = "dynamo"
) -> str:
    """Write ``model`` to ``path`` as one self-contained ONNX file; returns the exporter that worked.

    ``exporter``: "dynamo" (tried first, falls back to "legacy" on failure) or "legacy" only.
    """
    import torch

    from edgekp.export.contract import LANDMARKS, PRESENCE, has_presence

    outputs = [OUTPUT_NAME]
    if has_presence(model):  # both outputs, by name
        from edgekp.export.deploy import DeployModel

        model, outputs = DeployModel(model, "NCHW", "float32"), [LANDMARKS, PRESENCE]
    model = model.eval()
    example = (torch.rand(1, 3, input_size, input_size),)
    path.parent.mkdir(parents=True, exist_ok=True)
    if exporter == "dynamo":
        try:
            shapes = {"x": {0: torch.export.Dim("batch", min=1, max=1024)}} if dynamic_batch else None
            program = torch.onnx.export(
                model,
                example,
                dynamo=True,
                opset_version=OPSET,
                external_data=False,
                input_names=[INPUT_NAME],
                output_names=outputs,
                dynamic_shapes=shapes,
            )
            program.save(str(path), external_data=False)
            return "dynamo"
        except Exception as exc:
            log.warning(
                "dynamo ONNX exporter failed (%s); falling back to the legacy exporter",
                str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__,
            )
    axes = {name: {0: "batch"} for name in [INPUT_NAME, *outputs]} if dynamic_batch else None
    torch.onnx.export(
        model,
        example,
        str(path),
        dynamo=False,
        opset_version=OPSET,
        input_names=[INPUT_NAME],
        output_names=outputs,
        dynamic_axes=axes,
    )
    return "legacy"


def simplify_onnx(path: Path) -> bool:
    """onnxsim in place; keeps the unsimplified graph when simplification fails its own check."""
    import onnx
    from onnxsim import simplify

    model = onnx.load(str(path))
    try:
        simplified, ok = simplify(model)
    except Exception as exc:
        log.warning("onnxsim failed (%s); keeping the unsimplified graph", exc)
        return False
    if ok:
        onnx.save(simplified, str(path))
    return bool(ok)


@contextlib.contextmanager
def _nncf_qdq_export(model: Any) -> Iterator[None]:
    """NNCF quantizers export as Q/DQ pairs inside the block, as FakeQuantize (their default) after it."""
    from nncf.torch.quantization.layers import BaseQuantizer, QuantizerExportMode

    def mode(m: QuantizerExportMode) -> None:
        for module in model.modules():
            if isinstance(module, BaseQuantizer):
                module.set_export_mode(m)

    mode(QuantizerExportMode.ONNX_QUANTIZE_DEQUANTIZE_PAIRS)
    try:
        yield
    finally:
        mode(QuantizerExportMode.FAKE_QUANTIZE)


def embed_onnx_metadata(path: Path, meta: dict[str, str], contract: dict[str, Any] | None = None) -> None:
    """The contract as metadata_props["edgekp"] (JSON), and the flat metadata as "edgekp.<key>" entries."""
    import json

    import onnx

    from edgekp.export.contract import KEY

    model = onnx.load(str(path))
    existing = {p.key: p for p in model.metadata_props}
    entries = prefixed(meta)
    if contract:
        contract["export"] = {**contract.get("export", {}), **meta}
        entries[KEY] = json.dumps(contract, sort_keys=True)
    for key, value in entries.items():
        entry = existing.get(key) or model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))


@register_target
class OnnxTarget(Target):
    name = "onnx"
    capabilities = Capabilities(
        routes=(
            Route(
                "torch",
                ("fp32",),
                (),
                "onnx",
                _ONNX_PACKAGES,
                "torch.onnx dynamo exporter (legacy as fallback), opset 20, onnxsim",
            ),
        ),
        runtime="onnxruntime, here (any OS)",
        runtime_platforms=None,
        suffix=".onnx",
        runtime_packages=_ORT,
        runtime_extra="onnx",
        qat_routes=qat_routes_for("onnx"),
        display_name="onnxruntime",
    )

    def convert_qat(self, model: Any, spec: ExportSpec, out_dir: Path) -> Path:
        """NNCF's fake-quant model as QuantizeLinear/DequantizeLinear pairs (legacy exporter: the dynamo
        exporter cannot trace NNCF's hooks; the default FakeQuantize export is a custom op onnxruntime lacks)."""
        from edgekp.export.onnx_qdq import fold_weight_quantizers, nncf_weight_grid

        path = out_dir / self.artifact_name("model")
        with _nncf_qdq_export(model):
            export_onnx(model.eval(), spec.input_size, path, exporter="legacy")
        # No onnxsim: folding would fuse Q/DQ pairs into constants the runtime's int8 kernels need. Only the
        # weights' QuantizeLinear nodes are evaluated, into int8 initializers (4x smaller), from NNCF's own
        # fake-quantized weights so that rounding ties land as in the QAT model (onnx_qdq's docstring).
        fold_weight_quantizers(path, nncf_weight_grid(model, spec.input_size))
        embed_onnx_metadata(path, {**spec.metadata, "onnx_exporter": "legacy", "onnx_qdq": "nncf"}, spec.contract)
        return path

    def convert(self, model: Any, spec: ExportSpec, calibration: np.ndarray | None, out_dir: Path) -> Path:
        options = self.typed_options(spec.options)
        path = out_dir / self.artifact_name("model")
        used = export_onnx(model, spec.input_size, path, exporter=options.exporter)
        simplified = simplify_onnx(path) if options.simplify else False
        log.info("onnx: %s exporter, opset %d, simplified=%s", used, OPSET, simplified)
        embed_onnx_metadata(
            path, {**spec.metadata, "onnx_exporter": used, "onnx_simplified": str(simplified)}, spec.contract
        )
        return path

    def load_runner(self, artifact: Path, threads: int = 1) -> Runner:
        try:
            return OrtRunner(artifact, threads)
        except Exception as exc:
            raise EdgeKPError(f"onnxruntime cannot load {str(artifact)!r}: {str(exc).splitlines()[0][:200]}") from None

    def profile(self, artifact: Path, image: np.ndarray, threads: int = 1) -> Profile:
        return profile_onnx(artifact, image, threads)

    def artifact_input_shape(self, artifact: Path) -> list[int]:
        return onnx_input_shape(artifact)

    def verify(self, artifact: Path, spec: ExportSpec) -> dict[str, Any]:
        import onnx

        model = onnx.load(str(artifact))
        onnx.checker.check_model(model)
        ops: dict[str, int] = {}
        for node in model.graph.node:
            ops[node.op_type] = ops.get(node.op_type, 0) + 1
        opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)
        problems = [] if opset >= OPSET else [f"opset {opset} < {OPSET}"]
        return {"opset": opset, "op_types": dict(sorted(ops.items())), "problems": problems}

    def embedded_metadata(self, artifact: Path) -> dict[str, str]:
        import onnx

        return unprefixed({p.key: p.value for p in onnx.load(str(artifact)).metadata_props})

    def contract_text(self, artifact: Path) -> str | None:
        import onnx

        from edgekp.export.contract import KEY

        return next((p.value for p in onnx.load(str(artifact)).metadata_props if p.key == KEY), None)
