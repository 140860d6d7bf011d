"""Issue 13's levers, measured one at a time: one training per lever (benchmarks/train_levers.yaml:
a named set of overrides of one base recipe), same seed and time budget, into --out/<lever>; then a
table of epochs, chosen epoch, stop reason, each validation set's NME (the box-normalized ones by
|yaw| bin), params and MFLOPs, read back from each run's manifest and history.

    python benchmarks/train_levers.py --data-root ../shared/data --device auto --budget-min 120 --reuse
    python benchmarks/train_levers.py --only baseline,loss_l1,ema_off --data-root ../shared/data --reuse
    # 4 at once (a GPU host):
    python benchmarks/train_levers.py --jobs 4 --device cuda --data-root ../shared/data --reuse
    python benchmarks/train_levers.py --table            # train nothing: the table of what is there
    python benchmarks/train_levers.py --table --json

--reuse keeps finished runs and resumes interrupted ones (or ones stopped by a budget that has since
grown) with `edgekp train --resume` semantics: only device, threads, workers and the time budget may
differ from the first leg. Exit 2 on a user error (a bad lever, a changed recipe), before any training.
"""

from __future__ import annotations

import argparse
import json
import sys

import _sweep  # benchmarks/_sweep.py, beside this script

from edgekp.train.sweep import select_levers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    _sweep.add_common(parser)
    parser.add_argument("--only", metavar="A,B", help="only these levers, in this order")
    args = parser.parse_args(argv)

    def body() -> int:
        lever_file = _sweep.lever_file_of(args)
        levers = select_levers(lever_file.levers, args.only)
        plan, failures = _sweep.run_levers(args, levers, lever_file)
        rows = _sweep.summaries(plan)
        if args.json:
            print(json.dumps(_sweep.as_json(rows, failures), indent=2))
        else:
            print(f"levers of {lever_file.base} ({len(plan)} runs under {args.out})")
            # Overrides every lever shares (a short schedule, say) change what "the recipe as committed" means.
            common = "; ".join(args.overrides) if args.overrides else "none"
            print(
                f"every lever with: {common}"
                + (f"; time budget {args.budget_min:g} min" if args.budget_min else "")
                + "\n"
            )
            print(_sweep.lever_table(rows, failures))
        return 1 if failures else 0

    return _sweep.guarded(body)


if __name__ == "__main__":
    sys.exit(main())
