"""A committed checkpoint resumes on another machine: run-control fields may change, the recipe may not."""

from __future__ import annotations

import json

from edgekp.cli import main
from tests.train.test_train_cli import _recipe


def test_resume_accepts_new_budget_device_and_threads(tmp_path):
    recipe = _recipe(tmp_path, epochs=2)
    # First leg: one epoch under a tiny budget ...
    out2 = tmp_path / "run2"
    assert main(["train", "--recipe", str(recipe), "--out", str(out2), "--set", "optim.time_budget_min=0.0001"]) == 0
    first = json.loads((out2 / "manifest.json").read_text())
    assert first["result"]["stop_reason"] == "time_budget" and first["result"]["epochs"] == 1
    # ... second leg on "another machine": a longer budget, another device choice and thread count.
    code = main(
        [
            "train",
            "--recipe",
            str(recipe),
            "--out",
            str(out2),
            "--resume",
            "--set",
            "optim.time_budget_min=60",
            "--set",
            "threads=1",
            "--device",
            "cpu",
        ]
    )
    assert code == 0
    second = json.loads((out2 / "manifest.json").read_text())
    assert second["result"]["epochs"] == 2 and second["recipe"]["optim"]["time_budget_min"] == 60
    assert second["resumes"][-1]["control"] == {
        "device": "cpu",
        "threads": 1,
        "workers": 0,
        "optim.time_budget_min": 60.0,
        "data.root": str(tmp_path / "data"),
    }


def test_resume_refuses_a_changed_learning_recipe(tmp_path, capsys):
    recipe = _recipe(tmp_path, epochs=1)
    out = tmp_path / "run"
    assert main(["train", "--recipe", str(recipe), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["train", "--recipe", str(recipe), "--out", str(out), "--resume", "--set", "optim.lr=0.01"]) == 2
    assert "recipe differs" in capsys.readouterr().err


def test_resume_of_a_run_recorded_before_a_field_existed(tmp_path):
    """A checkpoint committed by an older edgekp (its recipe lacks a field added since) still resumes."""
    recipe = _recipe(tmp_path, epochs=2)
    out = tmp_path / "run"
    assert main(["train", "--recipe", str(recipe), "--out", str(out), "--set", "optim.time_budget_min=0.0001"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["recipe"]["data"].pop("skip_bad") is False  # as if the field did not exist yet
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert (
        main(["train", "--recipe", str(recipe), "--out", str(out), "--resume", "--set", "optim.time_budget_min=60"])
        == 0
    )
    assert json.loads((out / "manifest.json").read_text())["result"]["epochs"] == 2


def test_resume_from_another_data_root_needs_the_same_faces(tmp_path, capsys):
    """The datasets may live elsewhere on another machine (data.root is run control), but must hold the same faces."""
    import shutil

    recipe = _recipe(tmp_path, epochs=2)
    out = tmp_path / "run"
    assert main(["train", "--recipe", str(recipe), "--out", str(out), "--set", "optim.time_budget_min=0.0001"]) == 0
    moved = tmp_path / "elsewhere"
    shutil.copytree(tmp_path / "data", moved)
    assert (
        main(
            [
                "train",
                "--recipe",
                str(recipe),
                "--out",
                str(out),
                "--resume",
                "--set",
                f"data.root={moved}",
                "--set",
                "optim.time_budget_min=60",
            ]
        )
        == 0
    )
    capsys.readouterr()
    out2 = tmp_path / "run2"
    assert main(["train", "--recipe", str(recipe), "--out", str(out2), "--set", "optim.time_budget_min=0.0001"]) == 0
    manifest = out2 / "manifest.json"
    import json as _json

    data = _json.loads(manifest.read_text())
    data["data"]["train_faces"] += 1  # as if the first leg had read one face more
    manifest.write_text(_json.dumps(data))
    assert (
        main(["train", "--recipe", str(recipe), "--out", str(out2), "--resume", "--set", "optim.time_budget_min=60"])
        == 2
    )
    assert "the data given now has" in capsys.readouterr().err
