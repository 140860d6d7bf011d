"""edgekp bench --profile: per-operator breakdowns in the real runtimes (OpenVINO counters,
onnxruntime's profiler, LiteRT one-op models), int8 vs float ops and the Q/DQ count."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from face_fixtures import scaled_tiny_model

from edgekp.bench.profile import Profile, format_profile, profile_artifact
from edgekp.export.base import ExportSpec, get_target

SIZE = 64


@pytest.fixture(scope="module")
def model() -> torch.nn.Module:
    return scaled_tiny_model(SIZE)


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return np.random.default_rng(0).random((1, 3, SIZE, SIZE), dtype=np.float32)


def _check(profile: Profile, int8: bool, qdq_may_fuse: bool = False) -> dict:
    """``qdq_may_fuse``: an int8 graph may show no standalone quantize/dequantize op, as OpenVINO's CPU
    plugin fuses them all in a static IR; a float graph never shows one."""
    s = profile.summary()
    assert s["total_ms"] > 0 and s["ops"] == len(profile.ops) > 10
    assert abs(sum(r["share"] for r in s["by_kind"]) - 1.0) < 1e-6
    assert (s["int8_ops"] > 0) == int8
    assert s["qdq_ops"] == 0 if not int8 else (s["qdq_ops"] > 0 or qdq_may_fuse)
    assert s["int8_ops"] + s["float_ops"] + s["qdq_ops"] == s["ops"]
    text = format_profile(profile)
    assert text.splitlines()[0].startswith(profile.runtime) and "op kind" in text
    return s


def test_openvino_counters_fp32_and_int8(model, image, tmp_path: Path) -> None:
    target = get_target("openvino")
    calib = np.random.default_rng(1).random((4, 3, SIZE, SIZE), dtype=np.float32)
    fp32 = target.convert(model, ExportSpec(SIZE, 68, "fp32", "torch"), None, tmp_path / "fp32")
    int8 = target.convert(model, ExportSpec(SIZE, 68, "int8", "torch"), calib, tmp_path / "int8")
    dynamic = target.convert(
        model, ExportSpec(SIZE, 68, "int8", "torch", options={"batch": None}), calib, tmp_path / "dyn"
    )
    s32 = _check(profile_artifact(fp32, image), int8=False)
    # The static IR (the default) lets the plugin fuse the FakeQuantize ops into their neighbours;
    # with a dynamic batch some stay standalone.
    s8 = _check(profile_artifact(int8, image), int8=True, qdq_may_fuse=True)
    s8_dynamic = _check(profile_artifact(dynamic, image), int8=True, qdq_may_fuse=True)
    assert "FakeQuantize" not in {r["kind"] for r in s32["by_kind"]}
    assert s8["qdq_ops"] <= s8_dynamic["qdq_ops"]


def test_onnxruntime_profiler_fp32(model, image, tmp_path: Path) -> None:
    path = get_target("onnx").convert(
        model, ExportSpec(SIZE, 68, "fp32", "torch", options={"exporter": "legacy"}), None, tmp_path
    )
    s = _check(profile_artifact(path, image), int8=False)
    assert {"Conv", "MatMul"} & {r["kind"] for r in s["by_kind"]}


@pytest.mark.slow  # litert-torch conversion: about a minute on a busy 2-core host
def test_litert_one_op_models_fp32(model, image, tmp_path: Path) -> None:
    path = get_target("tflite").convert(model, ExportSpec(SIZE, 68, "fp32", "litert"), None, tmp_path)
    profile = profile_artifact(path, image)
    s = _check(profile, int8=False)
    assert {"CONV_2D", "FULLY_CONNECTED"} <= {r["kind"] for r in s["by_kind"]}


def test_unknown_artifact_is_a_user_error(tmp_path: Path, image) -> None:
    from edgekp.errors import ConfigError

    with pytest.raises(ConfigError, match="--profile covers"):
        profile_artifact(tmp_path / "model.mlpackage", image)


def test_cli_bench_profile_of_a_run(tmp_path: Path, capsys) -> None:
    """edgekp bench --profile on a run with an OpenVINO export: one breakdown, written to bench/profile.json;
    a run with nothing profilable is a one-line user error."""
    import json

    from face_fixtures import run_cli

    from edgekp.lineage.plain_format import save_model
    from edgekp.lineage.run_dir import RunDir

    run = RunDir.create(
        tmp_path / "run", "train", recipe={"model": {"name": "kp_hvit_test", "input_size": SIZE, "num_points": 68}}
    )
    save_model(run.path / "model.pt", scaled_tiny_model(SIZE), {"scheme": "ibug68", "crop_margin": 0.25})
    run.finish("ok")
    code, _, err = run_cli(capsys, "bench", "--from", str(run.path), "--profile")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "no finished TFLite, OpenVINO or ONNX artifact" in err
    code, _, err = run_cli(capsys, "export", "--from", str(run.path), "--target", "openvino", "--precision", "fp32")
    assert code == 0, err
    code, out, err = run_cli(capsys, "bench", "--from", str(run.path), "--profile", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert len(data) == 1 and data[0]["runtime"] == "openvino" and data[0]["ops"] > 10
    assert json.loads((run.path / "bench" / "profile.json").read_text()) == data
