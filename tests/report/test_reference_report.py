"""The reference report (edgekp.report.reference, run by scripts/reference_report.py) on a tiny model
and a dozen MERL-RAV test faces (no exports, no peers):
the third face set is benched and reported, and its headline carries box NME, the corners in both
normalizations and box NME per |yaw| bin, for the shipped run and a --variant run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from edgekp.report import reference


def test_merlrav_face_set_headline(shared_data, tiny_model_run, tmp_path, monkeypatch):
    # The variant's folder has the shipped run's name: the report labels both parent/name, and so must the headline.
    run, variant = tmp_path / "kp_tiny", tmp_path / "variant" / "kp_tiny"
    shutil.copytree(tiny_model_run, run)
    shutil.copytree(tiny_model_run, variant)
    out = tmp_path / "reference"
    monkeypatch.chdir(Path(__file__).resolve().parents[2])  # the script resolves calibration/ from the repo root
    assert (
        reference.main(
            [
                "--data-root",
                str(shared_data),
                "--train",
                str(run),
                "--sets",
                "merlrav_test",
                "--skip-export",
                "--variant",
                str(variant),
                "--no-peers",
                "--max-faces",
                "12",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    rows = json.loads((out / "merlrav_test" / "report.json").read_text())["rows"]
    torch_row = next(r for r in rows if r["target"] == "pytorch")
    assert (
        torch_row["n_faces"] is not None
        and torch_row["nme_box"] is not None
        and torch_row["nme_corners_box"] is not None
    )
    assert any(torch_row[f"nme_box_{b}"] is not None for b in ("0-30", "30-60", "60-90"))
    index = (out / "README.md").read_text()
    assert "[MERL-RAV test" in index and "corners % box" in index
    line = next(x for x in index.splitlines() if x.startswith(f"| edgekp {tmp_path.name}/kp_tiny (PyTorch fp32)"))
    assert f"{100 * torch_row['nme_box']:.2f}" in line and f"{100 * torch_row['nme_corners_box']:.2f}" in line
    # A --variant run is benched on the same faces and has its own headline row.
    assert any(r["run"] == "variant/kp_tiny" for r in rows)
    assert any(x.startswith("| edgekp variant/kp_tiny (PyTorch fp32)") for x in index.splitlines())


def test_unknown_face_set_is_a_user_error(tmp_path, capsys):
    assert reference.main(["--data-root", str(tmp_path), "--train", str(tmp_path), "--sets", "nope"]) == 2
    assert "unknown face set" in capsys.readouterr().err


def test_peer_row_reads_the_corners_columns():
    """A peer scored on the corners only: blank 68-point columns, its NME in the corners columns, bins marked (c)."""
    row = {
        "points_scored": "eye corners and mouth corners only",
        "nme": 0.05,
        "nme_corners": 0.05,
        "nme_box": 0.03,
        "nme_corners_box": 0.031,
        "nme_box_0-30": 0.02,
        "nme_box_30-60": None,
        "nme_box_60-90": 0.04,
        "p50_ms": 2.0,
    }
    cells = [c.strip() for c in reference.headline_row(row, "mediapipe (peer)", "0.90").split("|")[1:-1]]
    assert cells == ["mediapipe (peer)", "-", "-", "5.00", "3.10", "2.00 (c)", "-", "4.00 (c)", "2.00", "0.90"]


def test_an_export_from_before_a_default_changed_is_redone(tmp_path):

    def manifest(target: str, precision: str, options: dict, run=tmp_path) -> None:
        folder = run / "exports" / f"{target}-{precision}"
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text(json.dumps({"status": "ok", "recipe": {target: options}}))

    manifest("openvino", "fp32", {"overflow_fix": "auto"})  # before openvino.batch: a dynamic batch
    manifest("openvino", "int8", {"overflow_fix": "auto", "batch": 1})  # before openvino.float_modules: an int8 head
    manifest("openvino", "fp16", {"overflow_fix": "auto", "batch": 1, "float_modules": ["head"]})  # today's defaults
    manifest("tflite", "fp32", {"int8_mode": "static"})  # options added since ran as their defaults
    manifest("openvino", "int8-qat-nncf", {"overflow_fix": "auto"}, run=tmp_path / "qat")  # a QAT run's export alike
    assert not reference.exported(tmp_path, "openvino", "fp32", None)
    assert not reference.exported(tmp_path, "openvino", "int8", None)
    assert reference.exported(tmp_path, "openvino", "fp16", None)
    assert reference.exported(tmp_path, "tflite", "fp32", None)
    assert not reference.exported(tmp_path / "qat", "openvino", "int8", None)
