"""edgekp data: inspect datasets, render the synthetic default, build calibration sets.

Each sub-command lives in its own module ``edgekp.commands.data_<name>`` with
``add_arguments(parser)`` and ``run(args)``.
"""

from __future__ import annotations

import argparse
import importlib

SUBCOMMANDS: dict[str, str] = {
    "inspect": "count faces, points, image sizes, poses and problems in a dataset",
    "synth": "render synthetic faces (the embedded default dataset)",
    "calib": "build a calibration set definition (which faces, chosen how, with hashes)",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from edgekp.cli import common_options

    sub = parser.add_subparsers(dest="data_command", metavar="COMMAND", required=True, parser_class=type(parser))
    for name, help_text in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text, parents=[common_options()])
        importlib.import_module(f"edgekp.commands.data_{name}").add_arguments(sub_parser)


def run(args: argparse.Namespace) -> int:
    return int(importlib.import_module(f"edgekp.commands.data_{args.data_command}").run(args) or 0)
