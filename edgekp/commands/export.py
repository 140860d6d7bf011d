"""edgekp export: convert a run's model for a target runtime and check it against PyTorch."""

from __future__ import annotations

import argparse

from edgekp.commands.common import add_from, add_json, add_out, add_recipe
from edgekp.errors import NotBuiltError

TARGETS = ("onnx", "tflite", "coreml", "openvino")
PRECISIONS = ("fp32", "fp16", "int8")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_recipe(parser)
    add_from(parser, help_text="the train, prune or qat run to export")
    parser.add_argument("--target", required=True, choices=TARGETS, help="export target")
    parser.add_argument("--precision", default="fp32", choices=PRECISIONS, help="numeric precision (default fp32)")
    add_out(parser)
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    raise NotBuiltError("export", "issue 5")
