"""Committed checkpoints: a run snapshotted into a tracked folder holds weights only (no optimizer
state), checks its files by sha256, and a new run warm-starts from a copy of it elsewhere."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from edgekp.cli import main as edgekp
from edgekp.errors import LineageError
from edgekp.lineage.checkpoints import load_checkpoint, load_model_file
from edgekp.train.snapshot import FP16_TOLERANCE, snapshot_run, verify_snapshot
from tests.train.test_train_cli import _recipe


def test_snapshot_holds_weights_only_and_a_copy_warm_starts_a_new_run(tmp_path):
    recipe = _recipe(tmp_path, epochs=1)
    run = tmp_path / "machine_a" / "run"
    assert edgekp(["train", "--recipe", str(recipe), "--out", str(run)]) == 0
    tracked = tmp_path / "repo" / "training" / "tiny"
    snap = snapshot_run(run, tracked)
    assert not snap.unchanged and snapshot_run(run, tracked).unchanged  # same epoch again: nothing copied
    names = {p.name for p in tracked.iterdir()}
    assert (
        "last.pt" not in names and {"manifest.json", "model.pt", "history.csv", "recipe.yaml", "snapshot.json"} <= names
    )
    info = json.loads((tracked / "snapshot.json").read_text())
    assert info["epoch"] == 0 and "last.pt" not in info["files"] and "init_from" in info["continue"]
    # The recorded dtype is the file's, and the halved weights predict what the run's weights predict.
    weights = load_checkpoint(tracked / "model.pt")["state_dict"]
    float_dtypes = {str(v.dtype) for v in weights.values() if v.is_floating_point()}
    assert float_dtypes == {f"torch.{info['weights_dtype']}"}
    probe = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        theirs, ours = (
            load_model_file(run / "model.pt").model(probe),
            load_model_file(tracked / "model.pt").model(probe),
        )
    assert (theirs - ours).abs().max().item() <= FP16_TOLERANCE
    # "Another machine": the run folder is gone; only the tracked copy (moved elsewhere) remains.
    shutil.rmtree(tmp_path / "machine_a")
    moved = tmp_path / "checkout_b" / "training" / "tiny"
    shutil.copytree(tracked, moved)
    assert verify_snapshot(moved).epoch == 0
    out = tmp_path / "checkout_b" / "runs" / "tiny"
    assert (
        edgekp(
            [
                "train",
                "--recipe",
                str(moved / "recipe.yaml"),
                "--set",
                f"model.init_from={moved}",
                "--out",
                str(out),
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "ok" and manifest["init_from"]["source"] == str(moved)
    assert manifest["init_from"]["sha256"] == info["files"]["model.pt"]


def test_verify_refuses_a_damaged_snapshot(tmp_path):
    run = tmp_path / "run"
    assert edgekp(["train", "--recipe", str(_recipe(tmp_path, epochs=1)), "--out", str(run)]) == 0
    tracked = snapshot_run(run, tmp_path / "training" / "tiny").path
    (tracked / "model.pt").write_bytes((tracked / "model.pt").read_bytes()[:-10])
    with pytest.raises(LineageError, match="model.pt is missing or differs"):
        verify_snapshot(tracked)


def test_snapshot_refuses_a_copy_that_mixes_epochs(tmp_path):
    run = tmp_path / "run"
    assert edgekp(["train", "--recipe", str(_recipe(tmp_path, epochs=2)), "--out", str(run)]) == 0
    lines = (run / "history.csv").read_text().splitlines()
    (run / "history.csv").write_text("\n".join(lines[:-1]) + "\n")  # as if caught before the last row was written
    with pytest.raises(LineageError, match="history.csv does not end"):
        snapshot_run(run, tmp_path / "training" / "tiny", attempts=2, wait_s=0.0)
    assert not (tmp_path / "training" / "tiny").exists()
