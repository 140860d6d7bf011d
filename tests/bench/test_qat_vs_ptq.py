"""benchmarks/qat_vs_ptq.py's pure parts (edgekp.report.qat_vs_ptq_figures, and the options of
edgekp.report.qat_vs_ptq): which face sets it scores and how (from the reference report's list and
the recipe's data section), and how d against fp32 and the 1 % flags are computed and printed.
The end-to-end run (real exports, QAT fine-tuning) is minutes long and is run by hand, not here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from edgekp.config.loader import load_recipe
from edgekp.config.train import TrainRecipe
from edgekp.report.qat_vs_ptq import overrides, parse
from edgekp.report.qat_vs_ptq_figures import FaceSetSpec, compare, face_set_specs, reference_face_sets, table

REPO = Path(__file__).resolve().parents[2]


def test_face_sets_follow_the_report_and_the_merlrav_recipe():
    recipe = load_recipe(REPO / "recipes/train/kp_hvit_s_merlrav.yaml", [], expect=TrainRecipe)
    specs = {s.name: s for s in face_set_specs(recipe.data, reference_face_sets())}
    assert list(specs) == ["300w_val", "ytf_test", "merlrav_test"]
    # MERL-RAV test is read as the recipe's data.val entry reads it (COCO keypoints) and box-normalized.
    assert specs["merlrav_test"].datasets == (("merlrav/test", "coco"),)
    assert specs["merlrav_test"].norm == "box" and not specs["merlrav_test"].holdout
    # The held-out 300W photos: the training entries' reader, the val_split's inter-ocular norm.
    assert specs["300w_val"].datasets == (("300w/helen_train", "pts"), ("300w/afw", "pts"))
    assert specs["300w_val"].holdout and specs["300w_val"].norm == "inter_ocular"
    # Not in the recipe: detected format, inter-ocular as 300W reports.
    assert specs["ytf_test"].datasets == (("ytf/test", "auto"),) and specs["ytf_test"].norm == "inter_ocular"


def test_a_parent_trained_without_merlrav_still_gets_box_merlrav():
    recipe = load_recipe(REPO / "recipes/train/kp_hvit_s_300w.yaml", [], expect=TrainRecipe)
    specs = {s.name: s for s in face_set_specs(recipe.data, reference_face_sets())}
    assert specs["merlrav_test"].datasets == (("merlrav/test", "auto"),) and specs["merlrav_test"].norm == "box"
    assert specs["300w_val"].holdout and specs["300w_val"].norm == "inter_ocular"


def test_a_face_set_mixing_norms_is_refused():
    recipe = load_recipe(REPO / "recipes/train/kp_hvit_s_merlrav.yaml", [], expect=TrainRecipe)
    with pytest.raises(ValueError, match="different norms"):
        face_set_specs(recipe.data, {"mixed": (["merlrav/test", "ytf/test"], False, "")})


def _row(precision, a, b, bins):
    return {
        "target": "onnx",
        "precision": precision,
        "status": "ok",
        "size_kb": 1800.0,
        "latency_ms": 0.5,
        "sets": {
            "300w_val": {"nme": a},
            "merlrav_test": {"nme": b, "bins": {k: {"n": 5, "nme": v} for k, v in bins.items()}},
        },
    }


def test_deltas_and_flags_against_fp32():
    fp32 = _row("fp32", 0.050, 0.040, {"0-30": 0.030, "30-60": 0.045, "60-90": None})
    qat = _row("qat_int8", 0.0504, 0.0408, {"0-30": 0.0301, "30-60": 0.0459, "60-90": 0.07})
    d, flags = compare(qat, fp32)
    assert d["300w_val"] == pytest.approx(0.008)
    assert d["merlrav_test"] == pytest.approx(0.02)
    assert d["merlrav_test 30-60"] == pytest.approx(0.02)
    assert d["merlrav_test 60-90"] is None  # an empty fp32 bin has no reference
    assert flags == ["merlrav_test", "merlrav_test 30-60"]  # 0.8 % and 0.3 % are within 1 %
    d_self, flags_self = compare(fp32, fp32)
    assert set(d_self.values()) <= {0.0, None} and flags_self == []
    d_none, flags_none = compare(qat, None)  # fp32 failed: nothing to compare with, nothing flagged
    assert set(d_none.values()) == {None} and flags_none == []


def test_table_prints_every_set_bins_and_flags():
    specs = [
        FaceSetSpec("300w_val", (("300w/afw", "pts"),), True, "inter_ocular"),
        FaceSetSpec("merlrav_test", (("merlrav/test", "coco"),), False, "box"),
    ]
    fp32 = _row("fp32", 0.050, 0.040, {"0-30": 0.030, "30-60": 0.045, "60-90": 0.06})
    qat = _row("qat_int8", 0.0504, 0.0408, {"0-30": 0.0301, "30-60": 0.0459, "60-90": 0.06})
    failed = {"target": "onnx", "precision": "ptq_int8", "status": "failed: RuntimeError: boom"}
    fp32["d"], fp32["flags"] = compare(fp32, None)  # as the benchmark does: the reference has no d
    qat["d"], qat["flags"] = compare(qat, fp32)
    lines = table("onnx", [fp32, failed, qat], specs)
    head, rows = lines[2], [line for line in lines if line.startswith("| ") and line != lines[2]]
    assert "300w_val % io" in head and "merlrav_test % box" in head and "\\|yaw\\| 60-90" in head

    def cols(line: str) -> int:  # unescaped pipes only
        return len(re.findall(r"(?<!\\)\|", line))

    assert all(cols(line) == cols(head) for line in rows)  # every row fills every column
    assert rows[0].endswith("| 5.00 |  | 4.00 |  | 3.00 | 4.50 | 6.00 | 1800 | 0.50 | fp32 reference |")
    assert "\\|yaw\\| 30-60 (n=5)" in head
    assert "failed: RuntimeError: boom" in rows[1]
    assert "| 4.08 | +2.0 % ! |" in rows[2] and "| 5.04 | +0.8 % |" in rows[2]
    assert rows[2].endswith("merlrav_test +2.0 % !, merlrav_test 30-60 +2.0 % ! |")


def test_qat_set_reaches_every_qat_recipe():
    from edgekp.config.qat import QatRecipe

    args = parse(
        [
            "--from",
            "runs/x",
            "--data-root",
            "data",
            "--qat-minutes",
            "2",
            "--qat-set",
            r"ignored_scopes=['.*\.attn\.normalizer', 'head\.fc2']",
        ]
    )
    recipe = load_recipe(REPO / "recipes" / "qat" / "tflite_int8.yaml", overrides(args), expect=QatRecipe)
    assert recipe.ignored_scopes == [r".*\.attn\.normalizer", r"head\.fc2"] and recipe.finetune.time_budget_min == 2
