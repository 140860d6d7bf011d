"""Options shared by the verbs, declared once."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

# An example --set per verb, each a real key of that verb's recipe kind (tests/test_cli_ux.py checks them).
SET_EXAMPLES = {
    "train": "optim.lr=1e-3",
    "export": "tflite.int8_mode=dynamic",
    "qat": "finetune.max_epochs=1",
    "prune": "finetune.max_epochs=2",
}


def add_recipe(parser: argparse.ArgumentParser, required: bool = False) -> None:
    parser.add_argument(
        "--recipe",
        metavar="PATH",
        required=required,
        help="YAML recipe (see recipes/ and docs/recipes.md; a recipes/... path also resolves from "
        "the edgekp checkout when it is not under the current folder)",
    )
    verb = parser.prog.split()[-1]
    example = SET_EXAMPLES.get(verb)
    parser.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="override a recipe field"
        + (f", e.g. --set {example}" if example else "")
        + " (repeatable; validated like the recipe; keys: docs/recipes.md)",
    )


def add_from(
    parser: argparse.ArgumentParser, required: bool = True, help_text: str = "the parent stage's run directory"
) -> None:
    parser.add_argument("--from", dest="from_run", metavar="RUN_DIR", required=required, help=help_text)


def add_source(parser: argparse.ArgumentParser, help_text: str) -> None:
    """``--from``, defaulting to the shipped model (``--from shipped:t|s|b`` names a size; ``shipped`` is s)."""
    parser.add_argument(
        "--from",
        dest="from_run",
        metavar="RUN_DIR",
        default=None,
        help=f"{help_text} (default: the shipped model; shipped:t, shipped:s or shipped:b name a size, 'shipped' is s; "
        "its outputs go under ./edgekp-out/)",
    )


def resolve_from(args: argparse.Namespace) -> str:
    """The run directory to read: --from as given, or the shipped model copied to ./edgekp-out/
    (see edgekp.lineage.model_source)."""
    from edgekp.lineage.model_source import resolve_source

    source = resolve_source(args.from_run)
    args.from_run = str(source.run_dir)
    return args.from_run


def add_out(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    parser.add_argument(
        "--out",
        metavar="DIR",
        default=default,
        help="output run directory" + (f" (default: {default})" if default else ""),
    )


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")


def strict_json(value: Any) -> Any:
    """NaN/inf (e.g. the NME of an empty pose group) become null: JSON has no NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    return value


def print_result(args: argparse.Namespace, result: Any, text: str) -> None:
    """JSON on stdout under --json, else the human summary."""
    if getattr(args, "json", False):
        json.dump(strict_json(result), sys.stdout, indent=2, default=str, allow_nan=False)
        sys.stdout.write("\n")
    else:
        print(text)
