"""What a user hits first: `--json | head` ends quietly, `eval --skip-bad` skips a truncated JPEG."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from edgekp.cli import main

AFW = ("1051618982_1", "1130084326_1", "1139324862_1")


def _faces(shared_data: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "faces"
    folder.mkdir()
    for name in AFW:
        for ext in (".jpg", ".pts"):
            shutil.copy(shared_data / "300w" / "afw" / f"{name}{ext}", folder)
    return folder


def test_json_into_a_closed_pipe_exits_quietly(shared_data, tmp_path) -> None:
    folder = _faces(shared_data, tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "edgekp", "data", "inspect", str(folder), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # the reader is gone before edgekp writes a byte, as with `| head -0`
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 0
    assert "Traceback" not in err and "BrokenPipe" not in err and "error" not in err.lower(), err


def test_eval_skip_bad_logs_and_skips_a_truncated_jpeg(shared_data, tiny_model_run, tmp_path, capsys) -> None:
    folder = _faces(shared_data, tmp_path)
    cut = folder / f"{AFW[1]}.jpg"
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])

    assert main(["eval", "--data", str(folder), "--model", str(tiny_model_run)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("edgekp: error:") and "truncated" in err and err.count("\n") == 1

    assert main(["eval", "--data", str(folder), "--model", str(tiny_model_run), "--skip-bad", "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["n"] + result.get("n_unscored", 0) == len(AFW) - 1
    assert [Path(f).name for f, _ in result["skipped"]] == [cut.name]
    assert "skipping" in captured.err and cut.name in captured.err  # logged, not silent

    assert main(["eval", "--data", str(folder), "--model", str(tiny_model_run), "--skip-bad"]) == 0
    assert f"skipped 1 unreadable file(s) (--skip-bad): {cut}" in capsys.readouterr().out
