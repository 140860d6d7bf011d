"""The CLI contract: every verb exists, user errors are one line and exit code 2."""

from __future__ import annotations

import subprocess
import sys

import pytest
from face_fixtures import run_cli

from edgekp.cli import VERBS


def test_help_lists_every_verb(capsys):
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0
    for verb in VERBS:
        assert verb in out


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_each_verb_has_help(capsys, verb):
    code, out, _ = run_cli(capsys, verb, "--help")
    assert code == 0
    assert "usage: edgekp " + verb in out


def test_wrong_verb_gets_did_you_mean(capsys):
    code, _, err = run_cli(capsys, "trian")
    assert code == 2
    assert err.startswith("edgekp: error:")
    assert "did you mean 'train'?" in err
    assert err.count("\n") == 1


def test_wrong_target_gets_did_you_mean(capsys):
    code, _, err = run_cli(capsys, "export", "--from", "x", "--target", "tflte")
    assert code == 2
    assert "did you mean 'tflite'?" in err
    assert err.count("\n") == 1


def test_missing_recipe_is_one_line_exit_2(capsys):
    code, _, err = run_cli(capsys, "train", "--recipe", "missing.yaml")
    assert code == 2
    assert err.startswith("edgekp: error: recipe file not found: 'missing.yaml' (looked at 'missing.yaml', ")
    assert err.count("\n") == 1


def test_misspelt_key_names_nearest_valid_key(capsys, tmp_path):
    recipe = tmp_path / "bad.yaml"
    recipe.write_text("kind: train\nversion: 1\noptim:\n  learning_rate: 0.1\n  bach_size: 8\n")
    code, _, err = run_cli(capsys, "train", "--recipe", str(recipe))
    assert code == 2
    assert err.startswith("edgekp: error:")
    assert "unknown key 'optim.bach_size'; did you mean 'batch_size'?" in err
    assert err.count("\n") == 1


def test_bad_override_value_is_user_error(capsys):
    code, _, err = run_cli(capsys, "train", "--set", "optim.lr=-1")
    assert code == 2
    assert "optim.lr" in err and "greater than 0" in err


def test_python_dash_m_works():
    proc = subprocess.run([sys.executable, "-m", "edgekp", "--help"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0
    assert "train" in proc.stdout


def test_verbose_shows_traceback_for_user_error_and_keeps_exit_2(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "edgekp", "train", "-v", "--recipe", str(tmp_path / "nope.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr and "ConfigError" in proc.stderr
    assert proc.stderr.rstrip().splitlines()[-1].startswith("edgekp: error: recipe file not found")
