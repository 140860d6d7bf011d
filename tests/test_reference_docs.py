"""docs/cli.md and docs/recipes.md are generated from the parsers and schemas; a stale page fails here."""

from __future__ import annotations

from pathlib import Path

from edgekp.commands.reference_docs import render_cli, render_recipes

DOCS = Path(__file__).resolve().parent.parent / "docs"
HINT = "is stale: run `python scripts/gen_docs.py` and commit the result"


def test_cli_reference_is_current() -> None:
    assert (DOCS / "cli.md").read_text(encoding="utf-8") == render_cli(), f"docs/cli.md {HINT}"


def test_recipe_reference_is_current() -> None:
    assert (DOCS / "recipes.md").read_text(encoding="utf-8") == render_recipes(), f"docs/recipes.md {HINT}"


def test_cli_reference_names_every_verb_and_option() -> None:
    text = render_cli()
    for verb in ("train", "eval", "predict", "export", "bench", "report", "run", "data"):
        assert f"## `edgekp {verb}`" in text
    assert "`--target {onnx,tflite,coreml,openvino}`" in text or "`--target" in text
    assert "`edgekp data inspect`" in text


def test_recipe_reference_names_nested_keys_with_defaults() -> None:
    text = render_recipes()
    assert "## kind: `export`" in text and "## kind: `pipeline`" in text
    assert "| `data.train[].path` | str | **required** |" in text
    assert "| `model.name` | str | `'kp_hvit_s'` |" in text
