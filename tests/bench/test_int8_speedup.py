"""The int8 speedup study (edgekp.bench.int8_speedup): fp32 and int8 artifacts per runtime, timed round robin."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgekp.bench.int8_speedup import (
    Artifact,
    export_variant,
    ratios,
    settle_batchnorm,
    synthetic_calibration,
    time_round_robin,
)
from edgekp.bench.int8_speedup_isolated import time_per_runtime
from edgekp.errors import EdgeKPError
from edgekp.models import create_model


def test_screen_exports_fp32_and_int8_and_times_them_in_rounds(tmp_path: Path) -> None:
    calib = synthetic_calibration(4, 64)
    assert calib.shape == (4, 3, 64, 64) and calib.min() >= 0.0 and calib.max() <= 1.0
    model = settle_batchnorm(create_model("kp_hvit_test", input_size=64, token_norm="batch"), calib)
    arts = export_variant("bn", model, calib, tmp_path, ("openvino",), log=lambda _: None)
    assert [(a.runtime, a.precision) for a in arts] == [("openvino", "fp32"), ("openvino", "int8")]
    assert all(a.path.is_file() for a in arts)
    timings = time_round_robin(arts, calib[:1], rounds=3, calls=3)
    assert all(len(t.rounds) == 3 and t.ms > 0 for t in timings.values())
    ratio = ratios(timings)[("bn", "openvino")]
    assert np.isfinite(ratio) and ratio > 0


def test_each_runtime_is_timed_in_a_process_of_its_own(tmp_path: Path) -> None:
    calib = synthetic_calibration(4, 64)
    model = settle_batchnorm(create_model("kp_hvit_test", input_size=64, token_norm="batch"), calib)
    arts = export_variant("bn", model, calib, tmp_path, ("openvino", "onnx"), log=lambda _: None)
    timings, loaded = time_per_runtime(arts, calib[:1], rounds=2, calls=2, processes=2)
    assert set(timings) == {("bn", rt, p) for rt in ("openvino", "onnx") for p in ("fp32", "int8")}
    assert all(len(t.rounds) == 4 and t.ms > 0 for t in timings.values())  # 2 processes x 2 rounds, pooled
    # The OpenVINO child never loaded onnxruntime (nor torch, which exported the models here), and vice versa.
    assert "openvino" in loaded["openvino"] and not {"onnxruntime", "torch", "ai_edge_litert"} & set(loaded["openvino"])
    assert "onnxruntime" in loaded["onnx"] and "openvino" not in loaded["onnx"]
    assert np.isfinite(ratios(timings)[("bn", "openvino")])


def test_a_runtime_that_fails_in_its_process_is_an_error_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "model.xml"
    broken.write_text("not an IR")
    with pytest.raises(EdgeKPError, match="timing openvino in its own process failed"):
        time_per_runtime(
            [Artifact("x", "openvino", "fp32", broken, 0.0)], np.zeros((1, 3, 8, 8), np.float32), rounds=1, calls=1
        )
