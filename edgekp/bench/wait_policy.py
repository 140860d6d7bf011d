"""PyTorch latency at several thread counts under each OpenMP wait policy, each policy in a fresh process.

edgekp asks for sleeping OpenMP waits (``OMP_WAIT_POLICY=PASSIVE``, set by ``import edgekp`` unless
the user set one). Whether that is the faster choice depends on the host and on what else runs on
it, so it is measured (``benchmarks/thread_latency.py``) rather than asserted in a test. libgomp reads
the variable once, when torch loads, so each policy gets a fresh interpreter that imports torch
before edgekp (edgekp.measure.isolated's ``preload``); inside it the thread counts are timed round
robin (edgekp.measure.timing.time_thread_counts) and compared by median. ``busy_processes`` runs
spinning processes beside the timing, as a shared host would.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from edgekp.measure.isolated import child_main, run_in_fresh_process

POLICIES = {"passive": {"OMP_WAIT_POLICY": "PASSIVE"}, "libgomp default": {}, "active": {"OMP_WAIT_POLICY": "ACTIVE"}}
# Settings of the process's own that would decide the policy or the pool instead of the row's.
_CLEARED = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS")


def wait_policy_latency(threads: list[int], rounds: int) -> dict[str, dict[str, float]]:
    """Per wait policy, the shipped model's PyTorch p50 ms at each thread count (keys: the counts as text)."""
    rows = {}
    with tempfile.TemporaryDirectory(prefix="edgekp_wait_policy_") as tmp:
        for i, (name, extra_env) in enumerate(POLICIES.items()):
            env = {k: v for k, v in os.environ.items() if k not in _CLEARED} | extra_env
            rows[name] = run_in_fresh_process(
                "edgekp.bench.wait_policy",
                {"threads": threads, "rounds": rounds},
                Path(tmp) / f"policy_{i}.json",
                f"timing the {name} wait policy",
                env=env,
                preload=("torch",),  # before edgekp: the environment given to this process decides the policy
                timeout=600,
            )
    return rows


def _busy() -> None:
    while True:
        pass


@contextmanager
def busy_processes(count: int) -> Iterator[None]:
    """``count`` processes spinning on a core each for the block (a shared host's load)."""
    busy = [multiprocessing.Process(target=_busy, daemon=True) for _ in range(count)]
    for proc in busy:
        proc.start()
    try:
        yield
    finally:
        for proc in busy:
            proc.terminate()


def _child(spec: dict[str, Any]) -> dict[str, float]:
    import numpy as np

    from edgekp.bench.predictor import load_predictor
    from edgekp.measure.timing import LatencySettings, time_thread_counts

    x = np.random.default_rng(0).random((1, 3, 128, 128), dtype=np.float32)
    threads = [int(t) for t in spec["threads"]]
    runners = {t: load_predictor(None, threads=t).runner for t in threads}
    settings = LatencySettings(warmup=3, min_runs=36, min_seconds=3.0, floor_runs=12, max_seconds=30.0)
    result = time_thread_counts({t: (lambda r=r: r(x)) for t, r in runners.items()}, settings, rounds=spec["rounds"])
    return {str(t): result[t]["p50_ms"] for t in threads}


if __name__ == "__main__":
    child_main(_child)
