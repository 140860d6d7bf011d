"""edgekp report: Markdown + HTML + JSON + CSV reports for one or several runs."""

from __future__ import annotations

import argparse

from edgekp.commands.common import add_out
from edgekp.errors import NotBuiltError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", metavar="RUN", help="run directories to report on")
    add_out(parser)
    parser.add_argument("--strict", action="store_true", help="exit non-zero if any row failed or breached a floor")


def run(args: argparse.Namespace) -> int:
    raise NotBuiltError("report", "issue 8")
