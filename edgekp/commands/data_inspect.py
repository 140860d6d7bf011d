"""edgekp data inspect."""

from __future__ import annotations

import argparse

from edgekp.errors import NotBuiltError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise NotBuiltError("data inspect", "issue 3")
