"""edgekp data synth: render the embedded synthetic face set as an iBUG .pts folder."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from edgekp.errors import ConfigError
from edgekp.logs import get_logger

log = get_logger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, required=True, help="number of faces to render")
    parser.add_argument("--out", type=Path, required=True, help="folder to write (PNG + .pts per face, poses.csv)")
    parser.add_argument("--size", type=int, default=128, help="image side in pixels (default 128)")
    parser.add_argument("--seed", type=int, default=0, help="random seed: the same seed gives the same bytes")
    parser.add_argument("--json", action="store_true", help="print a machine-readable summary")


def run(args: argparse.Namespace) -> int:
    from edgekp.data.synthetic import write_synthetic

    if args.n < 1:
        raise ConfigError(f"--n must be at least 1 (got {args.n})")
    if not 32 <= args.size <= 1024:
        raise ConfigError(f"--size must be between 32 and 1024 pixels (got {args.size})")
    if args.seed < 0:
        raise ConfigError(f"--seed must be >= 0 (got {args.seed})")
    if args.out.exists() and not args.out.is_dir():
        raise ConfigError(f"--out {str(args.out)!r} exists and is not a folder")
    start = time.perf_counter()
    write_synthetic(args.out, args.n, args.size, args.seed)
    elapsed = time.perf_counter() - start
    summary = {
        "faces": args.n,
        "size": args.size,
        "seed": args.seed,
        "out": str(args.out),
        "seconds": round(elapsed, 2),
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"wrote {args.n} synthetic faces ({args.size} px, seed {args.seed}) to {args.out} in {elapsed:.1f} s")
    return 0
