"""edgekp run: a whole pipeline from one recipe, each stage a resumable run directory."""

from __future__ import annotations

import argparse

from edgekp.commands.common import add_out
from edgekp.errors import NotBuiltError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipe", metavar="RECIPE", help="pipeline recipe, e.g. recipes/quickstart.yaml")
    parser.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[], help="override a recipe field")
    add_out(parser)


def run(args: argparse.Namespace) -> int:
    raise NotBuiltError("run", "issue 8")
