"""Committed checkpoints: a run snapshotted into a tracked folder resumes from a copy elsewhere and
ends exactly where the uninterrupted run ends (model, AdamW, EMA and schedule all travel)."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
import torch

from edgekp.artifacts import load_checkpoint
from edgekp.cli import main as edgekp
from edgekp.errors import LineageError
from edgekp.train.snapshot import snapshot_run
from tests.train.test_train_cli import _recipe

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _script(name: str):
    spec = importlib.util.spec_from_file_location(f"script_{name}", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_snapshot_resumes_from_a_copied_folder_like_an_uninterrupted_run(tmp_path, capsys):
    recipe = _recipe(tmp_path, epochs=2)
    straight, first_leg = tmp_path / "straight", tmp_path / "machine_a" / "run"
    ema = ["--set", "optim.ema_decay=0.9"]  # the EMA's state must travel too
    assert edgekp(["train", "--recipe", str(recipe), "--out", str(straight), *ema, "--set", "optim.time_budget_min=60"]) == 0
    assert edgekp(["train", "--recipe", str(recipe), "--out", str(first_leg), *ema, "--set", "optim.time_budget_min=0.0001"]) == 0
    snapshot_script, resume_script = _script("snapshot_run"), _script("resume_run")
    tracked = tmp_path / "repo" / "training" / "tiny"
    assert snapshot_script.main([str(first_leg), "--to", str(tracked)]) == 0
    assert snapshot_script.main([str(first_leg), "--to", str(tracked)]) == 0  # same epoch again: nothing copied
    assert "nothing copied" in capsys.readouterr().out
    info = json.loads((tracked / "snapshot.json").read_text())
    assert info["epoch"] == 0 and set(info["files"]) >= {"manifest.json", "last.pt", "model.pt", "history.csv", "recipe.yaml"}
    # "Another machine": the first run folder is gone; only the tracked copy (moved elsewhere) remains.
    shutil.rmtree(tmp_path / "machine_a")
    moved = tmp_path / "checkout_b" / "training" / "tiny"
    shutil.copytree(tracked, moved)
    out = tmp_path / "checkout_b" / "runs" / "tiny"
    assert resume_script.main([str(moved), "--out", str(out), "--train", "--device", "cpu",
                               "--set", "optim.time_budget_min=60"]) == 0
    resumed = json.loads((out / "manifest.json").read_text())
    assert resumed["status"] == "ok" and resumed["result"]["epochs"] == 2 and resumed["resumes"]
    a, b = load_checkpoint(straight / "last.pt"), load_checkpoint(out / "last.pt")
    assert a["epoch"] == b["epoch"] == 1
    for key in ("model", "ema"):
        for name, tensor in a[key].items():
            torch.testing.assert_close(b[key][name], tensor, rtol=1e-4, atol=1e-6, msg=f"{key}.{name}")
    assert b["history"][1]["val_nme"] == pytest.approx(a["history"][1]["val_nme"], rel=1e-4)
    # A later restore must not overwrite the further-trained run folder unless forced.
    assert resume_script.main([str(moved), "--out", str(out)]) == 2
    assert "already holds epoch 1" in capsys.readouterr().err


def test_restore_refuses_a_damaged_snapshot(tmp_path, capsys):
    run = tmp_path / "run"
    assert edgekp(["train", "--recipe", str(_recipe(tmp_path, epochs=1)), "--out", str(run)]) == 0
    tracked = snapshot_run(run, tmp_path / "training" / "tiny").path
    (tracked / "last.pt").write_bytes((tracked / "last.pt").read_bytes()[:-10])
    assert _script("resume_run").main([str(tracked), "--out", str(tmp_path / "again")]) == 2
    assert "last.pt is missing or differs" in capsys.readouterr().err
    assert not (tmp_path / "again" / "last.pt").exists()


def test_snapshot_refuses_a_copy_that_mixes_epochs(tmp_path):
    run = tmp_path / "run"
    assert edgekp(["train", "--recipe", str(_recipe(tmp_path, epochs=2)), "--out", str(run)]) == 0
    lines = (run / "history.csv").read_text().splitlines()
    (run / "history.csv").write_text("\n".join(lines[:-1]) + "\n")  # as if caught before the last row was written
    with pytest.raises(LineageError, match="history.csv does not end"):
        snapshot_run(run, tmp_path / "training" / "tiny", attempts=2, wait_s=0.0)
    assert not (tmp_path / "training" / "tiny").exists()
