"""Quiet by default: library noise silenced at its sources, native informational lines filtered from fd 2,
files that libraries would write in the home folder moved into ~/.cache/edgekp."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

NATIVE = """
import os, sys
from edgekp.logs import filter_native_stderr
f = filter_native_stderr(int(sys.argv[1]))
os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n")
os.write(2, b"I0000 00:00:1796679103.032815    4741 port.cc:153] oneDNN custom operations are on.\\n")
os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\n")
os.write(2, b"E0000 00:00:1796679103.032815    4741 x.cc:1] a native error stays\\n")
os.write(2, b"native text stays\\n")
print("python text stays", file=sys.stderr)
if f is not None:
    f.close()
print("after close", file=sys.stderr)
"""


def _run(code: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        timeout=60,
    )


def test_native_info_lines_are_filtered_and_the_rest_passes():
    err = _run(NATIVE, "0").stderr
    assert "InitializeLog" not in err and "oneDNN" not in err and "XNNPACK" not in err
    for kept in ("a native error stays", "native text stays", "python text stays", "after close"):
        assert kept in err


def test_verbose_keeps_native_lines():
    err = _run(NATIVE, "1").stderr
    assert "oneDNN" in err and "XNNPACK" in err


def test_quiet_third_party_moves_library_files_into_the_edgekp_cache(tmp_path):
    code = (
        "import os; from edgekp.logs import quiet_third_party; quiet_third_party(0); "
        "print(os.environ['KERAS_HOME']); print(os.environ['MPLCONFIGDIR']); "
        "print(os.environ['ORT_DISABLE_TELEMETRY']); "
        "import logging, warnings; print(logging.getLogger('nncf').getEffectiveLevel() > logging.INFO or "
        "bool(logging.getLogger('nncf').filters)); warnings.warn('library noise', FutureWarning)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_HOME", "MPLCONFIGDIR", "XDG_CACHE_HOME")}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        env={**env, "PYTHONPATH": str(REPO), "HOME": str(tmp_path)},
        timeout=60,
    )
    keras, mpl, ort, nncf_quiet = proc.stdout.split()
    assert keras == str(tmp_path / ".cache" / "edgekp" / "keras")
    assert mpl == str(tmp_path / ".cache" / "edgekp" / "matplotlib")
    assert ort == "1" and nncf_quiet == "True"
    assert "library noise" not in proc.stderr  # a library's FutureWarning is hidden by default


def test_nncf_info_lines_are_dropped_except_the_slow_compile_notice():
    code = (
        "from edgekp.logs import quiet_third_party; quiet_third_party(0)\n"
        "import logging, sys\nlog = logging.getLogger('nncf')\nlog.addHandler(logging.StreamHandler(sys.stdout))\n"
        "log.info('INFO:nncf noise'); log.info('Compiling and loading torch extension: quantized_functions_cpu...')\n"
        "log.error('nncf error')\n"
    )
    out = _run(code).stdout
    assert "noise" not in out
    assert "Compiling and loading torch extension" in out and "nncf error" in out


def test_cli_help_passes_through_the_filter():
    proc = subprocess.run(
        [sys.executable, "-m", "edgekp", "export", "--no-such-flag"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("edgekp: error: ") and proc.stderr.count("\n") == 1


def test_root_logger_and_library_progress_bars_are_quiet_but_edgekp_warnings_stay():
    code = (
        "from edgekp.logs import quiet_third_party; quiet_third_party(0)\n"
        "import logging; logging.basicConfig(); logging.warning('root noise')\n"
        "from tqdm import tqdm; list(tqdm(range(3), desc='lib bar'))\n"
        "from edgekp.logs import configure_logging, get_logger; configure_logging(0)\n"
        "get_logger('x').warning('edgekp warning kept')\n"
    )
    err = _run(code).stderr
    assert "root noise" not in err and "lib bar" not in err
    assert "edgekp warning kept" in err


def test_keras_savedmodel_printout_goes_to_the_quiet_logger():
    code = (
        "from edgekp.logs import quiet_third_party; quiet_third_party(0)\n"
        "import tf_keras\nfrom tf_keras.src.utils import io_utils\nio_utils.print_msg('Saved artifact noise')\n"
    )
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr[-500:]
    assert "Saved artifact noise" not in proc.stdout + proc.stderr
