"""CLI conventions a new user meets first: flags before or after the verb, -v never changes an exit code,
one error prefix, --set examples that are real keys, recipe paths that resolve from any folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from edgekp.cli import _verbosity_from_argv, build_parser, main
from edgekp.commands.common import SET_EXAMPLES
from edgekp.commands.reference_docs import render_recipes
from edgekp.config.kinds import recipe_kinds
from edgekp.config.loader import apply_overrides, read_yaml, resolve_recipe_path
from edgekp.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent


def _edgekp(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # this checkout, whatever the cwd
    return subprocess.run(
        [sys.executable, "-m", "edgekp", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize("argv", [["-v", "train", "--help"], ["train", "-v", "--help"], ["-q", "eval", "--help"]])
def test_global_flags_parse_before_or_after_the_verb(argv):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(argv)
    assert exit_.value.code == 0


def test_flag_before_the_verb_survives_the_subparser_default():
    args = build_parser().parse_args(["-v", "train"])
    assert args.verbose == 1 and args.quiet is False
    args = build_parser().parse_args(["train", "-q"])
    assert args.verbose == 0 and args.quiet is True
    args = build_parser().parse_args(["-vv", "train"])
    assert args.verbose == 2


def test_verbosity_is_read_before_parsing():
    assert _verbosity_from_argv(["-v", "export"]) == 1
    assert _verbosity_from_argv(["export", "-vv", "--target", "tflite"]) == 2
    assert _verbosity_from_argv(["export", "-q"]) == -1
    assert _verbosity_from_argv(["run", "--", "-v"]) == 0
    assert _verbosity_from_argv(["--set", "x=-v1"]) == 0


def test_user_error_is_exit_2_with_or_without_verbose(tmp_path):
    quiet = _edgekp("train", "--recipe", str(tmp_path / "nope.yaml"))
    loud = _edgekp("-v", "train", "--recipe", str(tmp_path / "nope.yaml"))
    assert quiet.returncode == loud.returncode == 2
    assert quiet.stderr.count("\n") == 1 and "Traceback" not in quiet.stderr
    assert "Traceback" in loud.stderr


@pytest.mark.parametrize("argv", [["export", "--no-such-flag"], ["export", "--target", "tflte"], ["trian"]])
def test_parser_error_has_one_prefix(capsys, argv):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("edgekp: error: ") and err.count("\n") == 1
    assert err.count("edgekp") == 1, err


@pytest.mark.parametrize("verb", sorted(SET_EXAMPLES))
def test_set_example_in_help_is_a_key_of_that_verbs_recipe(verb):
    key = SET_EXAMPLES[verb].split("=", 1)[0]
    kinds = {"train": "train", "export": "export", "qat": "qat", "prune": "prune"}
    kind = kinds[verb]
    model = recipe_kinds()[kind]
    section = render_recipes().split(f"## kind: `{kind}` ({model.__name__})", 1)[1].split("## kind:", 1)[0]
    assert f"| `{key}` |" in section
    sub = next(a for a in build_parser()._actions if a.dest == "verb")
    help_text = next(a.help for a in sub.choices[verb]._actions if a.dest == "overrides")
    assert f"--set {SET_EXAMPLES[verb]}" in help_text


def test_export_set_example_validates_as_an_export_override():
    from edgekp.config.export import ExportRecipe
    from edgekp.config.loader import default_recipe

    recipe = default_recipe(ExportRecipe, [SET_EXAMPLES["export"]])
    assert recipe.tflite.int8_mode == "dynamic"


def test_recipe_path_resolves_from_another_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_recipe_path("recipes/quickstart.yaml") == REPO / "recipes" / "quickstart.yaml"
    assert read_yaml("recipes/quickstart.yaml")["kind"] == "pipeline"
    assert resolve_recipe_path("quickstart.yaml") == REPO / "recipes" / "quickstart.yaml"
    local = tmp_path / "recipes"
    local.mkdir()
    (local / "quickstart.yaml").write_text("kind: pipeline\nversion: 1\n")
    assert resolve_recipe_path("recipes/quickstart.yaml") == Path("recipes/quickstart.yaml")  # the cwd wins


def test_missing_recipe_names_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        ConfigError, match=r"recipe file not found: 'recipes/nope.yaml' \(looked at .*recipes/nope.yaml"
    ):
        read_yaml("recipes/nope.yaml")


def test_override_paths_still_apply_after_resolution(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = apply_overrides(read_yaml("recipes/quickstart.yaml"), ["name=x"])
    assert data["name"] == "x"
