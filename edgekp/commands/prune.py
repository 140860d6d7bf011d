"""edgekp prune: score attention heads, remove them (and the recipe's structures) physically, fine-tune."""

from __future__ import annotations

import argparse
from pathlib import Path

from edgekp.commands.common import add_json, add_recipe, add_source, print_result, resolve_from


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_recipe(parser, required=True)
    add_source(parser, help_text="the train (or prune) run to prune")
    parser.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="output run directory (default: <RUN_DIR>-<recipe name>, beside the parent)",
    )
    parser.add_argument("--resume", action="store_true", help="continue the fine-tuning of an interrupted prune run")
    add_json(parser)


def default_out(from_run: str, recipe_path: str) -> str:
    """<parent run>-<recipe stem>, beside the parent: runs/kp_hvit_s_merlrav -> runs/kp_hvit_s_merlrav-heads_50."""
    parent = Path(from_run)
    return str(parent.parent / f"{parent.name}-{Path(recipe_path).stem}")


def run(args: argparse.Namespace) -> int:
    from edgekp.compress.heads import prune
    from edgekp.config.loader import load_recipe
    from edgekp.config.prune import PruneRecipe

    recipe = load_recipe(args.recipe, args.overrides, expect=PruneRecipe)
    from_run = resolve_from(args)
    out = args.out or default_out(from_run, args.recipe)
    s = prune(recipe, from_run, out, resume=args.resume)
    b, a = s["before"], s["after"]
    st = recipe.structures
    structures = (
        f", the last {dict(st.blocks)} modules and {100 * st.mlp_ratio:.0f} % of MLP channels" if st.any else ""
    )
    text = (
        f"removed {s['removed_total']} of {b['heads']} heads ({recipe.importance}, {recipe.scope}, "
        f"{recipe.schedule}){structures}; "
        f"params {b['params']:,} -> {a['params']:,}, {b['flops'] / 1e6:.1f} -> {a['flops'] / 1e6:.1f} MFLOPs; "
        f"val NME {100 * s['val_nme_before_finetune']:.2f}% after removal, {100 * s['best_val_nme']:.2f}% after "
        f"fine-tuning (parent {100 * (s['parent_val_nme'] or float('nan')):.2f}%, "
        f"{s.get('normalization') or 'inter_ocular'}); "
        f"model: {out}/model.pt\n"
        f"written to: {Path(out).resolve()}"
    )
    print_result(args, s, text)
    return 0
