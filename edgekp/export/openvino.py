"""OpenVINO: ``ov.convert_model`` from the torch module, fp32/fp16 IR, int8 through NNCF PTQ; CPU plugin.

``ov.save_model`` compresses weights to fp16 unless told otherwise, so the flag is always explicit.
int8 is edgekp.export.nncf_quantize (the overflow fix from the host's ISA flags, as for QAT).
The IR's batch is static (``openvino.batch``, default 1): a dynamic batch costs the CPU plugin shape
inference and reallocation on every call, more in int8 (more ops) than in fp32.
By default (``openvino.input: image``) the IR takes u8 NHWC RGB pixels: PrePostProcessor compiles the
conversion, the layout change and the 1/255 scale into the model, after quantization, so NNCF
calibrates the model on the float images it was trained on. The contract is ``rt_info["edgekp"]``, a
JSON string. The runtime (runner, profiler) is edgekp.export.openvino_runtime.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from edgekp.config.export import OpenVINOOptions
from edgekp.errors import EdgeKPError
from edgekp.export.base import (
    PRECISIONS,
    Capabilities,
    ExportSpec,
    Route,
    Runner,
    Target,
    qat_routes_for,
    register_target,
    require_modules,
)
from edgekp.export.contract import INPUT_NAME, OUTPUT_NAME, has_presence
from edgekp.export.nncf_quantize import nncf_quantize, one_face_samples, overflow_fix_for_host
from edgekp.export.openvino_runtime import OpenVINORunner, openvino_input_shape, profile_openvino
from edgekp.export.profiling import Profile
from edgekp.logs import get_logger

log = get_logger(__name__)

_OV = (("openvino", "openvino"),)
_NNCF = (("nncf", "nncf"),)
RT_SECTION = "edgekp"  # rt_info["edgekp"]: the contract as a JSON string, in the IR's .xml


def float_scope(model: Any, float_modules: tuple[str, ...], prefix: str = "") -> Any:
    """NNCF's ignored scope for torch modules kept float, by the node names ov.convert_model gives them
    (``__module.head.fc1/aten::linear/MatMul``). Every name must be a module of ``model``."""
    import nncf

    require_modules(model, float_modules, "openvino.float_modules")
    return nncf.IgnoredScope(
        patterns=[rf"__module\.{re.escape(prefix + name)}([./].*)?" for name in float_modules], validate=False
    )


def _prefix(model: Any) -> str:
    """Module paths of a presence model, converted inside edgekp.export.deploy.DeployModel, start with it."""
    from edgekp.export.contract import has_presence
    from edgekp.export.deploy import MODEL_PREFIX

    return f"{MODEL_PREFIX}." if has_presence(model) else ""


def _batch(options: OpenVINOOptions) -> int | None:
    """The recipe's ``openvino.batch`` (None: dynamic)."""
    return None if options.batch is None else int(options.batch)


@register_target
class OpenVINOTarget(Target):
    name = "openvino"
    capabilities = Capabilities(
        routes=(
            Route(
                "torch",
                ("fp32", "fp16", "int8"),
                ("int8",),
                "openvino",
                _OV + _NNCF,
                "ov.convert_model from the torch module; int8 by nncf.quantize (PTQ)",
            ),
        ),
        runtime="OpenVINO CPU plugin, here (x86/ARM CPUs, Intel GPUs/NPUs elsewhere)",
        runtime_platforms=None,
        suffix=".xml",
        runtime_packages=_OV,
        runtime_extra="openvino",
        qat_routes=qat_routes_for("openvino"),
        metadata_options=PRECISIONS,  # the batch option shapes the IR at every precision
        display_name="OpenVINO",
    )

    def input_form(self, route: Route, precision: str, options: Any) -> tuple[Any, str]:
        return ("NCHW", "float32") if self.typed_options(options).input == "tensor" else ("NHWC", "uint8")

    def from_torch(self, model: Any, size: int, batch: int | None = 1) -> Any:
        """The torch module as an (unsaved) OpenVINO model, batch ``batch`` (None: dynamic)."""
        import openvino as ov
        import torch

        from edgekp.export.contract import LANDMARKS, PRESENCE, has_presence
        from edgekp.export.deploy import DeployModel

        presence = has_presence(model)
        source = DeployModel(model.eval(), "NCHW", "float32").eval() if presence else model.eval()
        ov_model = ov.convert_model(
            source,
            example_input=torch.rand(batch or 1, 3, size, size),
            input=[ov.PartialShape([batch or -1, 3, size, size])],
        )
        ov_model.inputs[0].get_tensor().set_names({INPUT_NAME})
        ov_model.outputs[0].get_tensor().set_names({LANDMARKS if presence else OUTPUT_NAME})
        if presence:
            ov_model.outputs[1].get_tensor().set_names({PRESENCE})
        return ov_model

    @staticmethod
    def _image_input(ov_model: Any) -> Any:
        """u8 NHWC RGB in; the f32 conversion, the layout change and the 1/255 scale inside the model."""
        import openvino as ov
        from openvino.preprocess import ColorFormat, PrePostProcessor

        ppp = PrePostProcessor(ov_model)
        inp = ppp.input()
        inp.tensor().set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC")).set_color_format(ColorFormat.RGB)
        inp.model().set_layout(ov.Layout("NCHW"))
        inp.preprocess().convert_element_type(ov.Type.f32).scale(255.0)
        return ppp.build()

    def save(
        self, ov_model: Any, spec: ExportSpec | None, out_dir: Path, fp16: bool, extra: dict[str, str] | None = None
    ) -> Path:
        """``spec`` None (or falsy): a bare IR for latency studies (edgekp.bench.int8_speedup), no contract."""
        import json

        import openvino as ov

        if spec and spec.image_input:
            ov_model = self._image_input(ov_model)
        if spec and spec.contract:
            if extra:
                spec.contract["export"] = {**spec.contract.get("export", {}), **extra}
            ov_model.set_rt_info(json.dumps(spec.contract, sort_keys=True), [RT_SECTION])
        path = out_dir / self.artifact_name("model")
        out_dir.mkdir(parents=True, exist_ok=True)
        # Explicit: save_model defaults to fp16 weights, which would make "fp32" silently fp16.
        ov.save_model(ov_model, str(path), compress_to_fp16=fp16)
        return path

    def convert_qat(self, model: Any, spec: ExportSpec, out_dir: Path) -> Path:
        # NNCF's FakeQuantize ops convert to OpenVINO's: the QAT ranges are the int8 scales; the rest stays fp32.
        options = self.typed_options(spec.options)
        return self.save(self.from_torch(model, spec.input_size, _batch(options)), spec, out_dir, fp16=False)

    def convert(self, model: Any, spec: ExportSpec, calibration: np.ndarray | None, out_dir: Path) -> Path:
        options = self.typed_options(spec.options)
        ov_model = self.from_torch(model, spec.input_size, _batch(options))
        extra: dict[str, str] = {}
        if spec.precision == "int8":
            if calibration is None or len(calibration) == 0:
                raise EdgeKPError("openvino int8 needs a calibration set (--calib)")
            fix = overflow_fix_for_host() if options.overflow_fix == "auto" else options.overflow_fix
            log.info("openvino int8: nncf.quantize on %d faces, overflow_fix=%s", len(calibration), fix)
            float_modules = tuple(options.float_modules)
            if has_presence(model) and "presence" not in float_modules:
                # The presence head stays float: quantized, its logit moved by up to 10 on an AVX-512 VNNI host
                # (AMD EPYC, no AMX) and 19 % of the parity set's face decisions flipped; float, it is a few
                # small matmuls.
                float_modules += ("presence",)
            # Transformer scheme: on the shipped model the NME cost fell from +10.4 % to +1.4 % (against CNN's).
            ov_model = nncf_quantize(
                ov_model,
                one_face_samples(calibration),
                overflow_fix=fix,
                ignored_scope=float_scope(model, float_modules, _prefix(model)) if float_modules else None,
                bias_correction=False,
            )
            extra["nncf_overflow_fix"] = fix
        return self.save(ov_model, spec, out_dir, fp16=spec.precision == "fp16", extra=extra)

    def artifact_files(self, artifact: Path) -> list[Path]:
        bin_file = artifact.with_suffix(".bin")
        return [artifact, bin_file] if artifact.suffix == ".xml" and bin_file.is_file() else [artifact]

    def load_runner(self, artifact: Path, threads: int = 1) -> Runner:
        try:
            return OpenVINORunner(artifact, threads)
        except RuntimeError as exc:
            raise EdgeKPError(f"OpenVINO cannot load {str(artifact)!r}: {str(exc).splitlines()[0][:200]}") from None

    def profile(self, artifact: Path, image: np.ndarray, threads: int = 1) -> Profile:
        return profile_openvino(artifact, image, threads)

    def artifact_input_shape(self, artifact: Path) -> list[int]:
        return openvino_input_shape(artifact)

    def verify(self, artifact: Path, spec: ExportSpec) -> dict[str, Any]:
        import openvino as ov

        model = ov.Core().read_model(str(artifact))
        ops: dict[str, int] = {}
        for op in model.get_ops():
            name = op.get_type_name()
            ops[name] = ops.get(name, 0) + 1
        weight_types = sorted(
            {str(op.get_output_element_type(0)) for op in model.get_ops() if op.get_type_name() == "Constant"}
        )
        problems = []
        if spec.precision == "int8" and not ops.get("FakeQuantize"):
            problems.append("no FakeQuantize ops: the model was not quantized")
        if spec.precision == "fp16" and "<Type: 'float16'>" not in weight_types and "f16" not in " ".join(weight_types):
            problems.append("no fp16 constants: weights were not compressed")
        return {"op_types": dict(sorted(ops.items())), "constant_types": weight_types, "problems": problems}

    def contract_text(self, artifact: Path) -> str | None:
        import openvino as ov

        model = ov.Core().read_model(str(artifact))
        if not model.has_rt_info([RT_SECTION]):
            return None
        value = model.get_rt_info([RT_SECTION])
        try:
            return str(value.astype(str))
        except (RuntimeError, TypeError):  # an old export's section of flat keys, not a string
            return None
