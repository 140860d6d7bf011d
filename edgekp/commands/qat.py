"""edgekp qat: quantization-aware training for an int8 target."""

from __future__ import annotations

import argparse

from edgekp.commands.common import add_json, add_out, add_recipe, add_source, print_result, resolve_from


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_recipe(parser, required=True)
    add_source(parser, help_text="the train or prune run to quantize")
    add_out(parser)
    parser.add_argument("--resume", action="store_true", help="continue fine-tuning from the run directory's last.pt")
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from edgekp.compress.qat import qat
    from edgekp.config.loader import load_recipe
    from edgekp.config.qat import QatRecipe

    recipe = load_recipe(args.recipe, args.overrides, expect=QatRecipe)
    from_run = resolve_from(args)
    out = Path(args.out) if args.out else Path(from_run) / f"qat-{recipe.target}"
    summary = qat(recipe, from_run, out, resume=args.resume)
    text = (
        f"qat ({recipe.quantizer} for {recipe.target}): validation NME "
        f"{100 * summary['val_nme_before_finetune']:.2f}% after "
        f"quantization, {100 * summary['best_val_nme']:.2f}% after {summary['epochs']} fine-tuning epochs "
        "(inter-ocular); "
        f"export with: edgekp export --from {out} --target {recipe.target} --precision int8\n"
        f"written to: {out.resolve()}"
    )
    print_result(args, summary, text)
    return 0
