"""A tiny in-memory training set of synthetic faces, shared by the trainer tests."""

from __future__ import annotations

import numpy as np
import pytest

from edgekp.config.data import AugmentSpec, BalanceSpec
from edgekp.config.train import LossSpec, OptimSpec
from edgekp.data.schemes import IBUG68
from edgekp.train.data import FaceArrays, TrainingData
from edgekp.train.loop import FitSettings

SIZE = 64


def _arrays(n: int, seed: int) -> FaceArrays:
    from edgekp.data.crops import crop_face
    from edgekp.data.synthetic import render_synthetic

    images, points, poses = render_synthetic(n, 96, seed)
    crops = [crop_face(img, pts, SIZE, margin=0.25) for img, pts in zip(images, points, strict=True)]
    return FaceArrays(
        images=np.stack([c.image for c in crops]),
        points=np.stack([c.points for c in crops]).astype(np.float32) / SIZE,
        poses=poses.astype(np.float32),
        sources=[f"synth_{seed}_{i}" for i in range(n)],
        dataset=np.zeros(n, dtype=np.int64),
    )


@pytest.fixture(scope="session")
def tiny_data() -> TrainingData:
    return TrainingData(_arrays(48, 11), _arrays(16, 12), IBUG68, np.ones(1))


@pytest.fixture(scope="session")
def make_settings():
    return tiny_settings


def tiny_settings(**optim) -> FitSettings:
    base = {"batch_size": 16, "lr": 2e-3, "max_epochs": 2, "patience": 5, "warmup_epochs": 0.5, "ema_decay": 0.9}
    base.update(optim)
    return FitSettings(
        loss=LossSpec(), optim=OptimSpec(**base), augment=AugmentSpec(),
        balance=BalanceSpec(yaw_threshold=30, strategy="oversample", delta=0.25), seed=3, input_size=SIZE,
    )
