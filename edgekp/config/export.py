"""The export recipe: which targets and precisions, the calibration/parity set, the tolerances and
per-target options."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from edgekp.config.base import StrictModel
from edgekp.errors import ConfigError

# The built-in export targets, declared once, in listing order: edgekp.export registers one Target per
# name (and refuses any undeclared one), the CLI's --target choices and the recipes' enums derive from
# this. Each has its options class (the recipe section of that name), declared at the end of this file.
TARGET_NAMES: tuple[str, ...] = ("onnx", "tflite", "coreml", "openvino")
PRECISION_NAMES: tuple[str, ...] = ("fp32", "fp16", "int8")
TargetName = Literal[TARGET_NAMES]  # type: ignore[valid-type]
PrecisionName = Literal[PRECISION_NAMES]  # type: ignore[valid-type]

# How many times `edgekp predict` (and every app, through the contract's crop.refine) re-crops on its
# own prediction after the first crop from the face box. Chosen from benchmarks/refine_choice.py
# (docs/deploy.md has the table; shipped model, 300W holdout and MERL-RAV test): from a BlazeFace box
# 1 pass is within 1 % of the best (2), from the previous frame's landmarks 1 is best or within 1 %,
# from the true landmark box 0 is best and 1 costs 3 %; and 1 pass is 2 model calls, not 3.
DEFAULT_REFINE = 1
# The best count per box source in that measurement, for apps that know where their box comes from.
REFINE_BY_BOX_SOURCE: dict[str, int] = {"detector": 2, "previous_frame_landmarks": 1, "landmark_box": 0}
# What an artifact's input takes: "image" (the default) is what a camera frame gives, with conversion
# and normalization inside the graph (TFLite: NHWC, uint8 for int8 and float32 [0, 1] otherwise;
# OpenVINO: NHWC uint8; CoreML: an RGB image); "tensor" is the old N x 3 x S x S float32 in [0, 1].
InputForm = Literal["image", "tensor"]
_INPUT_HELP = (
    "image: what a camera frame gives (conversion and normalization inside the graph); tensor: NCHW float32 in [0, 1]"
)


class ExportItem(StrictModel):
    target: TargetName
    precision: PrecisionName = "fp32"
    route: str | None = Field(None, description="conversion route (tflite: litert or tf); None: the target's default")


class Tolerance(StrictModel):
    max_abs: float | None = Field(None, gt=0, description="max |artifact - torch| in normalized coordinates")
    nme_rel: float | None = Field(None, gt=0, description="max relative NME increase over torch, e.g. 0.05 = 5 %")

    @model_validator(mode="after")
    def _checks_something(self) -> Tolerance:
        # Both null would make parity pass with zero checks: an export that was never compared.
        if self.max_abs is None and self.nme_rel is None:
            raise ConfigError(
                "a parity tolerance needs max_abs or nme_rel (or both); with both null nothing would be checked"
            )
        return self


class Tolerances(StrictModel):
    fp32: Tolerance = Field(default_factory=lambda: Tolerance(max_abs=1e-4))
    fp16: Tolerance = Field(default_factory=lambda: Tolerance(max_abs=1e-3))
    int8: Tolerance = Field(default_factory=lambda: Tolerance(nme_rel=0.05))


class OnnxOptions(StrictModel):
    exporter: Literal["dynamo", "legacy"] = Field("dynamo", description="dynamo (legacy as fallback) or legacy only")
    simplify: bool = True


class TFLiteOptions(StrictModel):
    int8_mode: Literal["static", "dynamic"] = Field(
        "static", description="static: calibrated activations; dynamic: int8 weights, runtime activation ranges"
    )
    # Kept in float by default (docs/toolchain-notes.md): the fully connected head (0.2 % of kp_hvit_s's
    # FLOPs; quantizing it cost +1 to +2 % NME) and the input normalization with the first convolution
    # (3 input channels: XNNPACK's int8 kernels there were slower than fp32 and made the whole int8
    # graph slower than fp32).
    float_modules: list[str] = Field(
        default_factory=lambda: ["normalize", "stem.0", "head"],
        description="modules kept in float in int8 exports (litert route); [] quantizes all",
    )
    # LiteRT's quantizer leaves matmuls between activations, residual adds, ReLU, GELU, means and
    # sigmoids in float; these make them int8 too (static mode). None helped kp_hvit_t_qf's latency
    # (docs/toolchain-notes.md), so the default is none.
    int8_ops: list[Literal["matmul", "add", "mul", "relu", "gelu", "mean", "sigmoid"]] = Field(
        default_factory=list, description="extra op kinds quantized in static int8 exports (litert route)"
    )
    input: InputForm = Field("image", description=_INPUT_HELP + " (litert route; the tf route is NHWC float32)")


class CoreMLOptions(StrictModel):
    int8_mode: Literal["weights", "palettize", "weights_activations"] = Field(
        "weights", description="int8 weights, k-means palettized weights, or int8 weights+activations (macOS only)"
    )
    palettize_bits: int = Field(6, ge=1, le=8)
    minimum_deployment_target: Literal["iOS15", "iOS16", "iOS17", "iOS18"] = "iOS16"
    input: InputForm = Field("image", description=_INPUT_HELP + " (image: a ct.ImageType RGB input)")


# NNCF's overflow fix, one spelling for PTQ (openvino.overflow_fix) and QAT (a qat recipe's overflow_fix).
OverflowFix = Literal["auto", "enable", "disable", "first_layer_only"]


class OpenVINOOptions(StrictModel):
    overflow_fix: OverflowFix = Field("auto", description="NNCF overflow fix; auto: enabled on x86 hosts without VNNI")
    # A dynamic batch makes the CPU plugin infer shapes and reallocate on every call: on kp_hvit_b_q
    # (1 thread) the dynamic IR took 1.4-1.6x the static one's time in fp32 and 1.6-1.7x in int8
    # (docs/toolchain-notes.md, benchmarks/openvino_batch.py).
    batch: int | None = Field(
        1,
        ge=1,
        description="the IR's batch: a static N (default 1, one face per call, the fast form); "
        "None: any batch (a dynamic dimension, slower per call)",
    )
    # The fully connected head stays float, as in TFLite: on MERL-RAV test (box) the int8 IR's cost against
    # fp32 fell from +1.1 % to +0.3 % (shipped model) and from +1.2 % to +0.3 % (kp_hvit_b_q), for about
    # 0.03 ms on b_q (docs/toolchain-notes.md).
    float_modules: list[str] = Field(
        default_factory=lambda: ["head"],
        description="modules kept in float in int8 exports (NNCF ignored scope by module name); [] quantizes all",
    )
    input: InputForm = Field("image", description=_INPUT_HELP + " (image: u8 NHWC RGB via PrePostProcessor)")


class ExportRecipe(StrictModel):
    kind: Literal["export"] = "export"
    version: Literal[1] = 1
    exports: list[ExportItem] = Field(
        default_factory=lambda: [ExportItem(target="onnx")],
        description="what 'edgekp export' produces when --target is not given",
    )
    calibration: str = Field(
        "calibration/synthetic_64.yaml", description="calibration set definition (int8 calibration)"
    )
    parity: str | None = Field(None, description="parity set definition; None: the calibration set")
    data_root: str | None = Field(None, description="data root for calibration sets that read real faces")
    parity_min_faces: int = Field(64, ge=1)
    threads: int = Field(1, ge=1, description="runtime threads for parity runs")
    tolerances: Tolerances = Field(default_factory=Tolerances)
    onnx: OnnxOptions = Field(default_factory=OnnxOptions)
    tflite: TFLiteOptions = Field(default_factory=TFLiteOptions)
    coreml: CoreMLOptions = Field(default_factory=CoreMLOptions)
    openvino: OpenVINOOptions = Field(default_factory=OpenVINOOptions)


# target name -> its options class (the config class a Target reads its typed options from). The built-in
# targets' are the recipe sections above; a target defined outside edgekp declares its own here
# (declare_target) before it registers (edgekp.export.base.register_target). Such a target is reached
# through the Python API (edgekp.export.export_one) and its options are its class's defaults.
_TARGET_OPTIONS: dict[str, type[StrictModel]] = {
    "onnx": OnnxOptions,
    "tflite": TFLiteOptions,
    "coreml": CoreMLOptions,
    "openvino": OpenVINOOptions,
}
assert tuple(_TARGET_OPTIONS) == TARGET_NAMES


def declare_target(name: str, options: type[StrictModel]) -> None:
    """Declare a target defined outside edgekp, with its options class (refused for a taken name)."""
    if name in _TARGET_OPTIONS or name in PRECISION_NAMES or not name.isidentifier():
        raise ConfigError(f"export target name {name!r} is taken or not an identifier")
    _TARGET_OPTIONS[name] = options


def forget_target(name: str) -> None:
    """Undo declare_target (the built-in targets stay)."""
    if name not in TARGET_NAMES:
        _TARGET_OPTIONS.pop(name, None)


def declared_targets() -> tuple[str, ...]:
    """Every declared target name: the built-in ones in TARGET_NAMES order, then the declared ones."""
    return tuple(_TARGET_OPTIONS)


def target_options_type(name: str) -> type[StrictModel]:
    return _TARGET_OPTIONS[name]
