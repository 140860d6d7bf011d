"""Benched run directories made from fixture JSON (no model, no export, no measurement)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from edgekp.lineage.run_dir import RunDir

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "golden"
GENERATED = "2026-01-01T00:00:00+00:00"


def fixture_result(**changes: object) -> dict:
    data = json.loads((FIXTURES / "bench_train.json").read_text())
    data.update(changes)
    return data


def make_benched_run(path: Path, result: dict | None = None, kind: str = "train") -> Path:
    """A run dir with a stand-in model.pt (find_artifacts only hashes it) and bench/bench.json."""
    run = RunDir.create(path, kind, recipe={"model": {"name": "kp_hvit_test"}})
    (path / "model.pt").write_bytes(b"stand-in weights")
    run.finish("ok")
    (path / "bench").mkdir(parents=True, exist_ok=True)
    data = result or fixture_result()
    data["run_name"] = path.name
    (path / "bench" / "bench.json").write_text(json.dumps(data))
    return path


@pytest.fixture
def benched_run(tmp_path: Path) -> Path:
    return make_benched_run(tmp_path / "train")


@pytest.fixture
def clean_copy(tmp_path: Path):
    def copy(src: Path, name: str) -> Path:
        dest = tmp_path / name
        shutil.copytree(src, dest)
        return dest

    return copy
