"""Model cost: parameter count and FLOPs as torch's FlopCounterMode counts them.

FLOP convention: FlopCounterMode counts a multiply-add as **2 FLOPs** and counts only matmul-like
ops (Linear, matmul/bmm, convolutions); normalization, activations, pooling and elementwise ops are
not counted. MACs are therefore FLOPs / 2.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameter elements (head gates included unless trainable_only: they are frozen)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def count_flops(model: nn.Module, input_size: int | None = None, batch: int = 1, in_chans: int = 3) -> int:
    """FLOPs of one forward pass at ``input_size`` (default: the model's own), 2 FLOPs per multiply-add."""
    size = input_size if input_size is not None else int(model.input_size)
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        x = torch.rand(batch, in_chans, size, size, device=device)
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(x)
    finally:
        model.train(was_training)
    return int(counter.get_total_flops())
