"""Bring a committed training snapshot back into a run folder and (with --train) resume it.

    python scripts/resume_run.py training/kp_hvit_s_merlrav --out runs/kp_hvit_s_merlrav
    python scripts/resume_run.py training/kp_hvit_s_merlrav --out runs/kp_hvit_s_merlrav --train \
        --device auto --set optim.time_budget_min=600

The copy is checked against the snapshot's sha256s. Without --train it prints the resume command;
with it, runs ``edgekp train --recipe <snapshot>/recipe.yaml --out OUT --resume`` plus the given
run-control options (a resume may change only device, threads, workers and optim.time_budget_min;
anything else is refused as a changed recipe). The snapshot holds no data: the recipe's data.root
(as recorded) must reach the same datasets on this machine. Exit 2 on a user error.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from edgekp.errors import EdgeKPError
from edgekp.train.snapshot import RECIPE, restore_run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("snapshot", type=Path, help="a folder written by scripts/snapshot_run.py")
    parser.add_argument("--out", type=Path, help="run folder to restore into (default: runs/<snapshot name>)")
    parser.add_argument("--force", action="store_true", help="replace a run folder that already holds as many epochs or more")
    parser.add_argument("--train", action="store_true", help="resume the training after restoring")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), help="with --train: where to train")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="with --train: run-control overrides (threads, workers, optim.time_budget_min)")
    args = parser.parse_args(argv)
    out = args.out or Path("runs") / args.snapshot.resolve().name
    train_args = ["train", "--recipe", str(args.snapshot / RECIPE), "--out", str(out), "--resume"]
    train_args += ["--device", args.device] if args.device else []
    for item in args.overrides:
        train_args += ["--set", item]
    try:
        snap = restore_run(args.snapshot, out, force=args.force)
    except EdgeKPError as exc:
        print(f"edgekp: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    print(f"restored {snap.path} (epoch {snap.epoch}, best epoch {snap.best_epoch}) into {out}")
    if not args.train:
        print("resume with: edgekp " + " ".join(shlex.quote(a) for a in train_args))
        return 0
    from edgekp.cli import main as edgekp_main

    return edgekp_main(train_args)


if __name__ == "__main__":
    sys.exit(main())
