"""The one checkpoint loader (edgekp.lineage.checkpoints), thread settings that restore, and the typed manifest."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from face_fixtures import scaled_tiny_model

from edgekp.errors import LineageError
from edgekp.lineage.checkpoints import (
    PLAIN_FORMAT,
    known_formats,
    load_model_file,
    load_run_model,
    register_format,
    save_checkpoint,
)
from edgekp.lineage.plain_format import FORMAT, save_model
from edgekp.lineage.run_dir import RunDir


def test_plain_format_name_matches_models_io() -> None:
    assert PLAIN_FORMAT == FORMAT


def test_loads_a_plain_checkpoint_by_its_declared_format(tmp_path: Path) -> None:
    save_model(tmp_path / "model.pt", scaled_tiny_model(64, 0), {"crop_margin": 0.3})
    loaded = load_run_model(tmp_path)
    assert loaded.format == PLAIN_FORMAT and loaded.quantization is None and loaded.meta["crop_margin"] == 0.3
    assert not loaded.model.training


def test_an_unknown_format_is_one_line_naming_the_known_ones(tmp_path: Path) -> None:
    save_checkpoint(tmp_path / "model.pt", {"format": "someone-else/3"})
    with pytest.raises(LineageError, match="format 'someone-else/3'.*known: edgekp-model/1"):
        load_model_file(tmp_path / "model.pt")
    with pytest.raises(LineageError, match="run directory not found"):
        load_run_model(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(LineageError, match="holds no model.pt"):
        load_run_model(tmp_path / "empty")


def test_compressors_register_their_format_and_a_clash_is_refused() -> None:
    import edgekp.compress  # noqa: F401  (registers edgekp-qat/1)
    from edgekp.compress.checkpoint_formats import QAT_FORMAT

    assert QAT_FORMAT in known_formats()
    with pytest.raises(ValueError, match="registered twice"):
        register_format(QAT_FORMAT, lambda path, state: None)  # type: ignore[arg-type,return-value]


def test_torch_threads_restore_even_on_error() -> None:
    from edgekp.measure.threads import torch_threads

    before = torch.get_num_threads()
    other = 1 if before != 1 else 2
    with pytest.raises(RuntimeError), torch_threads(other):
        assert torch.get_num_threads() == other
        raise RuntimeError("stage failed")
    assert torch.get_num_threads() == before


def test_torch_runner_leaves_the_callers_thread_count(tmp_path: Path) -> None:
    import numpy as np

    from edgekp.export.runner import TorchRunner

    before = torch.get_num_threads()
    other = 1 if before != 1 else 2
    runner = TorchRunner(scaled_tiny_model(64, 0), threads=other)
    runner(np.zeros((1, 3, 64, 64), np.float32))
    assert torch.get_num_threads() == before
    with runner.session():
        assert torch.get_num_threads() == other
    assert torch.get_num_threads() == before


def test_manifest_gives_the_lineage_training_recipe(tmp_path: Path) -> None:
    from edgekp.lineage.manifest import Manifest

    train = RunDir.create(tmp_path / "train", "train", recipe={"model": {"name": "kp_hvit_test", "input_size": 64}})
    assert Manifest.of(train).require_train_recipe().model.input_size == 64
    prune = RunDir.create(tmp_path / "prune", "prune", recipe={"kind": "prune"})
    assert Manifest.of(prune).train_recipe() is None
    with pytest.raises(LineageError, match="does not record the training recipe"):
        Manifest.of(prune).require_train_recipe()
    prune.update(train_recipe=train.manifest["recipe"])
    assert Manifest.read(prune.path).require_train_recipe().model.name == "kp_hvit_test"
    export = RunDir.create(
        tmp_path / "export", "export", recipe={"exports": [{"target": "tflite", "precision": "int8"}]}
    )
    request = Manifest.of(export).export_request()
    assert (request.target, request.precision, request.route) == ("tflite", "int8", None)
