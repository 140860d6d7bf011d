"""The patent's hierarchical linear-attention keypoint model, its registry, checkpoint I/O and cost."""

from edgekp.models.attention import LinearAttention, gate_gradients
from edgekp.models.config import HvitConfig, StageConfig
from edgekp.models.cost import count_flops, count_parameters
from edgekp.models.hvit import KeypointHVit
from edgekp.models.registry import (
    DEFAULT_MODEL,
    create_model,
    list_models,
    model_config,
    model_from_config,
    register_model,
)

__all__ = [
    "DEFAULT_MODEL",
    "HvitConfig",
    "KeypointHVit",
    "LinearAttention",
    "StageConfig",
    "count_flops",
    "count_parameters",
    "create_model",
    "gate_gradients",
    "list_models",
    "model_config",
    "model_from_config",
    "register_model",
]
