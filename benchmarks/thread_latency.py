"""PyTorch latency at 1 and 2 threads under each OpenMP wait policy, on this host.

edgekp asks for sleeping OpenMP waits (``OMP_WAIT_POLICY=PASSIVE``, set by ``import edgekp`` unless
the user set one). Whether that is the faster choice depends on the host and on what else runs on
it, so it is measured here rather than asserted in a test. Each policy runs in a fresh interpreter
(libgomp reads the variable once, when torch loads); inside it the thread counts are timed round
robin and compared by median (edgekp.bench.wait_policy).

    python -m benchmarks.thread_latency                 # quiet host
    python -m benchmarks.thread_latency --load 1        # one busy process beside it
"""

from __future__ import annotations

import argparse
import os

from edgekp.bench.wait_policy import busy_processes, wait_policy_latency
from edgekp.measure.host import host_info


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--load", type=int, default=0, help="busy processes to run beside the timing (a shared host)")
    args = p.parse_args(argv)
    counts = args.threads.split(",")
    with busy_processes(args.load):
        rows = wait_policy_latency([int(t) for t in counts], args.rounds)
    host = host_info(threads=1)
    print(
        f"host: {host['cpu']}; ISA {' '.join(host['isa'])}; VNNI {host['has_vnni']}; "
        f"{os.cpu_count()} CPUs; {args.load} busy process(es) beside; shipped model, PyTorch, p50 ms (round robin)"
    )
    print(f"{'wait policy':<16}" + "".join(f"{t + ' thr':>10}" for t in counts) + f"{'ratio':>8}")
    for name, p50 in rows.items():
        ratio = p50[counts[-1]] / p50[counts[0]]
        print(f"{name:<16}" + "".join(f"{p50[t]:>10.2f}" for t in counts) + f"{ratio:>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
