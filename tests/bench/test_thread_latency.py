"""Sleeping OpenMP waits are asked for before torch loads, and thread counts are restored.

A spinning OpenMP pool made PyTorch at 2 threads several times slower than at 1 on a loaded 2-core
host; sleeping waits (OMP_WAIT_POLICY=PASSIVE) fix that, but only if the variable is set before
libgomp loads, i.e. before torch is imported. So the check runs in a fresh interpreter that imports
edgekp first, with no wait policy of its own in the environment, as a user's script would.

Which policy is faster depends on the host and its load (on a quiet AMD EPYC VM sleeping waits made
2 threads 2.8x slower than 1; under load spinning ones made them 3-13x slower), so no test here
times anything: ``benchmarks/thread_latency.py`` measures it per host.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

CHILD = r"""
import json, os, sys
import edgekp  # first: sets the OpenMP wait policy before torch loads
print(json.dumps({"policy": os.environ.get("OMP_WAIT_POLICY"), "torch_loaded": "torch" in sys.modules}))
"""


def test_import_edgekp_asks_for_sleeping_waits_before_torch_loads() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS", "GOMP_SPINCOUNT")}
    done = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out == {"policy": "PASSIVE", "torch_loaded": False}


def test_a_users_own_wait_policy_wins() -> None:
    env = {**os.environ, "OMP_WAIT_POLICY": "ACTIVE"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["policy"] == "ACTIVE"
