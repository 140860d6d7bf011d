"""edgekp eval: NME, FR and AUC of a model on a dataset."""

from __future__ import annotations

import argparse

from edgekp.commands.common import add_json
from edgekp.errors import NotBuiltError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="M", help="run dir, checkpoint or exported file (default: the shipped model)")
    parser.add_argument("--data", metavar="PATH", required=True, help="dataset folder or annotation file")
    parser.add_argument("--format", default="auto", help="dataset format (default: detect)")
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    raise NotBuiltError("eval", "issue 4")
