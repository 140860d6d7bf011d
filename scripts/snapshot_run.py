"""Snapshot a training run (finished or still running) into a tracked folder, so it can continue on
another machine: run directories do not travel with the repository, ``training/<name>`` does.

    python scripts/snapshot_run.py runs/kp_hvit_s_merlrav --to training/kp_hvit_s_merlrav --commit

Copies manifest.json, model.pt (the best weights, fp16 where that moves no output by more than 1e-3),
history.csv/.png and the run's recipe (recipe.yaml), checks they belong to the same epoch (retaking
the copy if an epoch end was being written) and swaps the folder in whole. Optimizer state (last.pt)
stays with the run: nothing in git that a user does not need. Nothing is copied when
the snapshot already holds the run's last epoch. --commit commits that folder alone (git commit --
<folder>: other staged or unstaged work in the tree is left as it is). Continue elsewhere with
scripts/continue_run.py (a warm start). Exit 2 on a user error.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from edgekp.errors import EdgeKPError
from edgekp.train.snapshot import snapshot_run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="the training run directory")
    parser.add_argument("--to", type=Path, help="tracked snapshot folder (default: training/<run name>)")
    parser.add_argument(
        "--commit", action="store_true", help="git-commit the snapshot folder (only it) when it changed"
    )
    args = parser.parse_args(argv)
    to = args.to or Path("training") / args.run.resolve().name
    try:
        snap = snapshot_run(args.run, to)
    except EdgeKPError as exc:
        print(f"edgekp: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    size = sum((snap.path / name).stat().st_size for name in snap.files) / 1e6
    nme = "-" if snap.best_nme is None else f"{100 * snap.best_nme:.2f}%"
    what = f"epoch {snap.epoch}, best epoch {snap.best_epoch} (val NME {nme})"
    if snap.unchanged:
        print(f"{snap.path}: already holds {what}; nothing copied")
        return 0
    print(
        f"{snap.path}: {what}, {size:.1f} MB ({snap.weights_dtype} weights); "
        f"continue with: python scripts/continue_run.py {snap.path} --out runs/{snap.path.name}"
    )
    if args.commit:
        try:
            subprocess.run(["git", "add", "--", str(snap.path)], check=True)
            subprocess.run(
                ["git", "commit", "-q", "-m", f"{snap.path}: training snapshot at {what}", "--", str(snap.path)],
                check=True,
            )
        except subprocess.CalledProcessError as exc:
            print(
                f"edgekp: error: the snapshot is written but git could not commit it ({' '.join(exc.cmd[:2])} exit "
                f"{exc.returncode})",
                file=sys.stderr,
            )
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
