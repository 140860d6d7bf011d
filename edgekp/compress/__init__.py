"""Compression: head pruning and quantization-aware training, on the trainer's fine-tuning loop."""

# Importing the package registers the QAT checkpoint format with the one loader (edgekp.lineage.checkpoints).
from edgekp.compress import checkpoint_formats as _checkpoint_formats  # noqa: F401
