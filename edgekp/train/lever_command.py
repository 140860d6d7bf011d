"""The command behind benchmarks/train_levers.py and balance_ablation.py: their common options, the
plan -> train -> summarize flow, and train_levers' own ``main``. The work itself lives in
edgekp.train.levers (running levers) and edgekp.train.lever_table (reading runs back)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from edgekp.errors import EdgeKPError
from edgekp.train.lever_table import as_json, lever_table, summaries
from edgekp.train.levers import (
    Lever,
    LeverFile,
    PlannedRun,
    RunControl,
    SweepSettings,
    load_lever_file,
    plan_sweep,
    run_sweep,
    select_levers,
)

# The committed lever file, from the checkout root (where `python -m benchmarks.train_levers` runs);
# the benchmarks pass their own absolute path.
DEFAULT_LEVERS = Path("benchmarks") / "train_levers.yaml"


def add_common(
    parser: argparse.ArgumentParser, default_out: str = "runs/levers", default_levers: Path = DEFAULT_LEVERS
) -> None:
    parser.add_argument("--levers", type=Path, default=default_levers, help="lever file (default: %(default)s)")
    parser.add_argument("--base", type=Path, help="train recipe to vary (default: the lever file's base)")
    parser.add_argument(
        "--out", type=Path, default=Path(default_out), help="one run folder per lever under it (default: %(default)s)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep finished runs, resume interrupted ones (edgekp train --resume)"
    )
    parser.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), help="run control: where to train (default: the recipe's)"
    )
    parser.add_argument("--threads", type=int, help="run control: torch CPU threads")
    parser.add_argument("--workers", type=int, help="run control: data loader workers")
    parser.add_argument("--budget-min", type=float, help="run control: the same time budget for every lever, minutes")
    parser.add_argument("--seed", type=int, help="the same seed for every lever (default: the recipe's)")
    parser.add_argument("--data-root", help="folder holding the recipe's datasets (sets data.root)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="recipe override for every lever, before the lever's own (repeatable)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="levers trained at once, each an edgekp train process "
        "with its share of the CPU threads (default: 1, in this process)",
    )
    parser.add_argument("--table", action="store_true", help="train nothing: print the table of the runs already there")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")


def settings_of(args: argparse.Namespace) -> SweepSettings:
    common = list(args.overrides)
    if args.data_root:
        common.insert(0, f"data.root={json.dumps(str(args.data_root))}")
    if args.seed is not None:
        common.append(f"seed={args.seed}")
    control = RunControl(args.device, args.threads, args.workers, args.budget_min)
    return SweepSettings(args.out, tuple(common), control, reuse=args.reuse or args.table)


def lever_file_of(args: argparse.Namespace) -> LeverFile:
    levers = load_lever_file(args.levers)
    return LeverFile(args.base.resolve(), levers.levers) if args.base else levers


def run_levers(
    args: argparse.Namespace, levers: Sequence[Lever], lever_file: LeverFile
) -> tuple[list[PlannedRun], dict[str, str]]:
    """Plan (validating every lever first), then train/resume what needs it unless --table."""
    plan = plan_sweep(lever_file, levers, settings_of(args))
    for item in plan:
        print(f"{item.lever.name}: {item.action}{f' ({item.note})' if item.note else ''}", file=sys.stderr, flush=True)
    if args.table:
        return plan, {}
    return plan, run_sweep(plan, jobs=max(1, args.jobs))


def guarded(main: Callable[[], int]) -> int:
    """User errors (edgekp's own) as one line and exit 2, as the edgekp command does; bugs keep their traceback."""
    try:
        return main()
    except EdgeKPError as exc:
        print(f"edgekp: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2


LEVERS_DOC = """Issue 13's levers, measured one at a time: one training per lever (a lever file: a named set of
overrides of one base recipe), same seed and time budget, into --out/<lever>; then a table of
epochs, chosen epoch, stop reason, each validation set's NME, params and MFLOPs."""


def levers_main(argv: list[str] | None = None, doc: str = LEVERS_DOC, default_levers: Path = DEFAULT_LEVERS) -> int:
    """benchmarks/train_levers.py: train (or resume, or only read back) the chosen levers, print their table."""
    parser = argparse.ArgumentParser(
        description=doc.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_common(parser, default_levers=default_levers)
    parser.add_argument("--only", metavar="A,B", help="only these levers, in this order")
    args = parser.parse_args(argv)

    def body() -> int:
        lever_file = lever_file_of(args)
        levers = select_levers(lever_file.levers, args.only)
        plan, failures = run_levers(args, levers, lever_file)
        rows = summaries(plan)
        if args.json:
            print(json.dumps(as_json(rows, failures), indent=2))
        else:
            print(f"levers of {lever_file.base} ({len(plan)} runs under {args.out})")
            # Overrides every lever shares (a short schedule, say) change what "the recipe as committed" means.
            common = "; ".join(args.overrides) if args.overrides else "none"
            print(
                f"every lever with: {common}"
                + (f"; time budget {args.budget_min:g} min" if args.budget_min else "")
                + "\n"
            )
            print(lever_table(rows, failures))
        return 1 if failures else 0

    return guarded(body)
