"""edgekp export: convert a run's model for a target runtime and check it against PyTorch."""

from __future__ import annotations

import argparse
from pathlib import Path

from edgekp.commands.common import add_json, add_out, add_recipe, add_source, print_result, resolve_from


def _choices() -> tuple[list[str], tuple[str, ...], list[str]]:
    """--target, --precision and --route choices, from the target registry (cheap: backends load lazily)."""
    from edgekp.export.base import PRECISIONS, list_targets, route_names

    return list_targets(), PRECISIONS, route_names()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_recipe(parser)
    add_source(parser, help_text="the train, prune or qat run to export")
    targets, precisions, routes = _choices()
    parser.add_argument(
        "--target", choices=targets, help="export target (default: every entry of the recipe's 'exports')"
    )
    parser.add_argument("--precision", default="fp32", choices=precisions, help="numeric precision (default fp32)")
    parser.add_argument(
        "--route",
        choices=routes,
        help="conversion route: tflite has litert (default) and tf (TensorFlow via onnx2tf); "
        "onnx, coreml and openvino convert from torch, their only route",
    )
    parser.add_argument(
        "--calib",
        metavar="DEF",
        help="calibration set definition (default: the recipe's, calibration/synthetic_64.yaml)",
    )
    parser.add_argument(
        "--data-root", metavar="DIR", help="data root for calibration sets of real faces (e.g. ../shared/data)"
    )
    add_out(parser)
    parser.add_argument("--force", action="store_true", help="replace an export already in the output folder")
    parser.epilog = (
        "default --out: <from>/exports/<target>-<precision>[-<route>] (route only when not the default); "
        "for the shipped model <from> is ./edgekp-out/kp_hvit_s_merlrav"
    )
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    from edgekp.config.export import ExportRecipe
    from edgekp.config.loader import default_recipe, load_recipe
    from edgekp.errors import ConfigError
    from edgekp.export.pipeline import ExportRequest, export_many

    if args.recipe:
        recipe = load_recipe(args.recipe, args.overrides, expect=ExportRecipe)
    else:
        recipe = default_recipe(ExportRecipe, args.overrides)
    if args.target:
        requests = [ExportRequest(args.target, args.precision, args.route)]
    else:
        requests = [ExportRequest(e.target, e.precision, e.route) for e in recipe.exports]
    if args.out and len(requests) > 1:
        raise ConfigError("--out names one export's folder; give --target too, or leave --out out")
    from_run = resolve_from(args)
    results = export_many(
        requests,
        from_run=from_run,
        recipe=recipe,
        out=args.out,
        calib=args.calib,
        data_root=args.data_root,
        force=args.force,
        warn_synthetic=True,  # int8 on the synthetic set: a warning once the requests pass their check
    )
    lines = []
    for r in results:
        kb = r["size_bytes"] / 1024
        lines.append(
            f"{Path(r['artifact']).name} -> {r['out']} ({kb:.0f} KB, {r['convert_seconds']:.1f} s): {r['summary']}"
        )
        note = r["structure"].get("note")
        if note:
            lines.append(f"  note: {note}")
    lines.extend(f"written to: {Path(r['artifact']).resolve()}" for r in results)
    print_result(args, results, "\n".join(lines))
    return 0
