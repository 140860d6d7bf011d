"""The QAT recipe: which quantizer simulates int8 during fine-tuning, for which target, what stays float.

Quantizer and target go together (an int8 artifact is only as right as the scheme it was trained
under), so the pairs are data here and an impossible pair is refused when the recipe is read.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from edgekp.config.base import StrictModel
from edgekp.config.compress import CompressRecipeBase
from edgekp.config.export import OverflowFix, TargetName
from edgekp.errors import ConfigError

Quantizer = Literal["nncf", "coreml", "pt2e"]
QatTarget = TargetName  # every export target; QUANTIZER_TARGETS says which quantizer serves which

# quantizer -> the export targets whose int8 scheme it simulates. Declared once: each export Target's
# QAT routes are built from this table (edgekp.export.base.qat_routes_for).
QUANTIZER_TARGETS: dict[str, tuple[str, ...]] = {
    "nncf": ("openvino", "onnx"),  # NNCF FakeQuantize -> OpenVINO IR, or ONNX Q/DQ pairs
    "coreml": ("coreml",),  # coremltools.optimize.torch LinearQuantizer (W8A8)
    "pt2e": ("tflite",),  # torch PT2E QAT with litert-torch's quantizer -> TFLite int8
}


class CalibrationSpec(StrictModel):
    source: str = Field(
        "train",
        description="'train' (faces drawn from the fine-tuning training data) or a calibration set definition file",
    )
    faces: int = Field(128, ge=1, le=4096, description="how many faces initialise the quantization ranges")


class QatRecipe(CompressRecipeBase):
    kind: Literal["qat"] = "qat"
    quantizer: Quantizer = Field("nncf", description="nncf | coreml | pt2e (the TFLite route)")
    target: QatTarget = Field("openvino", description="the export target the int8 model is meant for")
    preset: Literal["performance", "mixed"] = Field(
        "performance", description="performance: symmetric activations; mixed: asymmetric activations (nncf only)"
    )
    ignored_scopes: list[str] = Field(
        default_factory=list,
        description="Python regexes matched in full against module names (e.g. 'head', '.*\\.attn\\.normalizer'); "
        "a matching module and everything inside it stays float; every pattern must match a module",
    )
    overflow_fix: OverflowFix = Field(
        "auto", description="nncf: 7-bit weights against int8 overflow; auto = enable on x86 without VNNI"
    )
    # Measured on MERL-RAV test (epoch-17 kp_hvit_s_merlrav, 300 faces, box NME, fp32 2.97 %): NNCF's default
    # scheme 4.40 % right after quantization, its transformer scheme 2.99 %; so transformer is the default.
    model_type: Literal["transformer", "default"] = Field(
        "transformer", description="nncf: the quantization scheme (transformer keeps attention-side ops in float)"
    )
    calibration: CalibrationSpec = Field(default_factory=CalibrationSpec)

    @model_validator(mode="after")
    def _pair(self) -> QatRecipe:
        targets = QUANTIZER_TARGETS[self.quantizer]
        if self.target not in targets:
            raise ConfigError(
                f"quantizer {self.quantizer!r} cannot produce a {self.target!r} int8 model (it serves: "
                f"{', '.join(targets)}); "
                f"use quantizer {next(q for q, t in QUANTIZER_TARGETS.items() if self.target in t)!r} for {self.target}"
            )
        if self.preset == "mixed" and self.quantizer != "nncf":
            raise ConfigError(f"preset 'mixed' is an nncf option; quantizer {self.quantizer!r} has a fixed scheme")
        return self
