"""edgekp run: a whole pipeline from one recipe, each stage a resumable run directory."""

from __future__ import annotations

import argparse
import shlex
import sys

from edgekp.commands.common import add_json, add_out, print_result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipe", metavar="RECIPE", help="pipeline recipe, e.g. recipes/quickstart.yaml")
    parser.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="override a pipeline recipe field, e.g. --set data.root=../shared/data",
    )
    add_out(parser)
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    from edgekp.pipeline.run import run_pipeline

    command = "edgekp run " + " ".join(
        shlex.quote(a) for a in [args.recipe, *sum((["--set", o] for o in args.overrides), [])]
    )
    if args.out:
        command += f" --out {shlex.quote(args.out)}"
    s = run_pipeline(args.recipe, args.overrides, args.out, command)
    stages = ", ".join(f"{k} {v:.0f} s" for k, v in s["stages"].items())
    text = (
        f"pipeline finished in {s['total_seconds']:.0f} s ({stages})\n"
        f"{s['rows']} report rows: {s['ok']} ok, {s['failed']} failed, {s['skipped']} skipped\n"
        + "".join(f"note: {n}\n" for n in s["notes"])
        + f"report: {s['report']} (+ .html, .json, .csv)"
    )
    print_result(args, s, text)
    from edgekp.config.loader import load_recipe
    from edgekp.config.pipeline import PipelineRecipe

    strict = load_recipe(args.recipe, args.overrides, expect=PipelineRecipe).report.strict
    if strict and s["failed_rows"]:
        print("edgekp: strict: " + "; ".join(s["failed_rows"]), file=sys.stderr)
        return 1
    return 0
