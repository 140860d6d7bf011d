"""Thread settings that put back what they found.

torch's intra-op thread count is process-wide, so a stage (training, fine-tuning, a PyTorch runner,
a timed block) that needs N threads sets it inside ``torch_threads`` and the caller gets its own
setting back, even when the stage raises. ``thread_count`` is the same for timing code that may run
without torch loaded (timing ONNX/TFLite alone need not load it).

OpenMP (PyTorch's intra-op pool) lets idle worker threads spin by default. On a machine whose cores
are shared (two cores, another job running) a spinning worker steals the core the other thread
needs, and PyTorch at 2 threads ran several times slower than at 1 (the shipped model, 2-core host
under load, round-robin medians: 258 vs 54 ms with spinning waits, 29 vs 35 ms with sleeping ones).
Sleeping waits (OMP_WAIT_POLICY=PASSIVE) must be asked for before torch is first imported, so
``import edgekp`` sets that default (a user's own setting wins).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def torch_threads(threads: int | None) -> Iterator[int]:
    """Run the block with torch at ``threads`` intra-op threads (None: leave it); restores the old count."""
    import torch

    before = torch.get_num_threads()
    if threads is None or threads == before:  # nothing to change: no pool resize, nothing to restore
        yield before
        return
    torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        torch.set_num_threads(before)


@contextmanager
def thread_count(threads: int | None) -> Iterator[None]:
    """torch's intra-op threads set to ``threads`` for the block, then restored (no-op when torch is not loaded)."""
    if threads is None or "torch" not in sys.modules:  # timing ONNX/TFLite alone need not load torch
        yield
        return
    with torch_threads(threads):
        yield
