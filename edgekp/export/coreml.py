"""CoreML: coremltools from the exported (torch.export) module to an ML Program (``.mlpackage``).

CoreML models execute only on Apple platforms: ``MLModel.predict`` raises on Linux, and activation
quantization calibrates through predict. So on Linux an export is verified structurally (reload the
package without loading it, check the I/O and shapes, count MIL op types, confirm every op is a core
MIL op, read compressed weights back) and its numerics are *estimated* with the torch model in fp16
(plus emulated int8 weights). Every output says that CoreML accuracy and latency need a macOS host.
On macOS the same code runs ``predict`` for real parity and latency (edgekp.export.coreml_runtime).
"""

from __future__ import annotations

import copy
import platform
from pathlib import Path
from typing import Any

import numpy as np

from edgekp.errors import EdgeKPError, UnsupportedOptionError
from edgekp.export.base import (
    PRECISIONS,
    Capabilities,
    ExportSpec,
    Route,
    Runner,
    Target,
    qat_routes_for,
    register_target,
)
from edgekp.export.contract import INPUT_NAME, OUTPUT_NAME
from edgekp.export.coreml_runtime import CoreMLRunner
from edgekp.export.metadata import prefixed, unprefixed
from edgekp.export.runner import TorchRunner
from edgekp.logs import get_logger

log = get_logger(__name__)

MACOS_NOTE = (
    "CoreML accuracy and latency need a macOS host: on this host the export was verified structurally "
    "and its numerics estimated with the torch model in fp16"
)
MACOS_NOTE_FP32 = (
    "CoreML accuracy and latency need a macOS host: on this host the export was verified structurally; "
    "its numerics were not measured (the fp32 program computes as the torch model does)"
)


def macos_note(precision: str) -> str:
    return MACOS_NOTE_FP32 if precision == "fp32" else MACOS_NOTE


QAT_MACOS_NOTE = (
    "CoreML accuracy and latency need a macOS host; on Linux the int8 ML Program is checked structurally only"
)
INT8_MODES = ("weights", "palettize", "weights_activations")
TARGETS = ("iOS15", "iOS16", "iOS17", "iOS18")
_CT = (("coremltools", "coremltools"),)


def on_macos() -> bool:
    return platform.system() == "Darwin"


def _compress(ml: Any, mode: str, bits: int, calibration: np.ndarray | None) -> Any:
    import coremltools.optimize.coreml as cto

    if mode == "palettize":
        config = cto.OptimizationConfig(global_config=cto.OpPalettizerConfig(mode="kmeans", nbits=bits))
        return cto.palettize_weights(ml, config)
    weights = cto.OptimizationConfig(
        global_config=cto.OpLinearQuantizerConfig(mode="linear_symmetric", dtype="int8", granularity="per_channel")
    )
    if mode == "weights_activations":  # refused off macOS by check_options: it calibrates through predict
        samples = [
            {INPUT_NAME: calibration[i : i + 1]} for i in range(len(calibration if calibration is not None else []))
        ]
        act = cto.OptimizationConfig(
            global_config=cto.experimental.OpActivationLinearQuantizerConfig(mode="linear_symmetric")
        )
        ml = cto.experimental.linear_quantize_activations(ml, act, samples)
    return cto.linear_quantize_weights(ml, weights)


def fake_quant_int8_weights(model: Any) -> Any:
    """A copy whose conv/linear weights went through per-output-channel symmetric int8, like coremltools'."""
    import torch

    model = copy.deepcopy(model).eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
                w = module.weight
                scale = w.abs().flatten(1).amax(1).clamp_min(1e-12) / 127.0
                shape = (-1,) + (1,) * (w.dim() - 1)
                w.copy_(torch.round(w / scale.view(shape)).clamp(-127, 127) * scale.view(shape))
    return model


@register_target
class CoreMLTarget(Target):
    name = "coreml"
    capabilities = Capabilities(
        routes=(
            Route(
                "torch",
                ("fp32", "fp16", "int8"),
                (),
                "coreml",
                _CT,
                "coremltools from torch.export to an ML Program; int8 = int8 weights (or palettized)",
            ),
        ),
        runtime="CoreML, macOS/iOS only (structural checks and fp16 estimates on other hosts)",
        runtime_platforms=("Darwin",),
        runtime_os="macOS",
        suffix=".mlpackage",
        runtime_packages=_CT,
        runtime_extra="coreml",
        qat_routes=qat_routes_for("coreml"),
        metadata_options=PRECISIONS,  # the deployment target and compression options matter at every precision
        display_name="CoreML",
    )

    def convert_qat(self, model: Any, spec: ExportSpec, out_dir: Path) -> Path:
        """coremltools' LinearQuantizer model, finalized to quantize/dequantize ops, as an int8 ML Program."""
        import coremltools as ct
        import torch

        size = spec.input_size
        with torch.no_grad():
            traced = torch.jit.trace(_finalized(model), torch.rand(1, 3, size, size))
        ml = ct.convert(
            traced,
            inputs=[ct.TensorType(name=INPUT_NAME, shape=(1, 3, size, size))],
            outputs=[ct.TensorType(name=OUTPUT_NAME)],
            convert_to="mlprogram",
            minimum_deployment_target=ct.target.iOS17,
        )  # int8 activation quantize ops need iOS17
        _describe(ml, spec, [OUTPUT_NAME])
        ml.short_description = QAT_MACOS_NOTE
        path = out_dir / self.artifact_name("model")
        out_dir.mkdir(parents=True, exist_ok=True)
        ml.save(str(path))
        return path

    def check_options(self, precision: str, route: Route, options: Any) -> None:
        mode = options.int8_mode
        if precision == "int8" and mode not in INT8_MODES:
            raise UnsupportedOptionError(f"coreml int8_mode {mode!r} is not one of: {', '.join(INT8_MODES)}")
        if precision == "int8" and mode == "weights_activations" and not on_macos():
            raise UnsupportedOptionError(
                "coreml int8 activations calibrate through MLModel.predict, which needs a macOS host; "
                "supported here: coreml fp32, fp16, int8 with coreml.int8_mode=weights or palettize"
            )
        target = options.minimum_deployment_target
        if target not in TARGETS:
            raise UnsupportedOptionError(
                f"coreml minimum_deployment_target {target!r} is not one of: {', '.join(TARGETS)}"
            )

    def input_form(self, route: Route, precision: str, options: Any) -> tuple[Any, str]:
        # An image input: the app passes a CVPixelBuffer or CGImage, CoreML scales it (1/255) itself.
        return ("NCHW", "float32") if self.typed_options(options).input == "tensor" else ("NHWC", "uint8")

    def convert(self, model: Any, spec: ExportSpec, calibration: np.ndarray | None, out_dir: Path) -> Path:
        import coremltools as ct
        import torch

        from edgekp.export.contract import LANDMARKS, PRESENCE, has_presence
        from edgekp.export.deploy import DeployModel

        options = self.typed_options(spec.options)
        size = spec.input_size
        example = torch.rand(1, 3, size, size)
        presence = has_presence(model)
        source = DeployModel(model.eval(), "NCHW", "float32").eval() if presence else model.eval()
        # torch.export rather than jit.trace: under tracing, shape arithmetic such as the attention's
        # 1.0 / length becomes an int32 tensor op that MIL's 'inverse' rejects; torch.export keeps
        # static sizes as Python numbers.
        with torch.no_grad():
            traced = torch.export.export(source, (example,)).run_decompositions({})
        precision = ct.precision.FLOAT32 if spec.precision == "fp32" else ct.precision.FLOAT16
        target = getattr(ct.target, options.minimum_deployment_target)
        if spec.image_input:
            inputs = [
                ct.ImageType(
                    name=INPUT_NAME,
                    shape=(1, 3, size, size),
                    scale=1.0 / 255.0,
                    bias=[0.0, 0.0, 0.0],
                    color_layout=ct.colorlayout.RGB,
                )
            ]
        else:
            inputs = [ct.TensorType(name=INPUT_NAME, shape=(1, 3, size, size))]
        names = [LANDMARKS, PRESENCE] if presence else [OUTPUT_NAME]
        ml = ct.convert(
            traced,
            inputs=inputs,
            outputs=[ct.TensorType(name=n) for n in names],
            convert_to="mlprogram",
            compute_precision=precision,
            minimum_deployment_target=target,
        )
        if spec.precision == "int8":
            ml = _compress(ml, options.int8_mode, options.palettize_bits, calibration)
        _describe(ml, spec, names)
        ml.short_description = f"edgekp face keypoints ({spec.num_points} points, {spec.precision})"
        path = out_dir / self.artifact_name("model")
        out_dir.mkdir(parents=True, exist_ok=True)
        ml.save(str(path))
        return path

    def load_runner(self, artifact: Path, threads: int = 1) -> Runner:
        if not on_macos():
            raise UnsupportedOptionError(f"cannot run {str(artifact)!r} here: CoreML needs a macOS host")
        try:
            return CoreMLRunner(artifact, threads)
        except Exception as exc:
            raise EdgeKPError(f"CoreML cannot load {str(artifact)!r}: {str(exc)[:200]}") from None

    def reference_runner(self, model: Any, spec: ExportSpec, artifact: Path) -> Runner | None:
        """fp16 (and emulated int8 weights) torch numerics: an estimate, not a CoreML measurement."""
        if spec.precision == "fp32":
            runner = TorchRunner(model, half=False)
            runner.name = "torch-fp32 (no CoreML runtime here: compares torch with itself)"
            return runner
        if spec.route.startswith("qat"):
            # A QAT model already simulates W8A8 in float32 (its fake-quant ops refuse fp16 scales).
            runner = TorchRunner(model, half=False)
            runner.name = "torch fake-quant W8A8 (estimate)"
            return runner
        if spec.precision == "int8" and self.typed_options(spec.options).int8_mode == "weights":
            runner = TorchRunner(fake_quant_int8_weights(model), half=True)
            runner.name = "torch-fp16-int8weights (estimate)"
            return runner
        if spec.precision == "fp16":
            runner = TorchRunner(model, half=True)
            runner.name = "torch-fp16 (estimate)"
            return runner
        return None  # palettized weights: structural checks only

    def verify(self, artifact: Path, spec: ExportSpec) -> dict[str, Any]:
        import coremltools as ct
        import coremltools.optimize.coreml as cto
        from coremltools.converters.mil.mil.ops.registry import SSAOpRegistry

        ml = ct.models.MLModel(str(artifact), skip_model_load=True)
        desc = ml.get_spec().description
        inputs = {i.name: _input_shape(i) for i in desc.input}
        outputs = {o.name: list(o.type.multiArrayType.shape) for o in desc.output}
        problems = []
        s = spec.input_size
        expected = [s, s, 3] if spec.image_input else [1, 3, s, s]
        if inputs != {INPUT_NAME: expected}:
            problems.append(f"inputs {inputs}, expected {{'{INPUT_NAME}': {expected}}}")
        name = spec.contract.get("output", {}).get("landmarks", {}).get("name", OUTPUT_NAME)
        if outputs.get(name) not in ([1, spec.num_points, 2], []):
            problems.append(f"outputs {outputs}, expected {name} [1, {spec.num_points}, 2]")
        ops = _mil_op_counts(ml.get_spec())
        known = set(SSAOpRegistry.core_ops)
        unknown = sorted(op for op in ops if op not in known)
        if unknown:
            problems.append(f"ops outside the core MIL opset (custom/fallback): {', '.join(unknown)}")
        weights = cto.get_weights_metadata(ml, weight_threshold=512)
        dtypes = sorted({str(w.val.dtype) for w in weights.values()})
        compressed = {k: v for k, v in ops.items() if k.startswith("constexpr_")}
        if spec.precision == "int8" and not compressed:
            problems.append("no compressed (constexpr_*) weights found: int8 compression did not apply")
        if spec.precision == "fp16" and "float32" in dtypes:
            problems.append("fp32 weights left in an fp16 model")
        max_unique = max((int(w.unique_values) for w in weights.values()), default=0)
        return {
            "inputs": inputs,
            "outputs": outputs,
            "op_types": ops,
            "compressed_ops": compressed,
            "weights": {"count": len(weights), "dtypes": dtypes, "max_unique_values": max_unique},
            "spec_version": ml.get_spec().specificationVersion,
            "executed": on_macos(),
            "note": "" if on_macos() else macos_note(spec.precision),
            "problems": problems,
            "mil_ops": mil_op_precisions(ml.get_spec()),
            "placement": "compute-unit placement (CPU/GPU/ANE) needs macOS",
        }

    def embedded_metadata(self, artifact: Path) -> dict[str, str]:
        import coremltools as ct

        ml = ct.models.MLModel(str(artifact), skip_model_load=True)
        return unprefixed(dict(ml.get_spec().description.metadata.userDefined))

    def contract_text(self, artifact: Path) -> str | None:
        import coremltools as ct

        from edgekp.export.contract import KEY

        return dict(
            ct.models.MLModel(str(artifact), skip_model_load=True).get_spec().description.metadata.userDefined
        ).get(KEY)


def _input_shape(feature: Any) -> list[int]:
    """[H, W, 3] for an image input, the multi-array shape otherwise."""
    if feature.type.WhichOneof("Type") == "imageType":
        return [int(feature.type.imageType.height), int(feature.type.imageType.width), 3]
    return list(feature.type.multiArrayType.shape)


def _describe(ml: Any, spec: ExportSpec, outputs: list[str]) -> None:
    """The contract (user_defined_metadata["edgekp"]), the flat metadata, and short I/O descriptions."""
    import json

    from edgekp.export.contract import KEY, PRESENCE

    s = spec.input_size
    if spec.contract and spec.image_input:  # what the app hands CoreML: an image, not a tensor
        spec.contract["input"]["kind"] = "image: CVPixelBuffer or CGImage, RGB (ct.ImageType, scale 1/255 inside)"
    ml.user_defined_metadata.update(prefixed({**spec.metadata, "macos_note": macos_note(spec.precision)}))
    if spec.contract:
        ml.user_defined_metadata[KEY] = json.dumps(spec.contract, sort_keys=True)
    what = (
        f"RGB image {s}x{s}: the square face crop"
        if spec.image_input
        else f"1x3x{s}x{s} float32 RGB in [0, 1]: the face crop"
    )
    ml.input_description[INPUT_NAME] = f"{what} (how to cut it: user_defined_metadata['edgekp'], docs/deploy.md)"
    for name in outputs:
        ml.output_description[name] = (
            "presence logit 1x1: a face is in the crop when > threshold"
            if name == PRESENCE
            else f"1x{spec.num_points}x2 landmarks (x, y) in crop units: crop pixel = u * {s} - 0.5"
        )


def _finalized(model: Any) -> Any:
    """The quantized (quantize/dequantize) torch model coremltools converts; the fake-quant model is kept.

    What LinearQuantizer.finalize does, without the quantizer object that prepared the model (a restored
    run has only the GraphModule): the qconfigs are recorded in the graph."""
    from coremltools.optimize.torch.quantization._backend_config import get_backend_config
    from torch.ao.quantization.quantize_fx import convert_to_reference_fx

    return convert_to_reference_fx(copy.deepcopy(model).eval(), backend_config=get_backend_config())


def mil_op_precisions(spec: Any) -> dict[str, dict[str, int]]:
    """MIL op type -> {output dtype: count}: what computes in which precision (placement needs macOS)."""
    from coremltools.proto import MIL_pb2

    names = {v: k for k, v in MIL_pb2.DataType.items()}
    out: dict[str, dict[str, int]] = {}
    for function in spec.mlProgram.functions.values():
        for block in function.block_specializations.values():
            for op in block.operations:
                for o in op.outputs[:1]:
                    kind = o.type.WhichOneof("type")
                    dtype = names.get(o.type.tensorType.dataType, "?") if kind == "tensorType" else kind or "?"
                    per = out.setdefault(op.type, {})
                    per[dtype] = per.get(dtype, 0) + 1
    return dict(sorted(out.items()))


def _mil_op_counts(spec: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for function in spec.mlProgram.functions.values():
        for block in function.block_specializations.values():
            for op in block.operations:
                counts[op.type] = counts.get(op.type, 0) + 1
    return dict(sorted(counts.items()))
