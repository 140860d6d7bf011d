"""The embedded path end to end: the quickstart train recipe, as shipped, within its own time budget,
scored on synthetic faces it never trained on (validation seed 2; training draws seed 1).

The synthetic faces turn up to 80 degrees of yaw. There the inter-ocular distance collapses (the
far eye is hidden behind the nose), so inter-ocular NME of a profile face is no longer a measure
of landmark error; the AFLW2000-3D convention for such poses, NME over sqrt(w * h) of the landmark
box, is the bar here. Inter-ocular NME is checked on the faces where it is meaningful (|yaw| <= 30).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from face_fixtures import run_cli

pytestmark = pytest.mark.slow


def test_quickstart_recipe_reaches_8pct_on_held_out_synthetic_faces(tmp_path: Path, capsys) -> None:
    run = tmp_path / "train"
    data_root = tmp_path / "faces"
    code, _, err = run_cli(
        capsys,
        "train",
        "--recipe",
        "recipes/train/quickstart.yaml",
        "--out",
        str(run),
        "--set",
        f"data.root={data_root}",
        "--set",
        "device=cpu",
        "-q",
    )
    assert code == 0, err
    with open(run / "history.csv", newline="") as fh:
        seconds = sum(float(row["seconds"]) for row in csv.DictReader(fh))
    assert seconds <= 7 * 60  # the recipe's budget (6 min); the epoch running when it expires finishes
    val = data_root / "val_200"
    code, out, err = run_cli(capsys, "eval", "--model", str(run), "--data", str(val), "--norm", "box", "--json")
    assert code == 0, err
    box = json.loads(out)
    assert box["n"] == 200 and box["nme"] <= 0.08, box["nme"]
    code, out, err = run_cli(capsys, "eval", "--model", str(run), "--data", str(val), "--json")
    assert code == 0, err
    inter_ocular = json.loads(out)
    assert inter_ocular["nme_small"] <= 0.10, inter_ocular["nme_small"]
