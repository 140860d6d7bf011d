"""Attention-head pruning: importance scores, choice and physical removal, the prune compressor."""

from edgekp.compress.heads.importance import ScoringContext, normalize_per_layer, score_heads
from edgekp.compress.heads.pruner import HeadPruner, prune, torch_latency_ms
from edgekp.compress.heads.removal import choose_heads, head_counts, plan_quota, remove_heads

__all__ = [
    "HeadPruner",
    "ScoringContext",
    "choose_heads",
    "head_counts",
    "normalize_per_layer",
    "plan_quota",
    "prune",
    "remove_heads",
    "score_heads",
    "torch_latency_ms",
]
