"""timm-style registry: each variant is a small registered function that fills an HvitConfig.

``create_model(name, **overrides)`` builds a variant with any config field replaced (``num_points``,
``input_size``, a stage as a partial mapping such as ``ref2={"heads": [2, 3]}``, ...).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

from edgekp.config.base import nearest
from edgekp.errors import ConfigError
from edgekp.models.config import HvitConfig, StageConfig
from edgekp.models.hvit import KeypointHVit

DEFAULT_MODEL = "kp_hvit_s"

_REGISTRY: dict[str, Callable[[], HvitConfig]] = {}


def register_model(fn: Callable[[], HvitConfig]) -> Callable[[], HvitConfig]:
    """Register a variant under its function's name."""
    if fn.__name__ in _REGISTRY:
        raise ValueError(f"model variant {fn.__name__!r} registered twice")
    _REGISTRY[fn.__name__] = fn
    return fn


@register_model
def kp_hvit_test() -> HvitConfig:
    """Tiny, for tests: forward + backward at 64 px in milliseconds. Not for accuracy."""
    return HvitConfig(
        stem_channels=(8, 16),
        ref1=StageConfig(16, (2, 2), head_dim=8),
        ref2=StageConfig(24, (2, 2), head_dim=8),
        ref3=StageConfig(32, (2,), head_dim=8),
        level2=StageConfig(48, (2,), head_dim=8),
        fusion_dim=16,
        head_channels=8,
        head_hidden=32,
    )


@register_model
def kp_hvit_t() -> HvitConfig:
    """Smaller and faster than the default: narrower stages, fewer heads, one module in level 2."""
    return HvitConfig(
        stem_channels=(16, 24),
        ref1=StageConfig(32, (2, 2), head_dim=16),
        ref2=StageConfig(64, (2, 2), head_dim=16),
        ref3=StageConfig(96, (3, 3), head_dim=16),
        level2=StageConfig(128, (4,), head_dim=16),
        fusion_dim=32,
        head_channels=24,
        head_hidden=192,
    )


@register_model
def kp_hvit_s() -> HvitConfig:
    """The default: <= 1.5M parameters and <= 0.35 GFLOPs at 128 px (see benchmarks/model_cost.py)."""
    return HvitConfig()


@register_model
def kp_hvit_b() -> HvitConfig:
    """Larger: wider stages, three modules in reference network 3, a bigger head."""
    return HvitConfig(
        stem_channels=(24, 48),
        ref1=StageConfig(64, (2, 2), head_dim=32),
        ref2=StageConfig(128, (4, 4), head_dim=32),
        ref3=StageConfig(192, (6, 6, 6), head_dim=32),
        level2=StageConfig(256, (8, 8), head_dim=32),
        fusion_dim=64,
        head_channels=48,
        head_hidden=384,
    )


# Quantization-friendly blocks (issue 14): a ReLU feature map (no float EXP/SELECT island in int8
# graphs), numerator and denominator from one matmul (QAT quantizes both alike), BatchNorm token
# norms (folded into the next Linear at export). Same stage layout as their parents.
_QUANT_FRIENDLY = {"attn_kernel": "relu", "attn_fused_denominator": True, "token_norm": "batch"}


@register_model
def kp_hvit_s_q() -> HvitConfig:
    """kp_hvit_s with the quantization-friendly blocks: the int8 deployment variant."""
    return HvitConfig(**_QUANT_FRIENDLY)


@register_model
def kp_hvit_t_q() -> HvitConfig:
    """kp_hvit_t with the quantization-friendly blocks: aimed at <= 0.5x MediaPipe face_landmark latency in int8."""
    return kp_hvit_t().replace(**_QUANT_FRIENDLY)


@register_model
def kp_hvit_t_qf() -> HvitConfig:
    """kp_hvit_t_q with the input normalization folded into the first convolution (what
    recipes/prune/t_q_fold.yaml makes of a trained kp_hvit_t_q): with the int8 TFLite export's float
    first convolution, the <= 0.5x MediaPipe face_landmark.tflite variant of issue 14."""
    return kp_hvit_t_q().replace(input_norm="folded")


@register_model
def kp_hvit_t_ql() -> HvitConfig:
    """kp_hvit_t_q as recipes/prune/t_q_blocks2_heads50.yaml leaves it: half the heads (the ones Taylor
    importance kept), one transformer module fewer in ref2 and ref3, the input normalization folded
    into the first convolution. Aimed at <= 0.5x MediaPipe face_landmark.tflite latency (issue 14)."""
    return kp_hvit_t_q().replace(
        ref1={"heads": [1, 1]}, ref2={"heads": [2]}, ref3={"heads": [2]}, level2={"heads": [1]}, input_norm="folded"
    )


@register_model
def kp_hvit_b_q() -> HvitConfig:
    """kp_hvit_b with the quantization-friendly blocks, trained without a graph input normalization
    (the first convolution and its BatchNorm see [0, 1] pixels): wide enough for int8 kernels to pay
    off. Untrained weights, 1 thread on a VNNI host: TFLite int8 0.41-0.51x its fp32 (kp_hvit_t_qf
    0.79-0.89x, kp_hvit_s_q 0.57-0.69x), OpenVINO 0.70-0.85x (benchmarks/int8_width.py)."""
    return kp_hvit_b().replace(**_QUANT_FRIENDLY, input_norm="folded")


def list_models(pattern: str = "*") -> list[str]:
    """Registered variant names matching a glob pattern, sorted."""
    return sorted(name for name in _REGISTRY if fnmatch.fnmatchcase(name, pattern))


def model_config(name: str, **overrides: Any) -> HvitConfig:
    """The config ``create_model`` would build, without building it."""
    if name not in _REGISTRY:
        hint = nearest(name, _REGISTRY)
        tip = f"; did you mean {hint!r}?" if hint else ""
        raise ConfigError(f"unknown model {name!r}{tip} (registered: {', '.join(list_models())})")
    config = _REGISTRY[name]()
    return config.replace(**overrides) if overrides else config


def create_model(name: str = DEFAULT_MODEL, **overrides: Any) -> KeypointHVit:
    """Build a registered variant, with config fields overridden by keyword."""
    return KeypointHVit(model_config(name, **overrides), variant=name)


def model_from_config(config: dict[str, Any] | HvitConfig, variant: str = "custom") -> KeypointHVit:
    """Rebuild a model from a config (e.g. a checkpoint's, possibly with pruned head counts)."""
    cfg = config if isinstance(config, HvitConfig) else HvitConfig.from_dict(config)
    return KeypointHVit(cfg, variant=variant)
