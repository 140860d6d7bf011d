"""edgekp data: inspect datasets, render the synthetic default, build calibration sets."""

from __future__ import annotations

import argparse

from edgekp.commands.common import add_json
from edgekp.errors import NotBuiltError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="data_command", metavar="COMMAND", required=True, parser_class=type(parser))
    inspect = sub.add_parser("inspect", help="count faces, points, sizes, poses and problems in a dataset")
    inspect.add_argument("path", metavar="PATH")
    inspect.add_argument("--format", default="auto")
    add_json(inspect)
    synth = sub.add_parser("synth", help="render synthetic faces (the embedded default dataset)")
    synth.add_argument("--n", type=int, default=1000)
    synth.add_argument("--out", required=True, metavar="DIR")
    synth.add_argument("--size", type=int, default=128)
    synth.add_argument("--seed", type=int, default=0)
    calib = sub.add_parser("calib", help="build a calibration set definition")
    calib.add_argument("--out", required=True, metavar="FILE")


def run(args: argparse.Namespace) -> int:
    raise NotBuiltError(f"data {args.data_command}", "issue 3")
