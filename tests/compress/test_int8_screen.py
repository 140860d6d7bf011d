"""The int8 latency screen: fp32 and int8 artifacts per runtime from one model, timed round robin."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgekp.compress.int8_screen import (
    export_variant,
    ratios,
    settle_batchnorm,
    synthetic_calibration,
    time_round_robin,
)
from edgekp.models import create_model


def test_screen_exports_fp32_and_int8_and_times_them_in_rounds(tmp_path: Path) -> None:
    calib = synthetic_calibration(4, 64)
    assert calib.shape == (4, 3, 64, 64) and 0.0 <= calib.min() and calib.max() <= 1.0
    model = settle_batchnorm(create_model("kp_hvit_test", input_size=64, token_norm="batch"), calib)
    arts = export_variant("bn", model, calib, tmp_path, ("openvino",), log=lambda _: None)
    assert [(a.runtime, a.precision) for a in arts] == [("openvino", "fp32"), ("openvino", "int8")]
    assert all(a.path.is_file() for a in arts)
    timings = time_round_robin(arts, calib[:1], rounds=3, calls=3)
    assert all(len(t.rounds) == 3 and t.ms > 0 for t in timings.values())
    ratio = ratios(timings)[("bn", "openvino")]
    assert np.isfinite(ratio) and ratio > 0
