"""edgekp train end to end on a tiny synthetic recipe, in one process and under torchrun."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from edgekp.cli import main

TINY = """kind: train
version: 1
seed: 0
model: {{name: kp_hvit_test, input_size: 64, num_points: 68}}
data:
  root: {root}
  train: [{{path: train, format: synthetic, n: 48, seed: 1, render_size: 80}}]
  val: [{{path: val, format: synthetic, n: 16, seed: 2, render_size: 80}}]
  val_split: null
balance: {{yaw_threshold: 30, strategy: oversample, delta: 0.25}}
optim: {{batch_size: 16, max_epochs: {epochs}, patience: 3, warmup_epochs: 0.5}}
"""


def _recipe(tmp_path: Path, epochs: int = 1) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY.format(root=tmp_path / "data", epochs=epochs))
    return path


def test_train_cli_writes_run_dir(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--recipe", str(_recipe(tmp_path)), "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["epochs"] == 1 and 0 < summary["best_val_nme"] < 1
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "ok" and manifest["kind"] == "train"
    assert manifest["recipe"]["model"]["name"] == "kp_hvit_test"
    assert manifest["balance"]["after"]["total"] >= manifest["balance"]["before"]["total"]
    assert manifest["data"]["train_faces"] == 48 and manifest["artifacts"]["model.pt"]
    for name in ("model.pt", "last.pt", "history.csv", "history.png"):
        assert (out / name).is_file(), name


def test_train_refuses_to_overwrite_without_resume(tmp_path, capsys):
    recipe = _recipe(tmp_path)
    out = tmp_path / "run"
    assert main(["train", "--recipe", str(recipe), "--out", str(out)]) == 0
    assert main(["train", "--recipe", str(recipe), "--out", str(out)]) == 2
    assert "pass --resume" in capsys.readouterr().err


def test_missing_dataset_is_one_line_error(tmp_path, capsys):
    code = main(
        [
            "train",
            "--set",
            "data.train.0.path=nowhere",
            "--set",
            "data.root=" + str(tmp_path),
            "--out",
            str(tmp_path / "r"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "dataset not found" in err and err.count("\n") == 1


def test_warm_start_begins_from_the_given_run(tmp_path, capsys):
    """model.init_from loads a run's weights before the first step and records the parent's sha256;
    another architecture is a one-line config error."""
    import torch

    from edgekp.lineage.checkpoints import load_run_model
    from edgekp.models import create_model
    from edgekp.train.run import warm_start

    recipe = _recipe(tmp_path, epochs=1)
    assert main(["train", "--recipe", str(recipe), "--out", str(tmp_path / "parent"), "--json"]) == 0
    capsys.readouterr()
    parent = load_run_model(tmp_path / "parent").model
    fresh = create_model("kp_hvit_test", input_size=64, num_points=68)
    info = warm_start(fresh, str(tmp_path / "parent"))
    for key, value in parent.state_dict().items():
        torch.testing.assert_close(fresh.state_dict()[key], value, rtol=0, atol=0, msg=key)
    assert info["sha256"] == json.loads((tmp_path / "parent" / "manifest.json").read_text())["artifacts"]["model.pt"]

    child = tmp_path / "child"
    args = ["train", "--recipe", str(recipe), "--out", str(child), "--set", f"model.init_from={tmp_path / 'parent'}"]
    assert main([*args, "--set", "optim.lr=1e-9", "--json"]) == 0  # a rate too small to move the weights
    manifest = json.loads((child / "manifest.json").read_text())
    assert manifest["init_from"]["sha256"] == info["sha256"]
    trained = load_run_model(child).model
    for name, value in parent.named_parameters():  # buffers (batch-norm statistics) do move in train mode
        torch.testing.assert_close(dict(trained.named_parameters())[name], value, rtol=0, atol=1e-5, msg=name)

    capsys.readouterr()
    code = main(
        [
            "train",
            "--recipe",
            str(recipe),
            "--out",
            str(tmp_path / "other"),
            "--set",
            f"model.init_from={tmp_path / 'parent'}",
            "--set",
            "model.input_size=128",
            "-q",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "another architecture" in err and err.count("\n") == 1


def test_warm_start_from_a_model_with_a_presence_head_takes_its_landmark_network(tmp_path):
    """The shipped model carries a presence head that no training recipe builds: warm-starting from it
    loads every landmark weight exactly and leaves the head out."""
    import torch

    from edgekp.lineage.plain_format import save_model
    from edgekp.models import create_model
    from edgekp.train.presence import with_presence_head
    from edgekp.train.run import warm_start

    torch.manual_seed(3)
    source = with_presence_head(create_model("kp_hvit_test", input_size=64, num_points=68), hidden=8, seed=0)
    save_model(tmp_path / "with_head.pt", source, {"scheme": "ibug68", "crop_margin": 0.25})
    fresh = create_model("kp_hvit_test", input_size=64, num_points=68)
    warm_start(fresh, str(tmp_path / "with_head.pt"))
    theirs = source.state_dict()
    assert set(fresh.state_dict()) == {k for k in theirs if not k.startswith("presence.")}
    for key, value in fresh.state_dict().items():
        torch.testing.assert_close(value, theirs[key], rtol=0, atol=0, msg=key)


@pytest.mark.skipif(shutil.which("torchrun") is None, reason="torchrun not installed")
def test_torchrun_two_cpu_processes(tmp_path):
    recipe = _recipe(tmp_path, epochs=1)
    # Render the data once up front so the two ranks don't race to create it.
    from edgekp.data.synthetic_store import ensure_synthetic_dataset

    ensure_synthetic_dataset(tmp_path / "data" / "train", 48, 80, 1)
    ensure_synthetic_dataset(tmp_path / "data" / "val", 16, 80, 2)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [
            shutil.which("torchrun"),
            "--nproc-per-node",
            "2",
            "--master-port",
            "29517",
            "-m",
            "edgekp",
            "train",
            "--recipe",
            str(recipe),
            "--out",
            str(tmp_path / "ddp"),
            "--device",
            "cpu",
            "--set",
            "threads=1",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    manifest = json.loads((tmp_path / "ddp" / "manifest.json").read_text())
    assert manifest["status"] == "ok" and (tmp_path / "ddp" / "model.pt").is_file()
