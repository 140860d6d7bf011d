"""Run directories, manifests and atomic checkpoints."""

from __future__ import annotations

import json

import pytest
import torch

from edgekp.errors import LineageError
from edgekp.files.atomic import atomic_write_bytes
from edgekp.lineage.checkpoints import load_checkpoint, save_checkpoint
from edgekp.lineage.run_dir import RunDir


def test_manifest_records_lineage_and_host(tmp_path):
    parent = RunDir.create(tmp_path / "train", "train", recipe={"kind": "train", "seed": 1})
    parent.finish(artifacts={"best.pt": "abc"})
    child = RunDir.create(tmp_path / "export", "export", recipe={"kind": "export"}, parent=RunDir.open(parent.path))
    manifest = json.loads((child.path / "manifest.json").read_text())
    assert manifest["kind"] == "export"
    assert manifest["parent"]["kind"] == "train"
    assert manifest["parent"]["hash"] == RunDir.open(parent.path).content_hash()
    assert manifest["host"]["cpu"] and isinstance(manifest["host"]["isa"], list)
    assert "torch" in manifest["host"]["libraries"]
    assert manifest["edgekp_version"]
    assert manifest["started"] and manifest["status"] == "running"
    assert [r["kind"] for r in child.lineage()] == ["export", "train"]


def test_open_rejects_missing_and_wrong_kind(tmp_path):
    with pytest.raises(LineageError, match="not found"):
        RunDir.open(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(LineageError, match="not an edgekp run directory"):
        RunDir.open(tmp_path / "empty")
    RunDir.create(tmp_path / "t", "train")
    with pytest.raises(LineageError, match="is a 'train' run"):
        RunDir.open(tmp_path / "t", expect_kinds=("qat",))


def test_checkpoint_round_trip_and_corruption(tmp_path):
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, {"model": {"w": torch.ones(3)}, "epoch": 2})
    state = load_checkpoint(path)
    assert state["epoch"] == 2 and torch.equal(state["model"]["w"], torch.ones(3))
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(LineageError, match="corrupt"):
        load_checkpoint(path)


def test_atomic_write_leaves_no_temp_files(tmp_path):
    atomic_write_bytes(tmp_path / "a.bin", b"123")
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]
