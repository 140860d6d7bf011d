"""Continue a committed training snapshot on this machine: a new run warm-started from its weights.

    python scripts/continue_run.py training/kp_hvit_s_merlrav --out runs/kp_hvit_s_merlrav_more
    python scripts/continue_run.py training/kp_hvit_s_merlrav --out runs/kp_hvit_s_merlrav_more --train \
        --device auto --set optim.max_epochs=20 --set optim.lr=0.0005

Snapshots hold model weights, not optimizer state (that stays out of git), so a continuation is a new
run whose ``model.init_from`` is the snapshot: its schedule starts again (set a shorter one with
``--set``). The snapshot's files are checked against their sha256s first. Without --train it prints the
command; with it, runs it. The snapshot holds no data: the recipe's data.root (as recorded) must reach
the same datasets on this machine. Exit 2 on a user error.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from edgekp.errors import EdgeKPError
from edgekp.train.snapshot import RECIPE, verify_snapshot


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("snapshot", type=Path, help="a folder written by scripts/snapshot_run.py")
    parser.add_argument("--out", type=Path, help="the new run folder (default: runs/<snapshot name>)")
    parser.add_argument("--train", action="store_true", help="start the warm-started training")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), help="with --train: where to train")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="recipe overrides for the new run (schedule, threads, time budget, ...)",
    )
    args = parser.parse_args(argv)
    out = args.out or Path("runs") / args.snapshot.resolve().name
    train_args = [
        "train",
        "--recipe",
        str(args.snapshot / RECIPE),
        "--out",
        str(out),
        "--set",
        f"model.init_from={args.snapshot}",
    ]
    train_args += ["--device", args.device] if args.device else []
    for item in args.overrides:
        train_args += ["--set", item]
    try:
        snap = verify_snapshot(args.snapshot)
    except EdgeKPError as exc:
        print(f"edgekp: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    print(
        f"{snap.path}: epoch {snap.epoch} of its run, best epoch {snap.best_epoch}, {snap.weights_dtype} weights; "
        "checked"
    )
    if not args.train:
        print("continue with: edgekp " + " ".join(shlex.quote(a) for a in train_args))
        return 0
    from edgekp.cli import main as edgekp_main

    return edgekp_main(train_args)


if __name__ == "__main__":
    sys.exit(main())
