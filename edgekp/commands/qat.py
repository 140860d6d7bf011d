"""edgekp qat: quantization-aware training for an int8 target."""

from __future__ import annotations

import argparse

from edgekp.commands.common import add_from, add_json, add_out, add_recipe, print_result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_recipe(parser, required=True)
    add_from(parser, help_text="the train or prune run to quantize")
    add_out(parser)
    parser.add_argument("--resume", action="store_true", help="continue fine-tuning from the run directory's last.pt")
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from edgekp.compress.lifecycle import compress
    from edgekp.compress.qat import QatCompressor
    from edgekp.config.loader import load_recipe
    from edgekp.config.qat import QatRecipe

    recipe = load_recipe(args.recipe, args.overrides, expect=QatRecipe)
    out = Path(args.out) if args.out else Path(args.from_run) / f"qat-{recipe.target}"
    root = recipe.data.root if recipe.data is not None else None
    summary = compress(QatCompressor(recipe, data_root=root), recipe, args.from_run, out, resume=args.resume)
    text = (
        f"qat ({recipe.quantizer} for {recipe.target}): validation NME {100 * summary['val_nme_before_finetune']:.2f}% after "
        f"quantization, {100 * summary['best_val_nme']:.2f}% after {summary['epochs']} fine-tuning epochs (inter-ocular); "
        f"export with: edgekp export --from {out} --target {recipe.target} --precision int8"
    )
    print_result(args, summary, text)
    return 0
