"""Synthetic faces rendered per second on one core (issue 3 asks >= 200 at 128 px).

Usage: python benchmarks/synth_speed.py [--n 1000] [--size 128]
Prints wall-clock and CPU-time rates (CPU time is the fairer figure on a busy shared machine).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import cv2

from edgekp.data.synthetic import render_synthetic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cv2.setNumThreads(1)  # one core, as the issue measures it
    render_synthetic(20, args.size, seed=99)  # warm-up: imports, assets, caches
    walls, cpus = [], []
    for r in range(args.repeats):
        w, c = time.perf_counter(), time.process_time()
        render_synthetic(args.n, args.size, seed=r)
        walls.append(args.n / (time.perf_counter() - w))
        cpus.append(args.n / (time.process_time() - c))
    walls.sort()
    cpus.sort()
    print(
        f"host: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; {args.n} faces at {args.size} px, "
        f"{args.repeats} repeats"
    )
    print(
        f"synthetic faces/s (median): {walls[len(walls) // 2]:.0f} wall-clock, {cpus[len(cpus) // 2]:.0f} per "
        "CPU-second"
    )


if __name__ == "__main__":
    main()
