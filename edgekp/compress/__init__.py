"""Compression: quantization-aware training and attention-head pruning, one lifecycle."""
