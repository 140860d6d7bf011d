"""Latency of one call: perf_counter, a warm-up, then enough timed calls, median and p90.

"Enough" means at least ``min_runs`` calls or at least ``min_seconds`` of timing, whichever comes
first, but never fewer than ``floor_runs`` (a median of 3 calls means little). Callers fix the
thread count of the runtime; the CLI sets OMP_WAIT_POLICY=PASSIVE so idle OpenMP threads sleep
rather than spin on a shared machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class LatencySettings:
    warmup: int = 10
    min_runs: int = 100
    min_seconds: float = 2.0
    floor_runs: int = 10
    max_seconds: float = 60.0  # a pathological artifact must not stall the bench forever


def measure(fn: Callable[[], Any], settings: LatencySettings = LatencySettings()) -> dict[str, float | int]:
    """Time ``fn()`` and return p50_ms, p90_ms, runs, seconds and warmup."""
    for _ in range(settings.warmup):
        fn()
    times: list[float] = []
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - start
        enough = len(times) >= settings.min_runs or elapsed >= settings.min_seconds
        if (enough and len(times) >= settings.floor_runs) or elapsed >= settings.max_seconds:
            break
    ms = np.asarray(times) * 1000.0
    return {
        "p50_ms": float(np.median(ms)),
        "p90_ms": float(np.percentile(ms, 90)),
        "runs": len(times),
        "seconds": float(elapsed),
        "warmup": settings.warmup,
    }
