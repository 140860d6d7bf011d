"""Checkpoint round trip and failure modes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from edgekp.errors import LineageError
from edgekp.lineage.checkpoints import load_run_model
from edgekp.lineage.plain_format import FORMAT, load_model, save_model
from edgekp.models import create_model


def test_round_trip_gives_identical_outputs(tmp_path: Path) -> None:
    model = create_model("kp_hvit_test", input_size=64, num_points=98).eval()
    with torch.no_grad():
        model.head.fc2.bias.add_(0.1)  # not the init: make sure weights really travel
    save_model(tmp_path / "model.pt", model, {"val_nme": 0.05, "path": tmp_path})
    run_model = load_run_model(tmp_path)
    loaded, meta = run_model.model, run_model.meta
    assert meta == {"val_nme": 0.05, "path": str(tmp_path)}
    assert loaded.variant == "kp_hvit_test" and loaded.config == model.config
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    raw = torch.load(tmp_path / "model.pt", weights_only=True)
    assert raw["format"] == FORMAT and raw["name"] == "kp_hvit_test"


def test_pruned_config_round_trips(tmp_path: Path) -> None:
    model = create_model("kp_hvit_test", input_size=64, ref2={"heads": [1, 2]})
    save_model(tmp_path / "m.pt", model, {})
    loaded, _ = load_model(tmp_path / "m.pt")
    assert [m.num_heads for _, m in loaded.attention_modules()][2:4] == [1, 2]


def test_corrupt_file_raises_lineage_error(tmp_path: Path) -> None:
    bad = tmp_path / "model.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(LineageError, match="corrupt"):
        load_model(bad)


def test_foreign_checkpoint_raises_lineage_error(tmp_path: Path) -> None:
    torch.save({"weights": torch.zeros(2)}, tmp_path / "x.pt")
    with pytest.raises(LineageError, match="not an edgekp model"):
        load_model(tmp_path / "x.pt")


def test_mismatched_weights_raise_one_line(tmp_path: Path) -> None:
    save_model(tmp_path / "m.pt", create_model("kp_hvit_test", input_size=64), {})
    raw = torch.load(tmp_path / "m.pt", weights_only=True)
    raw["config"]["ref2"]["heads"] = [1, 1]
    torch.save(raw, tmp_path / "m.pt")
    with pytest.raises(LineageError, match="weights do not match") as info:
        load_model(tmp_path / "m.pt")
    assert "\n" not in str(info.value)


def test_missing_run_model(tmp_path: Path) -> None:
    with pytest.raises(LineageError, match="holds no model.pt"):
        load_run_model(tmp_path)
