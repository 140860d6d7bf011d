"""Structured pruning beyond attention heads: MLP hidden channels and whole transformer blocks.

Both remove structure physically: the pruned widths (or the shorter stages) are written into the
model config, the network is rebuilt from that config alone and the kept weights are loaded, so no
mask is left in any exported graph (the same contract as edgekp.compress.heads).
"""

from edgekp.compress.channels.removal import (
    check_block_removal,
    mlp_channel_scores,
    mlp_widths,
    removable_blocks,
    remove_blocks,
    remove_mlp_channels,
)

__all__ = [
    "check_block_removal",
    "mlp_channel_scores",
    "mlp_widths",
    "removable_blocks",
    "remove_blocks",
    "remove_mlp_channels",
]
