"""A measurement in a fresh process: the child's result comes back, a failing child is an error naming it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from edgekp.errors import EdgeKPError
from edgekp.measure.isolated import run_in_fresh_process

# A child module as a study writes one: its work reads the spec and says what its process had loaded.
CHILD = """
import os
from edgekp.measure.isolated import child_main, loaded_modules

def work(spec):
    return {"doubled": 2 * spec["n"], "loaded": loaded_modules(("torch", "onnxruntime")), "pid": os.getpid()}

if __name__ == "__main__":
    child_main(work)
"""


def _env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "probe_child.py").write_text(CHILD)
    root = str(Path(__file__).resolve().parents[2])  # this checkout's edgekp, as the parent imports it
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), root])}


def test_the_child_runs_in_a_fresh_interpreter_and_its_result_comes_back(tmp_path: Path) -> None:
    import torch  # noqa: F401  (loaded here, not in the child)

    out = run_in_fresh_process("probe_child", {"n": 21}, tmp_path / "spec.json", "probing", env=_env(tmp_path))
    assert out["doubled"] == 42 and out["loaded"] == [] and out["pid"] != os.getpid()


def test_preloaded_modules_load_before_the_child(tmp_path: Path) -> None:
    out = run_in_fresh_process(
        "probe_child", {"n": 1}, tmp_path / "spec.json", "probing", env=_env(tmp_path), preload=("torch",)
    )
    assert out["doubled"] == 2 and out["loaded"] == ["torch"]


def test_a_failing_child_is_an_error_naming_what_it_did(tmp_path: Path) -> None:
    with pytest.raises(EdgeKPError, match="(?s)probing in its own process failed: .*KeyError"):
        run_in_fresh_process("probe_child", {"m": 1}, tmp_path / "spec.json", "probing", env=_env(tmp_path))
