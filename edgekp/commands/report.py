"""edgekp report: Markdown + HTML + JSON + CSV reports for one or several runs."""

from __future__ import annotations

import argparse
import shlex
import sys

from edgekp.commands.common import add_out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "runs",
        nargs="*",
        metavar="RUN",
        help="benched run directories; several = a comparison report; 'shipped' = the shipped model's "
        "outputs under ./edgekp-out (the default)",
    )
    add_out(parser, default="reports/latest")
    parser.add_argument("--title", default=None, help="report title (default: the run names)")
    parser.add_argument(
        "--recipe",
        metavar="PATH",
        default=None,
        help="pipeline recipe whose report.floors --strict enforces (NME, FR, AUC, delta NME, p50 limits)",
    )
    parser.add_argument(
        "--no-samples",
        dest="samples",
        action="store_false",
        help="leave out the grids of sample face crops (e.g. for a report of licensed faces you commit)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 (after writing the report) if any row failed or breached a floor"
    )


def floors_from(recipe_path: str | None):
    if recipe_path is None:
        return None
    from edgekp.config.loader import load_recipe
    from edgekp.config.pipeline import PipelineRecipe

    return load_recipe(recipe_path, expect=PipelineRecipe).report.floors


def run(args: argparse.Namespace) -> int:
    from edgekp.lineage.model_source import resolve_source
    from edgekp.lineage.shipped import SHIPPED, shipped_size
    from edgekp.report.build import build_report

    # A shipped model's bench lives in its run directory under ./edgekp-out, never in the package.
    args.runs = [str(resolve_source(r).run_dir) if shipped_size(r) else r for r in (args.runs or [SHIPPED])]
    command = (
        "edgekp " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        if sys.argv[1:2] == ["report"]
        else "edgekp report " + " ".join(shlex.quote(str(r)) for r in args.runs) + f" --out {args.out}"
    )
    outcome = build_report(
        args.runs, args.out, command=command, title=args.title, floors=floors_from(args.recipe), samples=args.samples
    )
    s = outcome.doc.summary
    print(
        f"written to: {outcome.out}/report.md (+ .html, .json, .csv); {s['rows']} rows: {s['ok']} ok, "
        f"{s['failed']} failed, {s['skipped']} skipped, {s['breached']} breaching a floor"
    )
    if args.strict and not outcome.ok:
        print(
            f"edgekp: strict: {len(outcome.failed)} row(s) failed or breached a floor: " + "; ".join(outcome.failed),
            file=sys.stderr,
        )
        return 1
    return 0
