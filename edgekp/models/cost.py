"""Model cost: parameter count and FLOPs as torch's FlopCounterMode counts them, and eager latency.

FLOP convention: FlopCounterMode counts a multiply-add as **2 FLOPs** and counts only matmul-like
ops (Linear, matmul/bmm, convolutions); normalization, activations, pooling and elementwise ops are
not counted. MACs are therefore FLOPs / 2.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from edgekp.measure.threads import torch_threads
from edgekp.measure.timing import LatencySettings, time_call


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


@torch.inference_mode()
def torch_latency(
    model: nn.Module, input_size: int | None = None, runs: int = 30, warmup: int = 5, threads: int | None = 1
) -> dict[str, float | int]:
    """Eager latency of one 1-image forward pass: p50_ms, p90_ms (edgekp.measure.timing.time_call) over
    ``runs`` timed calls after ``warmup``, with ``threads`` torch threads (restored after)."""
    size = input_size if input_size is not None else int(model.input_size)
    was_training = model.training
    model.eval()
    with torch_threads(threads):
        try:
            x = torch.rand(1, 3, size, size, device=next(model.parameters()).device)
            return time_call(lambda: model(x), LatencySettings.fixed(runs, warmup))
        finally:
            model.train(was_training)
