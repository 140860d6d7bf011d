"""The package's layers (pyproject.toml [tool.importlinter]) hold, and the contract really catches a cycle.

The second test copies the package to a temporary folder, adds one upward import (the lowest layer
importing the highest, function-level like the lazy imports edgekp uses) and runs lint-imports there:
the contract must break and name the import.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _lint_imports(cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports (import-linter, in the dev extra) run in ``cwd`` on the edgekp found first on ``pythonpath``."""
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    return subprocess.run(
        [sys.executable, "-c", code, "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _copy_package(tmp_path: Path) -> Path:
    shutil.copytree(
        REPO / "edgekp", tmp_path / "edgekp", ignore=shutil.ignore_patterns("__pycache__", "*.pt", "*.npz", "*.npy")
    )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_layers_contract_holds() -> None:
    done = _lint_imports(REPO, REPO)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "2 kept, 0 broken" in done.stdout


def test_the_contract_breaks_when_a_cycle_is_introduced(tmp_path: Path) -> None:
    root = _copy_package(tmp_path)
    base = root / "edgekp" / "config" / "base.py"
    base.write_text(
        base.read_text() + "\n\ndef _upward():\n    from edgekp.report.tables import build_rows  # noqa: F401\n"
    )
    done = _lint_imports(root, root)
    assert done.returncode == 1, done.stdout[-3000:]
    assert "edgekp layers BROKEN" in done.stdout
    assert "edgekp.config.base -> edgekp.report.tables" in done.stdout
    assert "no import cycle between edgekp's packages BROKEN" in done.stdout  # report -> config already exists
