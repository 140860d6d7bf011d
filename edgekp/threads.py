"""Thread settings that put back what they found: torch's intra-op thread count is process-wide, so a
stage (training, fine-tuning, a PyTorch runner) that needs N threads sets it inside this context and
the caller gets its own setting back, even when the stage raises."""

from __future__ import annotations

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
