"""tflite.float_modules: the PTQ export keeps the named modules in float (the head by default)."""

from __future__ import annotations

import numpy as np
import pytest
from face_fixtures import require_backend, scaled_tiny_model

from edgekp.config.export import ExportRecipe
from edgekp.errors import ConfigError
from edgekp.export.tflite import convert_litert, int8_op_counts

SIZE = 64


def make_model():
    return scaled_tiny_model(SIZE, 0)


def test_the_default_recipe_keeps_the_head_and_the_first_convolution_float() -> None:
    assert ExportRecipe().tflite.float_modules == ["normalize", "stem.0", "head"]


def test_a_module_the_model_lacks_is_a_config_error(tmp_path) -> None:
    require_backend("tflite", "litert")
    with pytest.raises(ConfigError, match="names no module of this model: heads"):
        convert_litert(make_model(), SIZE, "int8", "static", None, tmp_path / "m.tflite", ("heads",))
    assert not (tmp_path / "m.tflite").exists()


@pytest.mark.slow
def test_float_modules_leave_the_head_out_of_int8(tmp_path) -> None:
    require_backend("tflite", "litert")
    model = make_model()
    calib = np.random.default_rng(0).random((8, 3, SIZE, SIZE), dtype=np.float32)
    counts = {}
    for scope in ((), ("head",)):
        path = tmp_path / f"{'-'.join(scope) or 'all'}.tflite"
        convert_litert(model, SIZE, "int8", "static", calib, path, scope)
        counts[scope] = int8_op_counts(path)
    kinds = [type(m).__name__ for _, m in model.head.named_modules()]
    assert kinds.count("Linear") >= 2
    # The head's Linear and Conv2d layers are the only ones that leave int8; everything else stays.
    assert counts[()]["FULLY_CONNECTED"] - counts[("head",)]["FULLY_CONNECTED"] == kinds.count("Linear")
    assert counts[()]["CONV_2D"] - counts[("head",)]["CONV_2D"] == kinds.count("Conv2d")
    assert counts[("head",)]["DEPTHWISE_CONV_2D"] == counts[()]["DEPTHWISE_CONV_2D"]
