"""edgekp train: train a model from a train recipe."""

from __future__ import annotations

import argparse

from edgekp.commands.common import add_json, add_out, add_recipe
from edgekp.config.loader import default_recipe, load_recipe
from edgekp.config.train import TrainRecipe
from edgekp.errors import NotBuiltError


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
    load_train_recipe(args)
    raise NotBuiltError("train", "issue 4")
