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
    code = main(
        ["eval", "--model", str(tiny_model_run), "--data", str(shared_data / "300w" / "afw"), "--holdout", "--json"]
    )
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


def _merlrav_sample(shared_data, folder, n: int = 24):
    """A COCO file of MERL-RAV test faces (visibility, yaw labels), pointing at the shared images."""
    src = shared_data / "merlrav" / "test"
    doc = json.loads((src / "annotations.json").read_text())
    # Every yaw bin: the faces sorted by |yaw|, taken evenly.
    anns = sorted(doc["annotations"], key=lambda a: abs(a["aflw_yaw_deg"]))
    step = max(1, len(anns) // n)
    anns = anns[::step][:n]
    ids = {a["image_id"] for a in anns}
    images = [dict(im, file_name=str(src / "images" / im["file_name"])) for im in doc["images"] if im["id"] in ids]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "annotations.json").write_text(json.dumps({"images": images, "annotations": anns}))
    return folder


def test_eval_and_bench_give_identical_numbers_on_the_same_faces(shared_data, tiny_model_run, tmp_path, capsys):
    from edgekp.bench.bench_run import BenchOptions, load_faces, score
    from edgekp.bench.predictor import load_predictor
    from edgekp.lineage.run_dir import RunDir

    data = _merlrav_sample(shared_data, tmp_path / "merlrav")
    assert main(["eval", "--model", str(tiny_model_run), "--data", str(data), "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    predictor = load_predictor(str(tiny_model_run))
    meta = dict(predictor.meta)
    faces = load_faces(RunDir.open(tiny_model_run), [(data, "auto")], meta, BenchOptions(), tmp_path / "cache")
    benched = score(predictor.predict(faces.crops.images), faces)
    assert evaluated["n"] + evaluated["n_unscored"] == 24
    for key in (
        "n",
        "n_unscored",
        "nme",
        "fr",
        "auc",
        "n_large",
        "nme_large",
        "nme_small",
        "nme_box",
        "fr_box",
        "auc_box",
        "by_yaw",
        "errors",
        "per_landmark",
        "pose_source",
    ):
        assert evaluated[key] == benched[key], key
    assert evaluated["pose_source"] == "label"
    assert {b: evaluated["by_yaw"]["box"][b]["n"] > 0 for b in ("0-30", "30-60", "60-90")} == {
        "0-30": True,
        "30-60": True,
        "60-90": True,
    }


def test_eval_prints_box_nme_by_yaw_bin(shared_data, tiny_model_run, tmp_path, capsys):
    data = _merlrav_sample(shared_data, tmp_path / "merlrav", n=12)
    assert main(["eval", "--model", str(tiny_model_run), "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "NME (box, all 12 faces)" in out and "by |yaw| (pose from label)" in out
    for name in ("0-30", "30-60", "60-90"):
        assert f"{name} deg: NME (inter_ocular)" in out and "NME (box)" in out
