"""The export recipe: which targets and precisions, the calibration/parity set, the tolerances and
per-target options."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from edgekp.config.base import StrictModel

TargetName = Literal["onnx", "tflite", "coreml", "openvino"]
PrecisionName = Literal["fp32", "fp16", "int8"]


class ExportItem(StrictModel):
    target: TargetName
    precision: PrecisionName = "fp32"
    route: str | None = Field(None, description="conversion route (tflite: litert or tf); None: the target's default")


class Tolerance(StrictModel):
    max_abs: float | None = Field(None, gt=0, description="max |artifact - torch| in normalized coordinates")
    nme_rel: float | None = Field(None, gt=0, description="max relative NME increase over torch, e.g. 0.05 = 5 %")


class Tolerances(StrictModel):
    fp32: Tolerance = Field(default_factory=lambda: Tolerance(max_abs=1e-4))
    fp16: Tolerance = Field(default_factory=lambda: Tolerance(max_abs=1e-3))
    int8: Tolerance = Field(default_factory=lambda: Tolerance(nme_rel=0.05))


class OnnxOptions(StrictModel):
    exporter: Literal["dynamo", "legacy"] = Field("dynamo", description="dynamo (legacy as fallback) or legacy only")
    simplify: bool = True


class TFLiteOptions(StrictModel):
    int8_mode: Literal["static", "dynamic"] = Field("static", description="static: calibrated activations; dynamic: int8 weights, runtime activation ranges")


class CoreMLOptions(StrictModel):
    int8_mode: Literal["weights", "palettize", "weights_activations"] = Field(
        "weights", description="int8 weights, k-means palettized weights, or int8 weights+activations (macOS only)")
    palettize_bits: int = Field(6, ge=1, le=8)
    minimum_deployment_target: Literal["iOS15", "iOS16", "iOS17", "iOS18"] = "iOS16"


class OpenVINOOptions(StrictModel):
    overflow_fix: Literal["auto", "enable", "disable", "first_layer_only"] = Field(
        "auto", description="NNCF overflow fix; auto: enabled on x86 hosts without VNNI")


class ExportRecipe(StrictModel):
    kind: Literal["export"] = "export"
    version: Literal[1] = 1
    exports: list[ExportItem] = Field(
        default_factory=lambda: [ExportItem(target="onnx")],
        description="what 'edgekp export' produces when --target is not given",
    )
    calibration: str = Field("calibration/synthetic_64.yaml", description="calibration set definition (int8 calibration)")
    parity: str | None = Field(None, description="parity set definition; None: the calibration set")
    data_root: str | None = Field(None, description="data root for calibration sets that read real faces")
    parity_min_faces: int = Field(64, ge=1)
    threads: int = Field(1, ge=1, description="runtime threads for parity runs")
    tolerances: Tolerances = Field(default_factory=Tolerances)
    onnx: OnnxOptions = Field(default_factory=OnnxOptions)
    tflite: TFLiteOptions = Field(default_factory=TFLiteOptions)
    coreml: CoreMLOptions = Field(default_factory=CoreMLOptions)
    openvino: OpenVINOOptions = Field(default_factory=OpenVINOOptions)
