"""edgekp bench: accuracy and latency of every artifact of a run."""

from __future__ import annotations

import argparse

from edgekp.commands.common import add_from, add_json
from edgekp.errors import NotBuiltError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_from(parser, help_text="the run whose artifacts to measure")
    parser.add_argument("--data", metavar="PATH", help="dataset to measure accuracy on")
    parser.add_argument("--threads", default="1", help="comma-separated thread counts, e.g. 1,2")
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    raise NotBuiltError("bench", "issue 8")
