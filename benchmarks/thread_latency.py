"""PyTorch latency at 1 and 2 threads under each OpenMP wait policy, on this host.

edgekp asks for sleeping OpenMP waits (``OMP_WAIT_POLICY=PASSIVE``, set by ``import edgekp`` unless
the user set one). Whether that is the faster choice depends on the host and on what else runs on
it, so it is measured here rather than asserted in a test. Each policy runs in a fresh interpreter
(libgomp reads the variable once, when torch loads); inside it the thread counts are timed round
robin and compared by median.

    python benchmarks/thread_latency.py                 # quiet host
    python benchmarks/thread_latency.py --load 1        # one busy process beside it
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys
import numpy as np
import torch  # before edgekp: the environment given to this process decides the policy
sys.path.insert(0, sys.argv[1])
from edgekp.bench.latency import LatencySettings, measure_round_robin
from edgekp.bench.predictor import load_predictor

x = np.random.default_rng(0).random((1, 3, 128, 128), dtype=np.float32)
threads = [int(t) for t in sys.argv[2].split(",")]
runners = {t: load_predictor(None, threads=t).runner for t in threads}
settings = LatencySettings(warmup=3, min_runs=36, min_seconds=3.0, floor_runs=12, max_seconds=30.0)
result = measure_round_robin({t: (lambda r=r: r(x)) for t, r in runners.items()}, settings, rounds=int(sys.argv[3]))
print(json.dumps({str(t): result[t]["p50_ms"] for t in threads}))
"""

POLICIES = {"passive": {"OMP_WAIT_POLICY": "PASSIVE"}, "libgomp default": {}, "active": {"OMP_WAIT_POLICY": "ACTIVE"}}


def _busy() -> None:
    while True:
        pass


def _time_policy(extra_env: dict[str, str], threads: str, rounds: int) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS")}
    env.update(extra_env)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT), threads, str(rounds)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--load", type=int, default=0, help="busy processes to run beside the timing (a shared host)")
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from edgekp.host import host_info

    busy = [multiprocessing.Process(target=_busy, daemon=True) for _ in range(args.load)]
    for proc in busy:
        proc.start()
    try:
        rows = {name: _time_policy(env, args.threads, args.rounds) for name, env in POLICIES.items()}
    finally:
        for proc in busy:
            proc.terminate()
    host = host_info(threads=1)
    print(
        f"host: {host['cpu']}; ISA {' '.join(host['isa'])}; VNNI {host['has_vnni']}; "
        f"{os.cpu_count()} CPUs; {args.load} busy process(es) beside; shipped model, PyTorch, p50 ms (round robin)"
    )
    counts = args.threads.split(",")
    print(f"{'wait policy':<16}" + "".join(f"{t + ' thr':>10}" for t in counts) + f"{'ratio':>8}")
    for name, p50 in rows.items():
        ratio = p50[counts[-1]] / p50[counts[0]]
        print(f"{name:<16}" + "".join(f"{p50[t]:>10.2f}" for t in counts) + f"{ratio:>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
