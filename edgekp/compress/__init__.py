"""Compression: head pruning and quantization-aware training, on the trainer's fine-tuning loop; pruned
runs against their same-budget control (edgekp.compress.prune_vs_control)."""

from edgekp.compress import formats as _formats  # noqa: F401  (registers the QAT checkpoint format with edgekp.checkpoints)
