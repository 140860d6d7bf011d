"""PyTorch at 2 threads is not slower than at 1 beyond noise, and thread counts are restored.

The latency check runs in a fresh interpreter that imports edgekp before torch, with no wait policy
of its own in the environment, as a user's script would: that is where a spinning OpenMP pool made
2 threads several times slower than 1 on a shared 2-core host. Thread counts are timed round-robin
(edgekp.bench.latency.measure_round_robin) and compared by median with a generous margin, so a
loaded machine slows both alike instead of failing the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

CHILD = r"""
import edgekp  # first: sets the OpenMP wait policy before torch loads
import json
import numpy as np
from edgekp.bench.latency import LatencySettings, measure_round_robin
from edgekp.bench.predictor import load_predictor

x = np.random.default_rng(0).random((1, 3, 128, 128), dtype=np.float32)
runners = {t: load_predictor(None, threads=t).runner for t in (1, 2)}
settings = LatencySettings(warmup=3, min_runs=36, min_seconds=3.0, floor_runs=12, max_seconds=30.0)
result = measure_round_robin({t: (lambda r=r: r(x)) for t, r in runners.items()}, settings, rounds=6)
print(json.dumps({"policy": __import__("os").environ.get("OMP_WAIT_POLICY"), "result": result}))
"""


def test_two_threads_not_slower_than_one_beyond_noise() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS", "GOMP_SPINCOUNT")}
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["policy"] == "PASSIVE"
    one, two = out["result"]["1"]["p50_ms"], out["result"]["2"]["p50_ms"]
    # The bug was 3x; noise on a shared 2-core box stays well inside 1.5x (+1 ms for tiny medians).
    assert two <= 1.5 * one + 1.0, f"2 threads p50 {two:.2f} ms vs 1 thread {one:.2f} ms"


def test_thread_count_is_restored_after_the_block() -> None:
    import torch

    from edgekp.bench.latency import thread_count

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        with thread_count(2):
            assert torch.get_num_threads() == 2
        assert torch.get_num_threads() == 1
        with pytest.raises(RuntimeError), thread_count(2):
            raise RuntimeError("a failing timed call")
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_round_robin_gives_every_thread_count_its_runs() -> None:
    from edgekp.bench.latency import LatencySettings, measure_round_robin

    calls = {1: lambda: sum(range(200)), 2: lambda: sum(range(200))}
    result = measure_round_robin(calls, LatencySettings(warmup=1, min_runs=20, min_seconds=10.0, floor_runs=5), rounds=4)
    assert set(result) == {1, 2}
    for stats in result.values():
        assert stats["runs"] == 20 and 0 < stats["p50_ms"] <= stats["p90_ms"]
