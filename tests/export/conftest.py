"""A tiny trained-looking run directory and the committed synthetic calibration set."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from edgekp.lineage.plain_format import save_model
from edgekp.lineage.run_dir import RunDir

REPO = Path(__file__).resolve().parents[2]
SYNTHETIC_64 = REPO / "edgekp" / "shipped" / "calibration" / "synthetic_64.yaml"  # the one committed copy
from face_fixtures import scaled_tiny_model  # noqa: E402 - tests/ helper module, importable once conftest runs

SIZE = 64


def make_model(size: int = SIZE, seed: int = 0) -> torch.nn.Module:
    """kp_hvit_test whose output depends on the image (see face_fixtures.scaled_tiny_model)."""
    return scaled_tiny_model(size, seed)


def make_run(path: Path, *, kind: str = "train", num_points_in_recipe: int = 68) -> Path:
    run = RunDir.create(
        path, kind, recipe={"model": {"name": "kp_hvit_test", "input_size": SIZE, "num_points": num_points_in_recipe}}
    )
    save_model(path / "model.pt", make_model(), {"scheme": "ibug68", "crop_margin": 0.25})
    run.finish("ok")
    return path


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("export") / "train")


@pytest.fixture
def fast_recipe():
    """The default recipe with the legacy ONNX exporter (the dynamo one takes ~30 s on 2 busy cores)."""
    from edgekp.config.export import ExportRecipe
    from edgekp.config.loader import default_recipe

    return default_recipe(ExportRecipe, ["onnx.exporter=legacy", f"calibration={SYNTHETIC_64}"])


@pytest.fixture
def run_factory():
    """make_run(path, kind=..., num_points_in_recipe=...) for tests that need odd run directories."""
    return make_run


@pytest.fixture(scope="session")
def synthetic_64() -> Path:
    return SYNTHETIC_64
