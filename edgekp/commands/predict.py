"""edgekp predict: detect faces in photos and predict their landmarks."""

from __future__ import annotations

import argparse

from edgekp.commands.common import add_json
from edgekp.errors import NotBuiltError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("--model", metavar="M", help="run dir, checkpoint or exported file (default: the shipped model)")
    parser.add_argument("--box", metavar="X,Y,W,H", help="face box to use instead of the detector")
    parser.add_argument("--out", metavar="DIR", help="write landmarks JSON and annotated images here")
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    raise NotBuiltError("predict", "issue 4")
