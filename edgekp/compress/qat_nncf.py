"""NNCF QAT: nncf.quantize on the torch model starts it, the trainer's loop fine-tunes it.

State is saved with NNCF's config API (``nncf.torch.get_config`` / ``load_from_config``) plus the
state dict, so a run restores without re-calibrating. Export is the targets' QAT routes
(edgekp.export: OpenVINO converts the FakeQuantize ops, ONNX writes Q/DQ pairs).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from edgekp.config.qat import QatRecipe
from edgekp.logs import get_logger

log = get_logger(__name__)


def _ensure_extension() -> None:
    # NNCF compiles its CPU fake-quant kernels on first use under a 60 s timeout, which a busy
    # 2-core host can miss; building here has no timeout and is cached afterwards. On a build
    # failure NNCF itself falls back to torch-native ops.
    import nncf.torch

    nncf.torch.force_build_cpu_extensions()


def ignored_patterns(ignored: list[str]) -> list[str]:
    """NNCF node names are module paths with '/' (e.g. head/fc1/linear/0): one pattern per module."""
    import re

    return [re.escape(name.replace(".", "/")) + "/.*" for name in ignored]


def int8_numerics(recipe: QatRecipe) -> dict[str, Any]:
    """For the QAT manifest: the host's ISA and, for NNCF, the overflow fix 'auto' resolved to.

    The overflow fix (7-bit weights) is decided by the host that *builds* the model: 'auto' gives
    8-bit weights on a VNNI host, whose int8 file then saturates in onnxruntime's u8s8 kernels on an
    AVX2-only CPU (vpmaddubsw). The manifest says which was built, so a file is not shipped blind.
    """
    from edgekp.measure.host import host_info

    info = host_info()
    out: dict[str, Any] = {"host_isa": info["isa"], "host_vnni": info["has_vnni"]}
    if recipe.quantizer == "nncf":
        from edgekp.export.nncf_quantize import overflow_fix_for_host

        out["overflow_fix"] = overflow_fix_for_host() if recipe.overflow_fix == "auto" else recipe.overflow_fix
    return out


def prepare(model: nn.Module, calibration: np.ndarray, recipe: QatRecipe, ignored: list[str]) -> nn.Module:
    import nncf

    from edgekp.export.nncf_quantize import nncf_quantize  # one setup for PTQ (OpenVINO) and QAT

    _ensure_extension()
    samples = [torch.from_numpy(calibration[i : i + 1]) for i in range(len(calibration))]
    scope = nncf.IgnoredScope(patterns=ignored_patterns(ignored), validate=False) if ignored else None
    model = model.eval()
    return nncf_quantize(
        model,
        samples,
        overflow_fix={"first_layer": "first_layer_only"}.get(recipe.overflow_fix, recipe.overflow_fix),
        preset=recipe.preset,
        transformer=recipe.model_type == "transformer",
        ignored_scope=scope,
    )


_ENUM = "__enum__"


def _plain(value: Any) -> Any:
    """NNCF's config holds Enum members, which weights_only checkpoints refuse: store them as tagged dicts."""
    import enum

    if isinstance(value, enum.Enum):
        return {_ENUM: f"{type(value).__module__}:{type(value).__qualname__}", "value": value.value}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def _revive(value: Any) -> Any:
    import importlib

    if isinstance(value, dict):
        if _ENUM in value:
            module, _, name = str(value[_ENUM]).partition(":")
            if not module.startswith("nncf."):  # only NNCF's own enums are ever rebuilt
                raise ValueError(f"unexpected enum {value[_ENUM]!r} in a QAT checkpoint")
            return getattr(importlib.import_module(module), name)(value["value"])
        return {k: _revive(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_revive(v) for v in value)
    return value


def quant_state(model: nn.Module) -> Any:
    import nncf.torch

    return _plain(nncf.torch.get_config(model))


def restore(model: nn.Module, state: Any, state_dict: dict[str, Any], ignored: list[str]) -> nn.Module:
    import nncf.torch

    _ensure_extension()
    wrapped = nncf.torch.load_from_config(model, _revive(state))
    wrapped.load_state_dict(state_dict)
    return wrapped


def quantizer_names(model: nn.Module) -> list[str]:
    from nncf.torch.quantization.layers import BaseQuantizer

    return [name for name, m in model.named_modules() if isinstance(m, BaseQuantizer)]
