"""The export verb: exit codes and one-line errors."""

from __future__ import annotations

import json

import pytest
from face_fixtures import run_cli


def test_nonexistent_from_is_exit_2(capsys, tmp_path) -> None:
    code, _, err = run_cli(capsys, "export", "--from", str(tmp_path / "missing"), "--target", "onnx")
    assert code == 2
    assert err.startswith("edgekp: error:") and err.count("\n") == 1
    assert "run directory not found" in err


def test_wrong_target_gets_did_you_mean(capsys, tiny_run) -> None:
    code, _, err = run_cli(capsys, "export", "--from", str(tiny_run), "--target", "tflit")
    assert code == 2 and "did you mean 'tflite'?" in err


def test_unsupported_pair_is_exit_2(capsys, tiny_run) -> None:
    code, _, err = run_cli(capsys, "export", "--from", str(tiny_run), "--target", "onnx", "--precision", "fp16")
    assert code == 2 and "supported here: fp32" in err


def test_export_onnx_json(capsys, tiny_run, tmp_path) -> None:
    code, out, err = run_cli(
        capsys,
        "export",
        "--from",
        str(tiny_run),
        "--target",
        "onnx",
        "--set",
        "onnx.exporter=legacy",
        "--out",
        str(tmp_path / "o"),
        "--json",
        "-q",
    )
    assert code == 0, err
    (result,) = json.loads(out)
    assert result["parity"]["passed"] and result["parity"]["max_abs"] <= 1e-4


def _crashing_verify(monkeypatch) -> None:
    from edgekp.export.onnx import OnnxTarget

    def crash(self, artifact, spec):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(OnnxTarget, "verify", crash)


def test_a_check_that_crashes_is_a_bug_exit_1_recorded_failed(capsys, tiny_run, tmp_path, monkeypatch) -> None:
    _crashing_verify(monkeypatch)
    out = tmp_path / "o"
    code, _, err = run_cli(
        capsys,
        "export",
        "--from",
        str(tiny_run),
        "--target",
        "onnx",
        "--set",
        "onnx.exporter=legacy",
        "--out",
        str(out),
        "-q",
    )
    # A bug is not a user error: exit 1 (not 2), one line pointing at -v, and the export is still recorded.
    assert code == 1 and err.count("\n") == 1 and "internal error" in err and "RuntimeError: boom" in err
    manifest = json.loads((out / "manifest.json").read_text())
    assert (
        manifest["status"] == "failed" and "checks crashed: RuntimeError: boom" in manifest["error"]
    )  # not left "running"
    assert list((out / "failed").iterdir())  # the artifact is kept for a look


def test_a_crash_keeps_its_traceback_under_verbose(capsys, tiny_run, tmp_path, monkeypatch) -> None:
    _crashing_verify(monkeypatch)
    # -v prints the original traceback and keeps the exit code: a bug is exit 1 with or without it (issue 27).
    code, _, err = run_cli(
        capsys,
        "export",
        "--from",
        str(tiny_run),
        "--target",
        "onnx",
        "--set",
        "onnx.exporter=legacy",
        "--out",
        str(tmp_path / "o"),
        "-v",
    )
    assert code == 1
    assert "Traceback" in err and "RuntimeError: boom" in err


def test_a_converter_failure_is_a_user_error_with_its_cause_chained(
    tiny_run, tmp_path, monkeypatch, fast_recipe
) -> None:
    from edgekp.errors import ExportValidationError
    from edgekp.export.onnx import OnnxTarget
    from edgekp.export.pipeline import ExportRequest, export_one

    def refuse(self, model, spec, calibration, out_dir):
        raise ValueError("unsupported op Foo")

    monkeypatch.setattr(OnnxTarget, "convert", refuse)
    with pytest.raises(ExportValidationError, match="conversion failed: ValueError: unsupported op Foo") as err:
        export_one(ExportRequest("onnx", "fp32"), from_run=tiny_run, recipe=fast_recipe, out=tmp_path / "o")
    assert isinstance(err.value.__cause__, ValueError)  # -v shows the converter's own traceback
