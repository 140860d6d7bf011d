"""The export verb: exit codes and one-line errors."""

from __future__ import annotations

import json

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
    code, out, err = run_cli(capsys, "export", "--from", str(tiny_run), "--target", "onnx", "--set", "onnx.exporter=legacy",
                          "--out", str(tmp_path / "o"), "--json", "-q")
    assert code == 0, err
    (result,) = json.loads(out)
    assert result["parity"]["passed"] and result["parity"]["max_abs"] <= 1e-4


def test_a_check_that_crashes_fails_the_export_in_one_line(capsys, tiny_run, tmp_path, monkeypatch) -> None:
    from edgekp.export.onnx import OnnxTarget

    def crash(self, artifact, spec):  # noqa: ANN001, ANN202 - a verifier hitting a library bug
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(OnnxTarget, "verify", crash)
    out = tmp_path / "o"
    code, _, err = run_cli(capsys, "export", "--from", str(tiny_run), "--target", "onnx", "--set", "onnx.exporter=legacy",
                           "--out", str(out), "-q")
    assert code == 2 and err.count("\n") == 1 and "checks failed: RuntimeError: boom" in err
    assert json.loads((out / "manifest.json").read_text())["status"] == "failed"  # not left "running"
    assert list((out / "failed").iterdir())  # the artifact is kept for a look
