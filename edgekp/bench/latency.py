"""Latency of one call: perf_counter, a warm-up, then enough timed calls, median and p90.

"Enough" means at least ``min_runs`` calls or at least ``min_seconds`` of timing, whichever comes
first, but never fewer than ``floor_runs`` (a median of 3 calls means little). Callers fix the
thread count of the runtime.

OpenMP (PyTorch's intra-op pool) lets idle worker threads spin by default. On a machine whose cores
are shared (two cores, another job running) a spinning worker steals the core the other thread
needs, and PyTorch at 2 threads ran several times slower than at 1 (the shipped model, 2-core host
under load, round-robin medians: 258 vs 54 ms with spinning waits, 29 vs 35 ms with sleeping ones). Sleeping waits
(OMP_WAIT_POLICY=PASSIVE) must be asked for before torch is
first imported, so ``import edgekp`` sets that default (a user's own setting wins).
``thread_count`` sets torch's threads around one timed block and restores them, and
``measure_round_robin`` times several thread counts in turns so a load change hits all of them alike.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from edgekp.threads import torch_threads


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


@contextmanager
def thread_count(threads: int | None) -> Iterator[None]:
    """torch's intra-op threads set to ``threads`` for the block, then restored (no-op when torch is not loaded)."""
    if threads is None or "torch" not in sys.modules:  # timing ONNX/TFLite alone need not load torch
        yield
        return
    with torch_threads(threads):
        yield


def _stats(times: list[float], seconds: float, warmup: int) -> dict[str, float | int]:
    ms = np.asarray(times) * 1000.0
    return {
        "p50_ms": float(np.median(ms)),
        "p90_ms": float(np.percentile(ms, 90)),
        "runs": len(times),
        "seconds": float(seconds),
        "warmup": warmup,
    }


def measure_round_robin(
    calls: dict[int, Callable[[], Any]], settings: LatencySettings = LatencySettings(), rounds: int = 5, rewarm: int = 2
) -> dict[int, dict[str, float | int]]:
    """Time each thread count's call in ``rounds`` turns (threads set and restored around each turn).

    Each turn re-warms ``rewarm`` calls (a grown thread pool starts cold) and times its share of the
    settings' runs; a slow spell of a shared machine then lands on every thread count, not on one."""
    times: dict[int, list[float]] = {t: [] for t in calls}
    spent: dict[int, float] = dict.fromkeys(calls, 0.0)
    for t, fn in calls.items():
        with thread_count(t):
            for _ in range(settings.warmup):
                fn()
    per_turn_runs = max(1, -(-max(settings.min_runs, settings.floor_runs) // rounds))
    per_turn_seconds = settings.min_seconds / rounds
    start = time.perf_counter()
    for _ in range(rounds):
        for t, fn in calls.items():
            with thread_count(t):
                for _ in range(rewarm):
                    fn()
                turn = time.perf_counter()
                while True:
                    t0 = time.perf_counter()
                    fn()
                    times[t].append(time.perf_counter() - t0)
                    done = time.perf_counter() - turn
                    if len(times[t]) % per_turn_runs == 0 or done >= per_turn_seconds:
                        break
                spent[t] += done
        if time.perf_counter() - start >= settings.max_seconds:
            break
    return {t: _stats(times[t], spent[t], settings.warmup) for t in calls}
