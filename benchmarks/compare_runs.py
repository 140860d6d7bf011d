"""Two or more training runs side by side: each validation set's NME at the chosen epoch, per |yaw| bin,
with the training each got (epochs, balanced faces per epoch, seconds), and the difference to the first.

    python benchmarks/compare_runs.py runs/kp_hvit_s_anneal_control runs/kp_hvit_s_lfpw_anneal

The first run is the reference (a lever's control); the step-count confound is printed beside the
figures, since a lever that adds data also lengthens the balanced epoch.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from edgekp.train.summary import summarize_run


def _faces_per_epoch(run: Path) -> int | None:
    manifest = json.loads((run / "manifest.json").read_text())
    after = (manifest.get("balance") or manifest.get("balance_plan") or {}).get("after") or {}
    return after.get("total")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path)
    args = parser.parse_args(argv)
    summaries = [summarize_run(run, with_cost=False) for run in args.runs]
    reference = summaries[0]
    print(
        "| run | epochs (chosen) | faces per epoch | train s | "
        + " | ".join(f"{name} ({score.norm}) all / 0-30 / 30-60 / 60-90" for name, score in reference.sets.items())
        + " |"
    )
    print("|---|---|---|---|" + "---|" * len(reference.sets))
    for run, s in zip(args.runs, summaries, strict=True):
        cells = []
        for name, ref in reference.sets.items():
            score = s.sets.get(name)
            if score is None:
                cells.append("-")
                continue
            values = [score.nme, *(score.bins.get(b) for b in ("0-30", "30-60", "60-90"))]
            text = " / ".join(_pct(v) for v in values)
            if s is not reference and score.nme is not None and ref.nme is not None:
                text += f" ({100 * (score.nme - ref.nme):+.2f})"
            cells.append(text)
        print(
            f"| {run} | {s.epochs} ({s.best_epoch}) | {_faces_per_epoch(run)} | {s.train_seconds:.0f} | "
            + " | ".join(cells)
            + " |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
