"""The OpenVINO IR's batch: static 1 by default (the fast form for the CPU plugin), dynamic on request,
and the runner feeds either with any number of faces and gets the same landmarks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from face_fixtures import require_backend

from edgekp.export.pipeline import ExportRequest, export_one


def _export(tiny_run: Path, recipe, out: Path) -> Path:
    result = export_one(ExportRequest("openvino", "fp32", "torch"), from_run=tiny_run, recipe=recipe, out=out)
    assert result["parity"]["passed"], result["parity"]
    return Path(result["artifact"])


def _first_dim(artifact: Path) -> int:
    import openvino as ov

    dim = ov.Core().read_model(str(artifact)).inputs[0].get_partial_shape()[0]
    return dim.get_length() if dim.is_static else -1


@pytest.mark.parametrize(("batch", "expected_dim"), [(1, 1), (None, -1), (4, 4)])
def test_the_ir_batch_follows_the_option_and_every_form_gives_the_same_landmarks(
    batch, expected_dim, tiny_run: Path, fast_recipe, tmp_path: Path
) -> None:
    require_backend("openvino", "torch")
    from edgekp.export.openvino_runtime import OpenVINORunner

    recipe = fast_recipe.model_copy(update={"openvino": fast_recipe.openvino.model_copy(update={"batch": batch})})
    artifact = _export(tiny_run, recipe, tmp_path / "ov")
    assert _first_dim(artifact) == expected_dim
    runner = OpenVINORunner(artifact)
    side = runner.input_shape()[1 if runner.nhwc else 2]  # the IR takes u8 NHWC pixels by default
    faces = np.random.default_rng(0).random((5, 3, side, side))
    together = runner(faces.astype(np.float32))  # 5 faces: one call, five calls, or two padded calls of 4
    one_by_one = np.concatenate([runner(faces[i : i + 1].astype(np.float32)) for i in range(5)])
    assert together.shape[0] == 5
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)


def test_the_default_recipe_exports_a_static_batch_of_one() -> None:
    from edgekp.config.export import ExportRecipe

    assert ExportRecipe().openvino.batch == 1
