"""Shipping a model (edgekp.ship, scripts/ship_model.py) on a tiny run with a named, box-normalized
validation set: the shipped manifest carries each set's NME and |yaw| bins at the chosen epoch and
which set chose it."""

from __future__ import annotations

import json

import pytest

from edgekp.cli import main as edgekp
from edgekp.ship import main as _ship
from tests.train.test_levers import TINY


def test_ship_records_named_validation_sets(tmp_path):
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(TINY.format(root=tmp_path / "data"))
    run = tmp_path / "run"
    assert edgekp(["train", "--recipe", str(recipe), "--out", str(run), "--set", "optim.max_epochs=1"]) == 0
    into = tmp_path / "package"
    into.mkdir()
    _ship([str(run), "--into", str(into)])
    shipped = json.loads(next(into.glob("*.manifest.json")).read_text())
    history = (run / "history.csv").read_text().splitlines()
    validation = shipped["validation"]
    assert (
        validation["selected_by"] == "synth_val"
        and validation["best_epoch"] == 0
        and validation["stop_reason"] == "max_epochs"
    )
    assert validation["sets"]["synth_val"]["norm"] == "box"
    assert f"{validation['sets']['synth_val']['nme']}"[:8] in history[1]  # the history row of the chosen epoch
    assert set(validation["sets"]["synth_val"]["by_yaw"]) == {"0-30", "30-60", "60-90"}
    assert "no committed recipe file" in shipped["reproduce"]  # tiny.yaml is not under recipes/train/
    _ship([str(run), "--into", str(into), "--recipe", str(recipe)])
    assert str(recipe) in json.loads(next(into.glob("*.manifest.json")).read_text())["reproduce"]


def test_ship_refuses_an_unfinished_run(tmp_path, capsys):
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(TINY.format(root=tmp_path / "data"))
    run = tmp_path / "run"
    assert edgekp(["train", "--recipe", str(recipe), "--out", str(run), "--set", "optim.max_epochs=1"]) == 0
    manifest = json.loads((run / "manifest.json").read_text())
    (run / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}))
    with pytest.raises(SystemExit) as exc:
        _ship([str(run), "--into", str(tmp_path)])
    assert exc.value.code == 2 and "--allow-unfinished" in capsys.readouterr().err


def test_ship_rescores_bins_a_history_lacks(tmp_path):
    """A run trained before history.csv carried |yaw| bins: ship_model re-scores model.pt on the set instead."""
    import csv

    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(TINY.format(root=tmp_path / "data"))
    run = tmp_path / "run"
    assert edgekp(["train", "--recipe", str(recipe), "--out", str(run), "--set", "optim.max_epochs=1"]) == 0
    with (run / "history.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    expected = {
        k.split("][")[1].rstrip("]"): float(v) for k, v in rows[0].items() if k.startswith("val_nme[synth_val][") and v
    }
    kept = [k for k in rows[0] if not k.startswith("val_nme[synth_val][")]
    with (run / "history.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=kept, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    into = tmp_path / "package"
    into.mkdir()
    _ship([str(run), "--into", str(into)])
    got = json.loads(next(into.glob("*.manifest.json")).read_text())["validation"]["sets"]["synth_val"]
    assert got["by_yaw_from"] == "model.pt re-scored" and expected
    for name, value in expected.items():
        assert got["by_yaw"][name] == pytest.approx(value, rel=1e-4), name
