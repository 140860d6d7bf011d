"""edgekp eval on real faces: metrics present, holdout filtering, errors."""

from __future__ import annotations

import json

from edgekp.cli import main


def test_eval_reports_nme_fr_auc_by_pose(shared_data, tiny_model_run, capsys):
    code = main(["eval", "--model", str(tiny_model_run), "--data", str(shared_data / "aflw2000_3d"), "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 4 and result["norm"] == "inter_ocular"
    for key in ("nme", "fr", "auc", "nme_large", "nme_small"):
        assert key in result
    assert result["n_large"] + result["n_small"] == 4


def test_eval_holdout_scores_only_held_out_faces(shared_data, tiny_model_run, capsys):
    code = main(["eval", "--model", str(tiny_model_run), "--data", str(shared_data / "300w" / "afw"), "--holdout", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 2 and result["subset"] == "held-out validation faces"


def test_eval_holdout_of_unknown_dataset_is_user_error(shared_data, tiny_model_run, capsys):
    code = main(["eval", "--model", str(tiny_model_run), "--data", str(shared_data / "ytf" / "test"), "--holdout"])
    assert code == 2
    assert "held out no faces" in capsys.readouterr().err


def test_eval_missing_model_or_data(tmp_path, capsys):
    assert main(["eval", "--model", str(tmp_path / "nope"), "--data", str(tmp_path)]) == 2
    assert "model not found" in capsys.readouterr().err
