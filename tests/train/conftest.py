"""A tiny in-memory training set of synthetic faces, shared by the trainer tests."""

from __future__ import annotations

import numpy as np
import pytest
from face_fixtures import synthetic_face_arrays  # tests/ helper module, on sys.path via tests/conftest.py

from edgekp.config.data import AugmentSpec, BalanceSpec
from edgekp.config.train import LossSpec, OptimSpec
from edgekp.data.schemes import IBUG68
from edgekp.train.data import TrainingData
from edgekp.train.loop import FitSettings

SIZE = 64


@pytest.fixture(scope="session")
def tiny_data() -> TrainingData:
    return TrainingData(synthetic_face_arrays(48, 11), synthetic_face_arrays(16, 12), IBUG68, np.ones(1))


@pytest.fixture(scope="session")
def make_settings():
    return tiny_settings


def tiny_settings(**optim) -> FitSettings:
    base = {"batch_size": 16, "lr": 2e-3, "max_epochs": 2, "patience": 5, "warmup_epochs": 0.5, "ema_decay": 0.9}
    base.update(optim)
    return FitSettings(
        loss=LossSpec(),
        optim=OptimSpec(**base),
        augment=AugmentSpec(),
        balance=BalanceSpec(yaw_threshold=30, strategy="oversample", delta=0.25),
        seed=3,
        input_size=SIZE,
    )
