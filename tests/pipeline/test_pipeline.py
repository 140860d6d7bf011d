"""edgekp run end to end on a tiny model (64 px kp_hvit_test, a few synthetic faces, one epoch),
then again to show every finished stage is reused; bad pipeline recipes fail in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from edgekp.cli import main

REPO = Path(__file__).resolve().parents[2]

TINY = {
    "kind": "pipeline",
    "version": 1,
    "name": "tiny",
    "data": {"root": "{out}/data"},
    "train": {
        "recipe": str(REPO / "recipes/train/quickstart.yaml"),
        "set": [
            "model.name=kp_hvit_test",
            "model.input_size=64",
            "data.train.0.path=train_48",
            "data.train.0.n=48",
            "data.train.0.render_size=96",
            "data.val.0.path=val_12",
            "data.val.0.n=12",
            "data.val.0.render_size=96",
            "optim.max_epochs=1",
            "optim.batch_size=16",
            "threads=1",
        ],
    },
    "prune": {
        "recipe": str(REPO / "recipes/prune/heads_50.yaml"),
        "set": ["scoring.faces=16", "finetune.max_epochs=1", "finetune.ema_decay=null", "threads=1"],
    },
    "export": {
        "recipe": str(REPO / "recipes/export/default.yaml"),
        "set": ["onnx.exporter=legacy", "parity_min_faces=8"],
        "train": [{"target": "onnx", "precision": "fp32"}],
        "prune": [{"target": "onnx", "precision": "fp32"}],
    },
    "bench": {"threads": [1], "warmup": 1, "min_runs": 3, "min_seconds": 0.01},
    "report": {"floors": {"nme_max": 10.0}},
}


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_train_bench_report_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The fast path of the default suite: data -> train -> bench -> report, no compression or export."""
    recipe = _write(tmp_path, {**TINY, "prune": None, "export": {"train": []}})
    assert main(["run", str(recipe), "--out", str(tmp_path / "out"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == 1 and summary["ok"] == 1
    assert (tmp_path / "out" / "report" / "report.html").is_file()


@pytest.mark.slow
def test_tiny_pipeline_runs_and_resumes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe, out = _write(tmp_path, TINY), tmp_path / "out"
    assert main(["run", str(recipe), "--out", str(out), "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    report = json.loads((out / "report" / "report.json").read_text())
    got = {(r["run"], r["target"], r["status"]) for r in report["rows"]}
    assert {
        ("train", "pytorch", "ok"),
        ("train", "onnx", "ok"),
        ("prune", "pytorch", "ok"),
        ("prune", "onnx", "ok"),
    } <= got
    md = (out / "report" / "report.md").read_text()
    assert f"Made by: `edgekp run {recipe} --out {out}`" in md
    assert (out / "report" / "plots" / "accuracy_vs_latency.png").is_file()
    started = json.loads((out / "train" / "manifest.json").read_text())["started"]

    assert main(["run", str(recipe), "--out", str(out), "--json"]) == 0  # every stage reused
    second = json.loads(capsys.readouterr().out)
    assert json.loads((out / "train" / "manifest.json").read_text())["started"] == started
    assert second["stages"]["train"] < 5 and second["stages"]["export"] < first["stages"]["export"]


def test_unknown_pipeline_key_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = _write(tmp_path, {**TINY, "bench": {"thread": [1]}})
    assert main(["run", str(recipe), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "did you mean 'threads'" in err[0]


def test_shipped_pipeline_recipes_validate() -> None:
    from edgekp.config.loader import load_recipe
    from edgekp.config.pipeline import PipelineRecipe

    for name in ("quickstart.yaml", "edge_300w.yaml"):
        load_recipe(REPO / "recipes" / name, expect=PipelineRecipe)


@pytest.mark.parametrize(
    ("stage", "bad", "says"),
    [
        ("prune", "finetune.max_epoch=1", "prune"),  # a typo in a stage override
        ("qat", "quantizer=coreml", "qat"),  # an impossible quantizer/target pair (openvino recipe)
        ("export", "tolerances.fp32.max_abs=null", "export"),  # parity that would check nothing
    ],
)
def test_every_stage_recipe_is_validated_before_the_first_stage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stage: str, bad: str, says: str
) -> None:
    data = json.loads(json.dumps(TINY))
    data["qat"] = {"recipe": str(REPO / "recipes/qat/openvino_int8.yaml"), "set": ["finetune.max_epochs=1"]}
    data[stage]["set"] = [*data[stage]["set"], bad]
    out = tmp_path / "out"
    assert main(["run", str(_write(tmp_path, data)), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"pipeline stage '{says}'" in err[0]
    assert not (out / "train").exists() and not (out / "data").exists()  # refused before any stage ran


def test_an_unknown_export_route_is_refused_up_front(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = {
        **TINY,
        "prune": None,
        "export": {**TINY["export"], "train": [{"target": "tflite", "precision": "fp32", "route": "litrt"}]},
    }
    out = tmp_path / "out"
    assert main(["run", str(_write(tmp_path, data)), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'litert'" in err and not (out / "train").exists()


def test_stages_call_library_functions_not_verbs() -> None:
    """The pipeline imports no CLI module: stages go through prune()/qat()/export_one(), typed recipes in hand."""
    import ast

    source = (REPO / "edgekp" / "pipeline" / "run.py").read_text()
    imported = {n.module for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ImportFrom) and n.module}
    assert not any(m.startswith(("edgekp.cli", "edgekp.commands")) for m in imported)
    assert {"edgekp.compress.heads", "edgekp.compress.qat"} <= imported
