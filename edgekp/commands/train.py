"""edgekp train: train a model from a train recipe (also under torchrun for DDP)."""

from __future__ import annotations

import argparse

from edgekp.commands.common import add_json, add_out, add_recipe, print_result
from edgekp.config.loader import default_recipe, load_recipe
from edgekp.config.train import TrainRecipe


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_recipe(parser)
    add_out(parser, default="runs/train")
    parser.add_argument("--resume", action="store_true", help="continue from the run directory's last checkpoint")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), help="override the recipe's device")
    add_json(parser)


def load_train_recipe(args: argparse.Namespace) -> TrainRecipe:
    overrides = list(args.overrides)
    if getattr(args, "device", None):
        overrides.append(f"device={args.device}")
    if args.recipe:
        return load_recipe(args.recipe, overrides, expect=TrainRecipe)
    return default_recipe(TrainRecipe, overrides)


def run(args: argparse.Namespace) -> int:
    from edgekp.train.run import train

    recipe = load_train_recipe(args)
    summary = train(recipe, args.out, resume=args.resume)
    text = (
        f"trained {summary['epochs']} epochs ({summary['stop_reason']}); best validation NME "
        f"{100 * summary['best_val_nme']:.2f}% ({summary['normalization']}, {summary.get('selected_by', 'all')}) at "
        f"epoch {summary['best_epoch']}; model: {args.out}/model.pt"
    )
    print_result(args, summary, text)
    return 0
