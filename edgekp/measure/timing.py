"""The one timing loop: perf_counter around each call, a warm-up, then enough timed calls; median and p90.

"Enough" means at least ``min_runs`` calls or at least ``min_seconds`` of timing, whichever comes
first, but never fewer than ``floor_runs`` (a median of 3 calls means little). Callers fix the
thread count of the runtime (``edgekp.measure.threads``).

- ``timed_calls``: the loop itself (every other function here, and every latency figure edgekp
  prints, goes through it).
- ``time_call``: one callable: warm-up, the loop, p50/p90.
- ``round_robin``: several callables in turns, so a slow spell of a shared machine lands on all of
  them; a ratio between two of them can then be taken within a turn.
- ``time_thread_counts``: one call per torch thread count, timed round robin (threads set per turn).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from edgekp.measure.threads import thread_count

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class LatencySettings:
    warmup: int = 10
    min_runs: int = 100
    min_seconds: float = 2.0
    floor_runs: int = 10
    max_seconds: float = 60.0  # a pathological artifact must not stall the bench forever

    @classmethod
    def fixed(cls, runs: int, warmup: int) -> LatencySettings:
        """Exactly ``runs`` timed calls after ``warmup`` untimed ones, however long they take."""
        return cls(warmup=warmup, min_runs=runs, min_seconds=math.inf, floor_runs=runs, max_seconds=math.inf)


def warm_up(fn: Callable[[], Any], calls: int) -> None:
    """Untimed calls: the first calls allocate, pick kernels and grow thread pools."""
    for _ in range(calls):
        fn()


def timed_calls(
    fn: Callable[[], Any],
    min_runs: int,
    min_seconds: float = math.inf,
    floor_runs: int = 1,
    max_seconds: float = math.inf,
    after: Callable[[], Any] | None = None,
) -> tuple[list[float], float]:
    """Seconds of each ``fn()`` call, and the loop's elapsed seconds: calls go on until ``min_runs`` calls
    or ``min_seconds`` have passed (but never fewer than ``floor_runs``), or ``max_seconds`` have passed.
    ``after`` runs after each call, outside its timing (e.g. reading a runtime's per-layer counters)."""
    times: list[float] = []
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if after is not None:
            after()
        elapsed = time.perf_counter() - start
        enough = len(times) >= min_runs or elapsed >= min_seconds
        if (enough and len(times) >= floor_runs) or elapsed >= max_seconds:
            return times, elapsed


def latency_stats(times: list[float], seconds: float, warmup: int) -> dict[str, float | int]:
    """p50_ms, p90_ms, runs, seconds and warmup of call times given in seconds."""
    ms = np.asarray(times) * 1000.0
    return {
        "p50_ms": float(np.median(ms)),
        "p90_ms": float(np.percentile(ms, 90)),
        "runs": len(times),
        "seconds": float(seconds),
        "warmup": warmup,
    }


def time_call(fn: Callable[[], Any], settings: LatencySettings = LatencySettings()) -> dict[str, float | int]:
    """Time ``fn()`` and return p50_ms, p90_ms, runs, seconds and warmup."""
    warm_up(fn, settings.warmup)
    times, elapsed = timed_calls(fn, settings.min_runs, settings.min_seconds, settings.floor_runs, settings.max_seconds)
    return latency_stats(times, elapsed, settings.warmup)


@dataclass
class Turns:
    """One callable's timings in a round robin: the call times (s) of each of its turns."""

    turns: list[list[float]] = field(default_factory=list)
    seconds: float = 0.0  # time spent in its timed loops

    @property
    def pooled(self) -> list[float]:
        return [t for turn in self.turns for t in turn]

    def turn_medians_ms(self) -> list[float]:
        return [float(np.median(turn)) * 1000.0 for turn in self.turns]


def round_robin(
    calls: Mapping[K, Callable[[], Any]],
    rounds: int,
    runs_per_turn: int,
    seconds_per_turn: float = math.inf,
    warmup: int = 0,
    rewarm: int = 0,
    max_seconds: float = math.inf,
    setting: Callable[[K], AbstractContextManager[Any]] | None = None,
) -> dict[K, Turns]:
    """Each callable in turn, ``rounds`` times: per turn ``rewarm`` untimed calls, then ``runs_per_turn``
    timed calls (fewer if ``seconds_per_turn`` pass first). ``warmup`` untimed calls each come first;
    rounds stop early once ``max_seconds`` have passed. ``setting(key)`` is entered around each of a
    key's warm-ups and turns (e.g. its thread count)."""
    around = setting or (lambda _key: nullcontext())
    out: dict[K, Turns] = {key: Turns() for key in calls}
    for key, fn in calls.items():
        with around(key):
            warm_up(fn, warmup)
    start = time.perf_counter()
    for _ in range(rounds):
        for key, fn in calls.items():
            with around(key):
                warm_up(fn, rewarm)
                times, spent = timed_calls(fn, runs_per_turn, seconds_per_turn)
            out[key].turns.append(times)
            out[key].seconds += spent
        if time.perf_counter() - start >= max_seconds:
            break
    return out


def time_thread_counts(
    calls: dict[int, Callable[[], Any]], settings: LatencySettings = LatencySettings(), rounds: int = 5, rewarm: int = 2
) -> dict[int, dict[str, float | int]]:
    """Time each thread count's call in ``rounds`` turns (threads set and restored around each turn).

    Each turn re-warms ``rewarm`` calls (a grown thread pool starts cold) and times its share of the
    settings' runs; a slow spell of a shared machine then lands on every thread count, not on one."""
    per_turn_runs = max(1, -(-max(settings.min_runs, settings.floor_runs) // rounds))
    turns = round_robin(
        calls,
        rounds,
        per_turn_runs,
        settings.min_seconds / rounds,
        warmup=settings.warmup,
        rewarm=rewarm,
        max_seconds=settings.max_seconds,
        setting=thread_count,
    )
    return {t: latency_stats(turns[t].pooled, turns[t].seconds, settings.warmup) for t in calls}
