"""NNCF post-training quantization, set up in one place: the OpenVINO target's int8 (PTQ), NNCF QAT's
starting point (edgekp.compress.qat_nncf) and the int8 latency study (edgekp.bench.int8_speedup).

On AVX2 hosts without VNNI (this project's CI CPU) int8 kernels saturate unless NNCF quantizes with
the overflow fix (7-bit weights; error fell from 0.096 to 0.0015 here), so 'auto' enables it from the
host's ISA flags. One spelling and one 'auto' rule for PTQ and QAT (OpenVINOOptions / QatRecipe).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np


def overflow_fix_for_host() -> str:
    """'enable' on x86 without VNNI (int8 accumulators can saturate), else 'disable'."""
    from edgekp.measure.host import host_info

    info = host_info()
    x86 = info["machine"] in ("x86_64", "AMD64", "i686")
    return "enable" if x86 and not info["has_vnni"] else "disable"


def nncf_overflow_fix(setting: str) -> Any:
    """NNCF's OverflowFix for a recipe's ``overflow_fix`` ('auto' resolved for this host)."""
    from nncf.quantization.advanced_parameters import OverflowFix

    setting = overflow_fix_for_host() if setting == "auto" else setting
    return {"enable": OverflowFix.ENABLE, "disable": OverflowFix.DISABLE, "first_layer_only": OverflowFix.FIRST_LAYER}[
        setting
    ]


def one_face_samples(calibration: np.ndarray) -> list[np.ndarray]:
    """N x 3 x S x S float images as N batch-1 samples (the exported graphs take one face per call)."""
    return [np.ascontiguousarray(calibration[i : i + 1], np.float32) for i in range(len(calibration))]


def nncf_quantize(
    model: Any,
    samples: list[Any],
    *,
    overflow_fix: str,
    preset: Literal["performance", "mixed"] = "performance",
    transformer: bool = True,
    ignored_scope: Any = None,
    bias_correction: bool = True,
) -> Any:
    """``nncf.quantize`` on every sample (an OpenVINO model or a torch module: NNCF takes either).

    ``transformer``: NNCF's transformer scheme (keeps the attention's activation-by-activation matmuls
    and the normalizer out of int8), else its default (CNN) scheme. ``bias_correction`` False: the
    OpenVINO route's fast bias correction tries to write a per-channel bias into the head's scalar
    "+ 0.5" constant and fails ("cannot reshape array of size 136 into (1, 1)")."""
    import nncf
    from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters

    return nncf.quantize(
        model,
        nncf.Dataset(samples),
        subset_size=len(samples),
        preset=nncf.QuantizationPreset.MIXED if preset == "mixed" else nncf.QuantizationPreset.PERFORMANCE,
        ignored_scope=ignored_scope,
        model_type=nncf.ModelType.TRANSFORMER if transformer else None,
        advanced_parameters=AdvancedQuantizationParameters(
            overflow_fix=nncf_overflow_fix(overflow_fix), disable_bias_correction=not bias_correction
        ),
    )
