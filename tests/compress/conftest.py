"""Tiny fixtures for the compression tests: synthetic faces in memory and a parent train run on disk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from face_fixtures import (
    scaled_tiny_model,
    synthetic_face_arrays,
)  # tests/ helper module, on sys.path via tests/conftest.py

from edgekp.config.loader import dump_recipe
from edgekp.config.train import TrainRecipe
from edgekp.data.schemes import IBUG68
from edgekp.lineage.run_dir import RunDir
from edgekp.train.data import TrainingData

SIZE = 64


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """Tiny models gain nothing from threads, and on a busy machine OpenMP spin-waits cost seconds per call."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def prune_data() -> TrainingData:
    return TrainingData(synthetic_face_arrays(32, 21), synthetic_face_arrays(12, 22), IBUG68, np.ones(1))


def tiny_train_recipe(**data: object) -> TrainRecipe:
    return TrainRecipe.model_validate(
        {
            "device": "cpu",
            "threads": 1,
            "model": {"name": "kp_hvit_test", "input_size": SIZE},
            "balance": {"yaw_threshold": 30, "strategy": "oversample", "delta": 0.25},
            "optim": {"batch_size": 16, "max_epochs": 1, "warmup_epochs": 0},
            **({"data": data} if data else {}),
        }
    )


def trained_tiny_model(seed: int = 0, attn_std: float = 0.3) -> torch.nn.Module:
    """kp_hvit_test at a real weight scale; attn_std 0.3 makes every head matter (zero-gate tests)
    and also pushes fp16 past 1e-3 parity."""
    return scaled_tiny_model(SIZE, seed, fc2_std=0.2, attn_std=attn_std)


@pytest.fixture()
def make_parent_run(tmp_path: Path) -> Callable[..., Path]:
    """Write a run directory of the given kind holding a tiny model.pt, as a train (or qat) run would."""
    from edgekp.lineage.plain_format import save_model

    def make(kind: str = "train", recipe: TrainRecipe | None = None, name: str = "parent") -> Path:
        path = tmp_path / name
        train_recipe = dump_recipe(recipe or tiny_train_recipe())
        run = RunDir.create(path, kind, recipe=train_recipe if kind == "train" else {"kind": kind})
        if kind != "train":
            run.update(train_recipe=train_recipe)
        save_model(
            path / "model.pt",
            trained_tiny_model(),
            {"input_size": SIZE, "num_points": 68, "scheme": "ibug68", "val_nme": 0.2, "crop_margin": 0.25},
        )  # as train's model_meta
        run.finish(status="ok")
        return path

    return make
