"""Shared fixtures: where the real data lives, and the repository root."""

from __future__ import annotations

import os
from pathlib import Path

# Before torch loads: spinning OpenMP waits stall badly when the other core is busy.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """Real faces are read by path, never copied: EDGEKP_DATA, else ../shared/data beside the checkout."""
    return Path(os.environ.get("EDGEKP_DATA", REPO.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"real data not found at {path} (set EDGEKP_DATA)")
    return path


@pytest.fixture(scope="session")
def tiny_model_run(tmp_path_factory) -> Path:
    """A run directory holding an untrained kp_hvit_test model.pt (64 px, 68 points)."""
    import torch

    from edgekp.lineage.plain_format import save_model
    from edgekp.lineage.run_dir import RunDir
    from edgekp.models import create_model

    out = tmp_path_factory.mktemp("tiny_model_run")
    torch.manual_seed(0)
    model = create_model("kp_hvit_test", input_size=64, num_points=68)
    run = RunDir.create(out, "train", recipe={"kind": "train"})
    meta = {"scheme": "ibug68", "num_points": 68, "input_size": 64, "crop_margin": 0.25}
    save_model(out / "model.pt", model, meta)
    run.finish(data={"holdout": {"300w/afw": ["1051618982_1", "1130084326_2"]}})
    return out
