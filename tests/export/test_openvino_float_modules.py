"""openvino.float_modules: the NNCF PTQ export keeps the named torch modules in float."""

from __future__ import annotations

import numpy as np
import pytest
from face_fixtures import require_backend, scaled_tiny_model

from edgekp.config.export import ExportRecipe
from edgekp.errors import ConfigError
from edgekp.export.base import ExportSpec
from edgekp.export.openvino import OpenVINOTarget

SIZE = 64


def _matmuls(path) -> list[tuple[str, bool]]:
    """(name, int8) of each MatMul/Convolution node: int8 when a FakeQuantize feeds it (through a Convert or not)."""
    import openvino as ov

    out = []
    for op in ov.Core().read_model(str(path)).get_ops():
        if op.get_type_name() not in ("MatMul", "Convolution"):
            continue
        feeders = [op.input_value(i).get_node() for i in range(op.get_input_size())]
        quantized = any(
            f.get_type_name() == "FakeQuantize"
            or any(f.input_value(j).get_node().get_type_name() == "FakeQuantize" for j in range(f.get_input_size()))
            for f in feeders
        )
        out.append((op.get_friendly_name(), quantized))
    return out


def _int8_inputs(path) -> dict[str, int]:
    """MatMul/Convolution nodes by whether they take int8 inputs, head vs rest."""
    out = {"head_int8": 0, "head_float": 0, "rest_int8": 0, "rest_float": 0}
    for name, quantized in _matmuls(path):
        where = "head" if name.startswith("__module.head.") else "rest"
        out[f"{where}_{'int8' if quantized else 'float'}"] += 1
    return out


def test_by_default_the_head_stays_float() -> None:
    assert ExportRecipe().openvino.float_modules == ["head"]


def test_a_module_the_model_lacks_is_a_config_error_and_writes_nothing(tmp_path) -> None:
    require_backend("openvino", "torch")
    calib = np.random.default_rng(0).random((4, 3, SIZE, SIZE), dtype=np.float32)
    spec = ExportSpec(SIZE, 68, "int8", "torch", options={"float_modules": ["heads"]})
    with pytest.raises(ConfigError, match="openvino.float_modules names no module of this model: heads"):
        OpenVINOTarget().convert(scaled_tiny_model(SIZE, 0), spec, calib, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_float_modules_leave_only_the_head_out_of_int8(tmp_path) -> None:
    require_backend("openvino", "torch")
    model = scaled_tiny_model(SIZE, 0)
    calib = np.random.default_rng(0).random((8, 3, SIZE, SIZE), dtype=np.float32)
    counts = {}
    for scope in ((), ("head",)):
        spec = ExportSpec(SIZE, 68, "int8", "torch", options={"float_modules": list(scope)})
        counts[scope] = _int8_inputs(
            OpenVINOTarget().convert(model, spec, calib, tmp_path / ("-".join(scope) or "all"))
        )
    linear_in_head = sum(type(m).__name__ == "Linear" for m in model.head.modules())
    assert linear_in_head >= 2
    assert counts[()]["head_int8"] == linear_in_head and counts[("head",)]["head_int8"] == 0
    assert counts[("head",)]["head_float"] == linear_in_head
    # Nothing outside the head changes.
    assert counts[("head",)]["rest_int8"] == counts[()]["rest_int8"] > 0


def test_a_presence_head_always_stays_float(tmp_path) -> None:
    """Quantized, the presence logit moved by up to 10 on an AVX-512 VNNI host: the head stays float
    whatever float_modules says, and the rest of the network is still int8."""
    require_backend("openvino", "torch")
    model = scaled_tiny_model(SIZE, 0, presence_hidden=8)
    assert model.has_presence
    calib = np.random.default_rng(0).random((8, 3, SIZE, SIZE), dtype=np.float32)
    spec = ExportSpec(SIZE, 68, "int8", "torch", options={"float_modules": []})
    path = OpenVINOTarget().convert(model, spec, calib, tmp_path / "out")
    counts = {"presence_int8": 0, "presence_float": 0, "rest_int8": 0}
    for name, quantized in _matmuls(path):
        if ".presence." in name:
            counts["presence_int8" if quantized else "presence_float"] += 1
        elif quantized:
            counts["rest_int8"] += 1
    assert counts["presence_int8"] == 0 and counts["presence_float"] >= 3  # reduce conv, fc1, fc2
    assert counts["rest_int8"] > 0
