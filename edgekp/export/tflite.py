"""TFLite: litert-torch straight from the torch module (default route), or ONNX -> onnx2tf (``--route tf``).

Runtime: ai-edge-litert's interpreter (tflite-runtime is dead with numpy 2, and on numpy 1 it ran
an int8 model with silently wrong output). The litert route takes what a camera gives by default
(``tflite.input: image``): NHWC RGB, float32 in [0, 1] for fp32/fp16 (GPU-delegate friendly) and
uint8 0-255 for int8, the cast, scale and input quantization inside the graph (edgekp.export.deploy);
``tflite.input: tensor`` keeps the old NCHW float32. onnx2tf makes NHWC float32. The runner takes
NCHW float either way and feeds the artifact what it takes (edgekp.export.tflite_runtime, with the profiler).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from edgekp.errors import EdgeKPError
from edgekp.export.base import (
    Capabilities,
    ExportSpec,
    Route,
    Runner,
    Target,
    qat_routes_for,
    register_target,
    require_modules,
)
from edgekp.export.profiling import Profile
from edgekp.export.tflite_runtime import LiteRTRunner, profile_tflite, tflite_input_shape
from edgekp.logs import get_logger

log = get_logger(__name__)

METADATA_NAME = "edgekp"  # name of the flatbuffer metadata entry holding our JSON
_LITERT = (("litert_torch", "litert-torch"), ("ai_edge_quantizer", "ai-edge-quantizer"))
_TF = (
    ("onnx", "onnx"),
    ("onnxsim", "onnxsim"),
    ("tensorflow", "tensorflow"),
    ("tf_keras", "tf-keras"),
    ("onnx_graphsurgeon", "onnx-graphsurgeon"),
    ("sng4onnx", "sng4onnx"),
    ("onnx2tf", "onnx2tf"),
)
INT8_MODES = ("static", "dynamic")
PT2E_QAT_SCHEME = "pt2e/litert: weights int8 per-channel symmetric, activations int8 per-tensor asymmetric"


def quiet_litert() -> None:
    # litert-torch prints a progress line per stage; keep them out of edgekp's output unless -v.
    import logging

    logging.getLogger("litert_torch").setLevel(logging.WARNING)


def convert_litert(
    model: Any,
    size: int,
    precision: str,
    int8_mode: str,
    calibration: np.ndarray | None,
    path: Path,
    float_modules: tuple[str, ...] = (),
    int8_ops: tuple[str, ...] = (),
    layout: str = "NCHW",
    dtype: str = "float32",
) -> None:
    import litert_torch
    import torch

    from edgekp.export.deploy import DeployModel, example_input, scoped, to_input

    quiet_litert()
    deploy = DeployModel(model.eval(), layout, dtype).eval()
    example = (example_input(size, layout, dtype),)
    if precision == "int8":
        from litert_torch.quantize import quant_config
        from torchao.quantization.pt2e import quantize_pt2e

        from edgekp.export.pt2e_scope import scoped_quantizer

        require_modules(model, float_modules, "tflite.float_modules")
        quantizer = scoped_quantizer(scoped(float_modules), is_dynamic=int8_mode == "dynamic", int8_ops=int8_ops)
        prepared = quantize_pt2e.prepare_pt2e(torch.export.export(deploy, example).module(), quantizer)
        # Observers need at least one pass even for dynamic mode (per-channel weight scales);
        # static mode calibrates activation ranges on the whole set, one face at a time (batch 1 graph),
        # each face in the artifact's input form (uint8 NHWC pixels for an image input).
        samples = (
            calibration if calibration is not None else np.random.default_rng(0).random((1, 3, size, size), np.float32)
        )
        with torch.no_grad():
            for i in range(len(samples)):
                prepared(to_input(np.ascontiguousarray(samples[i : i + 1], dtype=np.float32), layout, dtype))
        quantized = quantize_pt2e.convert_pt2e(prepared, fold_quantize=False)
        try:
            edge = litert_torch.convert(
                quantized, example, quant_config=quant_config.QuantConfig(pt2e_quantizer=quantizer)
            )
        except ValueError as exc:
            if not int8_ops:
                raise
            # e.g. the two-matmul attention: a slice feeding an int8 matmul breaks a same-scale constraint.
            raise EdgeKPError(
                f"litert-torch cannot convert this model with tflite.int8_ops={list(int8_ops)}: "
                f"{str(exc).splitlines()[0][:300]}"
            ) from None
        edge.export(str(path))
        return
    litert_torch.convert(deploy, example).export(str(path))
    if precision == "fp16":
        _weights_to_fp16(path)


def _weights_to_fp16(path: Path) -> None:
    """fp16 weights, fp32 compute (the TFLite 'float16 quantization'), via ai-edge-quantizer float casting."""
    from ai_edge_quantizer import quantizer as aeq

    q = aeq.qtyping
    quant = aeq.Quantizer(str(path))
    quant.update_quantization_recipe(
        regex=".*",
        operation_name=q.TFLOperationName.ALL_SUPPORTED,
        op_config=q.OpQuantizationConfig(
            weight_tensor_config=q.TensorQuantizationConfig(
                num_bits=16, symmetric=True, granularity=q.QuantGranularity.CHANNELWISE, dtype=q.TensorDataType.FLOAT
            ),
            compute_precision=q.ComputePrecision.FLOAT,
            explicit_dequantize=True,
        ),
        algorithm_key=aeq.algorithm_manager.AlgorithmName.FLOAT_CASTING,
    )
    quant.quantize().export_model(str(path), overwrite=True)


def embed_tflite_metadata(path: Path, meta: dict[str, Any]) -> None:
    """Add (or replace) a flatbuffer metadata entry named 'edgekp' holding ``meta`` (the contract) as JSON."""
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils as fbu

    model = fbu.read_model(str(path))
    model.metadata = [
        m for m in (model.metadata or []) if (m.name or b"") not in (METADATA_NAME, METADATA_NAME.encode())
    ]
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = len(model.buffers) - 1
    model.metadata.append(entry)
    fbu.write_model(model, str(path))


def read_tflite_metadata_text(path: Path) -> str | None:
    """The 'edgekp' metadata entry's text; None when the file has none."""
    from ai_edge_litert.tools import flatbuffer_utils as fbu

    model = fbu.read_model(str(path))
    for m in model.metadata or []:
        name = m.name.decode() if isinstance(m.name, bytes) else m.name
        if name == METADATA_NAME:
            return bytes(np.asarray(model.buffers[m.buffer].data, dtype=np.uint8)).decode()
    return None


def with_tensor_names(path: Path, contract: dict[str, Any]) -> dict[str, Any]:
    """The contract naming the file's own input and output tensors (litert-torch picks the names)."""
    runner = LiteRTRunner(path, 1)
    contract = json.loads(json.dumps(contract))
    contract["input"]["name"] = str(runner.inp["name"])
    contract["output"]["landmarks"]["name"] = str(runner.out["name"])
    out_dtype = np.dtype(runner.out["dtype"]).name
    if out_dtype != "float32":
        scale, zero = runner.out["quantization"]
        contract["output"]["landmarks"].update(
            dtype=out_dtype, quantization={"scale": float(scale), "zero_point": int(zero)}
        )
    if runner.presence_out is not None and "presence" in contract["output"]:
        contract["output"]["presence"]["name"] = str(runner.presence_out["name"])
    return contract


@register_target
class TFLiteTarget(Target):
    name = "tflite"
    capabilities = Capabilities(
        routes=(
            Route(
                "litert",
                ("fp32", "fp16", "int8"),
                ("int8",),
                "tflite",
                _LITERT,
                "litert-torch from the torch module; fp16 weights via ai-edge-quantizer; int8 via PT2E",
            ),
            Route(
                "tf",
                ("fp32", "fp16", "int8"),
                ("int8",),
                "tflite-tf",
                _TF,
                "ONNX (opset 20) -> onnx2tf -> TensorFlow Lite converter; NHWC input",
                layout="NHWC",
            ),
        ),
        runtime="ai-edge-litert interpreter, here (any OS; the same file runs on Android/iOS)",
        runtime_platforms=None,
        suffix=".tflite",
        runtime_packages=(("ai_edge_litert", "ai-edge-litert"),),
        runtime_extra="tflite",
        qat_routes=qat_routes_for("tflite"),
        display_name="TFLite (LiteRT)",
    )

    def convert_qat(self, model: Any, spec: ExportSpec, out_dir: Path) -> Path:
        """A PT2E QAT graph: convert_pt2e turns its fake-quant ops into Q/DQ pairs, litert-torch into int8 kernels."""
        import copy

        import litert_torch
        import torch
        from litert_torch.quantize import pt2e_quantizer, quant_config
        from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e

        quiet_litert()
        quantized = convert_pt2e(copy.deepcopy(model).eval(), fold_quantize=False)
        # litert-torch reads only the quantizer's mode (static, not dynamic) from this config; the scales
        # are the graph's own, learned in fine-tuning.
        scheme = pt2e_quantizer.PT2EQuantizer().set_global(
            pt2e_quantizer.get_symmetric_quantization_config(is_per_channel=True, is_qat=True)
        )
        example = (torch.rand(1, 3, spec.input_size, spec.input_size),)
        edge = litert_torch.convert(quantized, example, quant_config=quant_config.QuantConfig(pt2e_quantizer=scheme))
        path = out_dir / self.artifact_name("model")
        out_dir.mkdir(parents=True, exist_ok=True)
        edge.export(str(path))
        self._embed(path, spec, {"qat": PT2E_QAT_SCHEME})
        return path

    @staticmethod
    def _embed(path: Path, spec: ExportSpec, extra: dict[str, str] | None = None) -> None:
        if not spec.contract:  # a spec built outside the export pipeline (latency screens): nothing to embed
            return
        contract = with_tensor_names(path, spec.contract)
        contract["export"] = {**contract.get("export", {}), **(extra or {})}
        spec.contract.update(contract)  # the sidecar carries the same document
        embed_tflite_metadata(path, contract)

    def check_options(self, precision: str, route: Route, options: Any) -> None:
        from edgekp.errors import UnsupportedOptionError

        mode = options.int8_mode
        if precision == "int8" and mode not in INT8_MODES:
            raise UnsupportedOptionError(f"tflite int8_mode {mode!r} is not one of: {', '.join(INT8_MODES)}")
        if precision == "int8" and options.int8_ops and (mode != "static" or route.name == "tf"):
            raise UnsupportedOptionError("tflite.int8_ops needs int8_mode static on the litert route")

    def input_form(self, route: Route, precision: str, options: Any) -> tuple[Any, str]:
        if route.name == "tf":
            return "NHWC", "float32"
        if self.typed_options(options).input == "tensor":
            return "NCHW", "float32"
        # int8: a fully integer model takes the camera's bytes; float models take [0, 1] floats, which
        # GPU delegates want.
        return "NHWC", "uint8" if precision == "int8" else "float32"

    def convert(self, model: Any, spec: ExportSpec, calibration: np.ndarray | None, out_dir: Path) -> Path:
        options = self.typed_options(spec.options)
        path = out_dir / self.artifact_name("model")
        out_dir.mkdir(parents=True, exist_ok=True)
        if spec.route == "tf":
            from edgekp.export.tflite_tf import convert_via_onnx2tf

            # The ONNX step of the tf route uses the dynamo exporter (tflite's options have no exporter).
            convert_via_onnx2tf(model, spec.input_size, spec.precision, options.int8_mode, calibration, path)
        else:
            convert_litert(
                model,
                spec.input_size,
                spec.precision,
                options.int8_mode,
                calibration,
                path,
                tuple(options.float_modules),
                tuple(options.int8_ops),
                spec.layout,
                spec.input_dtype,
            )
        self._embed(path, spec)
        return path

    def load_runner(self, artifact: Path, threads: int = 1) -> Runner:
        try:
            return LiteRTRunner(artifact, threads)
        except (ValueError, RuntimeError) as exc:
            raise EdgeKPError(
                f"ai-edge-litert cannot load {str(artifact)!r}: {str(exc).splitlines()[0][:200]}"
            ) from None

    def profile(self, artifact: Path, image: np.ndarray, threads: int = 1) -> Profile:
        return profile_tflite(artifact, image, threads)

    def artifact_input_shape(self, artifact: Path) -> list[int]:
        return tflite_input_shape(artifact)

    def verify(self, artifact: Path, spec: ExportSpec) -> dict[str, Any]:
        runner = LiteRTRunner(artifact, 1)
        expected = spec.layout
        ops = _op_counts(artifact)
        problems = [f"input layout {runner.layout}, expected {expected}"] if runner.layout != expected else []
        if np.dtype(runner.inp["dtype"]).name != spec.input_dtype and spec.route != "tf":
            problems.append(f"input dtype {np.dtype(runner.inp['dtype']).name}, expected {spec.input_dtype}")
        problems += [
            f"Flex/custom op {op} (the plain interpreter cannot run it)"
            for op in ops
            if op.startswith(("Flex", "CUSTOM"))
        ]
        from edgekp.export.tflite_delegates import delegate_readiness

        return {
            "input_layout": runner.layout,
            "input_dtype": np.dtype(runner.inp["dtype"]).name,
            "output_dtype": np.dtype(runner.out["dtype"]).name,
            "op_types": ops,
            "problems": problems,
            "delegates": delegate_readiness(artifact),
        }

    def contract_text(self, artifact: Path) -> str | None:
        return read_tflite_metadata_text(artifact)

    def embedded_metadata(self, artifact: Path) -> dict[str, str]:
        text = read_tflite_metadata_text(artifact)
        data = json.loads(text) if text else {}
        return {str(k): str(v) for k, v in (data.get("export", data) if isinstance(data, dict) else {}).items()}


def _operators(path: Path) -> Any:
    """(op type name, first output tensor type or None) for every operator of a .tflite file."""
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils as fbu

    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    model = fbu.read_model(str(path))
    for graph in model.subgraphs:
        for op in graph.operators:
            code = model.operatorCodes[op.opcodeIndex]
            builtin = fbu.get_builtin_code_from_operator_code(code)
            name = names.get(builtin, str(builtin))
            if name == "CUSTOM":
                custom = code.customCode.decode() if isinstance(code.customCode, bytes) else str(code.customCode)
                name = f"CUSTOM:{custom}"
            yield name, (graph.tensors[op.outputs[0]].type if len(op.outputs) else None)


def _count(names: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))


def int8_op_counts(path: Path) -> dict[str, int]:
    """Operators that compute in int8 (first output tensor int8), by type; QUANTIZE/DEQUANTIZE left out.

    What an ignored scope changes: a module kept in float keeps its op types but computes in float."""
    from ai_edge_litert import schema_py_generated as schema

    return _count(
        name
        for name, out in _operators(path)
        if out == schema.TensorType.INT8 and name not in ("QUANTIZE", "DEQUANTIZE")
    )


def _op_counts(path: Path) -> dict[str, int]:
    return _count(name for name, _ in _operators(path))
