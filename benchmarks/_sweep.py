"""Command-line plumbing shared by train_levers.py and balance_ablation.py: the common options, the
plan -> train -> summarize flow and the lever table. The work itself lives in edgekp.train.sweep
(running levers) and edgekp.train.summary (reading runs back)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from edgekp.errors import EdgeKPError
from edgekp.train.summary import BIN_NAMES, RunSummary, summarize_run
from edgekp.train.sweep import (
    Lever,
    LeverFile,
    PlannedRun,
    RunControl,
    SweepSettings,
    load_lever_file,
    plan_sweep,
    run_sweep,
)

HERE = Path(__file__).resolve().parent
DEFAULT_LEVERS = HERE / "train_levers.yaml"


def add_common(parser: argparse.ArgumentParser, default_out: str = "runs/levers") -> None:
    parser.add_argument("--levers", type=Path, default=DEFAULT_LEVERS, help="lever file (default: %(default)s)")
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


def summaries(plan: Sequence[PlannedRun]) -> list[tuple[PlannedRun, RunSummary]]:
    """Each planned run read back; a run not started yet still shows the params and FLOPs its recipe builds."""
    from dataclasses import replace

    from edgekp.config.loader import dump_recipe
    from edgekp.train.summary import model_cost

    out = []
    for item in plan:
        summary = summarize_run(item.out, with_cost=item.action != "unavailable")
        if summary.status == "absent" and item.recipe is not None:
            params, flops = model_cost(dump_recipe(item.recipe))
            summary = replace(summary, params=params, flops=flops)
        out.append((item, summary))
    return out


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def binned_sets(rows: Sequence[tuple[PlannedRun, RunSummary]]) -> tuple[list[str], list[str]]:
    """(every validation set in first-seen order, the sets shown by |yaw| bin: box-normalized ones, else the
    selected)."""
    names = list(dict.fromkeys(n for _, s in rows for n in s.sets))
    boxed = list(dict.fromkeys(n for _, s in rows for n, v in s.sets.items() if v.norm == "box"))
    chosen = boxed or list(dict.fromkeys(s.select for _, s in rows if s.select in names))
    return names, chosen


def lever_table(rows: Sequence[tuple[PlannedRun, RunSummary]], failures: dict[str, str]) -> str:
    names, binned = binned_sets(rows)
    norms = {n: v.norm for _, s in rows for n, v in s.sets.items()}
    head = ["lever", "epochs", "best epoch", "stop"]
    for name in names:
        head.append(f"{name} NME % ({norms[name].replace('_', '-')})")
        if name in binned:
            head += [f"{name} \\|yaw\\| {b}" for b in BIN_NAMES]
    head += ["params (M)", "MFLOPs", "what"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for item, s in rows:
        stop = (
            "unavailable"
            if item.action == "unavailable"
            else ("failed" if item.lever.name in failures else s.stop_reason)
        )
        cells = [item.lever.name, str(s.epochs), "-" if s.best_epoch is None else str(s.best_epoch), stop]
        for name in names:
            cells.append(_pct(s.nme(name)))
            if name in binned:
                cells += [_pct(s.nme(name, b)) for b in BIN_NAMES]
        cells += [
            "-" if s.params is None else f"{s.params / 1e6:.3f}",
            "-" if s.flops is None else f"{s.flops / 1e6:.1f}",
            item.lever.what + (f" ({item.note})" if item.action == "unavailable" else ""),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "NME at each run's chosen epoch (the one its selected validation set picked); MFLOPs: one forward pass "
        "at the run's input size, 2 FLOPs per multiply-add, matmul/conv only (the TFLite-free latency proxy)."
    )
    lines += [f"- {name} failed: {why}" for name, why in failures.items()]
    return "\n".join(lines)


def as_json(rows: Sequence[tuple[PlannedRun, RunSummary]], failures: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "lever": item.lever.name,
            "what": item.lever.what,
            "overrides": list(item.lever.overrides),
            "action": item.action,
            "note": item.note,
            "error": failures.get(item.lever.name),
            **s.to_json(),
        }
        for item, s in rows
    ]


def guarded(main: Callable[[], int]) -> int:
    """User errors (edgekp's own) as one line and exit 2, as the edgekp command does; bugs keep their traceback."""
    try:
        return main()
    except EdgeKPError as exc:
        print(f"edgekp: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
