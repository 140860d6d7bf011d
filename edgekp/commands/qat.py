"""edgekp qat: quantization-aware training for an int8 target."""

from __future__ import annotations

import argparse

from edgekp.commands.common import add_from, add_json, add_out, add_recipe
from edgekp.errors import NotBuiltError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_recipe(parser, required=True)
    add_from(parser, help_text="the train or prune run to quantize")
    add_out(parser)
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    raise NotBuiltError("qat", "issue 6")
