"""Logging and progress bars: quiet under -q and when stderr is not a terminal."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

LOGGER_NAME = "edgekp"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at emit time (pytest and tools swap it), never a stale one."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure_logging(verbosity: int) -> None:
    """verbosity: -1 quiet (warnings only), 0 normal, 1+ debug."""
    level = logging.WARNING if verbosity < 0 else logging.DEBUG if verbosity > 0 else logging.INFO
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(level)
    if not any(getattr(h, "_edgekp", False) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
        handler._edgekp = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    # Our handler prints; propagating too would print twice once a library configures the root logger.
    logger.propagate = False


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(f"{LOGGER_NAME}.{name.removeprefix('edgekp.')}")


def progress_enabled() -> bool:
    return sys.stderr.isatty() and logging.getLogger(LOGGER_NAME).getEffectiveLevel() <= logging.INFO


def progress(items: Iterable[T], desc: str, total: int | None = None) -> Iterator[T]:
    """A tqdm bar on interactive runs; the bare iterable otherwise."""
    if not progress_enabled():
        yield from items
        return
    from tqdm import tqdm

    # disable=False explicitly: TQDM_DISABLE (set for the libraries' bars) must not hide edgekp's own.
    yield from tqdm(items, desc=desc, total=total, leave=False, dynamic_ncols=True, disable=False)


# --- third-party noise -------------------------------------------------------------------------
# Libraries that log at import or during conversion. Their loggers are set to ERROR unless -v; several
# (nncf, torch) set their own level when imported, so the levels are applied again right after each
# of these packages is imported (see _ReapplyAfterImport).
NOISY_LOGGERS = (
    "nncf",
    "openvino",
    "coremltools",
    "torch",
    "torchao",
    "torch._dynamo",
    "torch._inductor",
    "torch.export",
    "torch.utils._pytree",
    "torch.fx",
    "onnxscript",
    "onnx_ir",
    "onnx2tf",
    "tensorflow",
    "absl",
    "jax",
    "tf_keras",
    "keras",
    "litert_torch",
    "ai_edge_quantizer",
    "ai_edge_litert",
    "matplotlib",
    "PIL",
    "h5py",
    "numexpr",
)

# Environment read by the libraries when they load (or when their native code first logs).
# setdefault: a value the user exported wins.
_QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "2",  # TensorFlow/LiteRT C++: oneDNN notices, flatbuffer op counts, XNNPACK "INFO:"
    "GLOG_minloglevel": "2",
    "LITERT_TORCH_SHOW_PROGRESS": "n",  # litert-torch's "(00:03) [START] ..." conversion progress
    "TORCH_CPP_LOG_LEVEL": "ERROR",
    "PYTHONWARNINGS": "ignore",  # the same filter for worker subprocesses (spawned exports, timing)
    "TQDM_DISABLE": "1",  # coremltools' conversion bars; edgekp's own bars pass disable explicitly
}
# Files libraries would write outside the work tree; pointed into ~/.cache/edgekp where a library lets us.
_FILE_ENV = {
    "KERAS_HOME": "keras",  # keras writes keras.json into ~/.keras on import
    "MPLCONFIGDIR": "matplotlib",  # matplotlib's font cache (~/.cache/matplotlib) and ~/.config/matplotlib
    "TORCH_EXTENSIONS_DIR": "torch_extensions",  # NNCF compiles its PyTorch extension here on first QAT use
}
# NNCF gives that first compile 60 s, which a busy 2-core host overran (ExtensionLoaderTimeoutException in the
# quickstart's QAT stage); it takes longer, it does not hang.
_LIBRARY_ENV = {"NNCF_EXTENSION_LOAD_TIMEOUT": "900"}
# Telemetry opt-outs. NNCF reads NNCF_CI only to switch its telemetry off (nncf/telemetry/wrapper.py).
# onnxruntime skips its ~/.cache/Microsoft/DeveloperTools/.onnxruntime/deviceid file with ORT_DISABLE_TELEMETRY.
_TELEMETRY_ENV = {"NNCF_CI": "1", "ORT_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}


def cache_dir() -> Path:
    """~/.cache/edgekp (XDG_CACHE_HOME respected): the one place outside a run folder edgekp writes to."""
    import os

    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "edgekp"


def _third_party_level(verbosity: int) -> int:
    return logging.DEBUG if verbosity > 1 else logging.INFO if verbosity == 1 else logging.ERROR


# Third-party INFO lines kept by default because they explain a wait of minutes.
KEEP_MESSAGES = {"nncf": ("Compiling and loading torch extension",)}


class _KeepOnly(logging.Filter):
    def __init__(self, level: int, prefixes: tuple[str, ...]) -> None:
        super().__init__()
        self.level, self.prefixes = level, prefixes

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level or str(record.msg).startswith(self.prefixes)


def _apply_logger_levels(level: int) -> None:
    for name in NOISY_LOGGERS:
        logger = logging.getLogger(name)
        keep = KEEP_MESSAGES.get(name)
        if keep and level > logging.INFO:
            logger.setLevel(logging.INFO)
            logger.filters = [f for f in logger.filters if not isinstance(f, _KeepOnly)] + [_KeepOnly(level, keep)]
        else:
            logger.setLevel(level)


def _after_import(name: str) -> None:
    """Library switches that exist only as functions: Keras prints SavedModel signatures ("Saved artifact at
    ...", one line per captured tensor: 280 lines on the TensorFlow TFLite route) unless its interactive
    logging is off, which sends them to absl's logger instead (quiet by default)."""
    try:
        if name == "tf_keras":
            from tf_keras.src.utils import io_utils

            io_utils.disable_interactive_logging()
        elif name == "keras":
            import keras

            keras.config.disable_interactive_logging()
    except (ImportError, AttributeError):  # another Keras layout: its prints stay, nothing breaks
        pass


class _ReapplyAfterImport:
    """A meta-path finder that sets the noisy loggers' levels again once a watched package has been
    imported, because some (nncf: INFO and a stdout handler; torch._logging) set their own on import."""

    watched = frozenset(
        {
            "nncf",
            "torch",
            "torchao",
            "coremltools",
            "openvino",
            "tensorflow",
            "litert_torch",
            "onnx2tf",
            "keras",
            "tf_keras",
        }
    )

    def __init__(self, level: int) -> None:
        self.level = level

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.watched:
            return None
        import importlib.util
        import sys

        sys.meta_path.remove(self)  # find the real spec without recursing into ourselves
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader, level = spec.loader, self.level

        class _Loader(type(loader)):  # type: ignore[misc]
            def exec_module(self_, module) -> None:
                loader.exec_module(module)
                _apply_logger_levels(level)
                _after_import(fullname)

        try:
            wrapped = object.__new__(_Loader)
            wrapped.__dict__.update(loader.__dict__)
            spec.loader = wrapped
        except TypeError:  # a loader we cannot copy: the levels set before import stay the best effort
            pass
        return spec


def quiet_third_party(verbosity: int) -> None:
    """Silence libraries at their sources, before they load: environment variables, logger levels,
    warnings filters. verbosity >= 1 (-v) leaves them as they are: third-party logs are shown."""
    import os
    import sys
    import warnings

    for name, value in {**_TELEMETRY_ENV, **_LIBRARY_ENV}.items():
        os.environ.setdefault(name, value)
    for name, sub in _FILE_ENV.items():
        os.environ.setdefault(name, str(cache_dir() / sub))
    if verbosity >= 1:
        return
    for name, value in _QUIET_ENV.items():
        os.environ.setdefault(name, value)
    level = _third_party_level(verbosity)
    _apply_logger_levels(level)
    # Libraries that log through the root logger ("WARNING:root:Your model is converted in training mode"):
    # edgekp's logger does not propagate to it, so this quiets only them.
    logging.getLogger().setLevel(level)
    if not any(isinstance(f, _ReapplyAfterImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _ReapplyAfterImport(level))
    # Deprecation, tracer and fork warnings from libraries are for their developers (a library's warning
    # about how edgekp calls it is attributed to edgekp's module, so no module exception either). edgekp's own
    # warnings go through its logger, which this does not touch.
    warnings.filterwarnings("ignore")


# --- native stderr ---------------------------------------------------------------------------------
# Three lines come from C++ with no switch that works here: absl's "All log messages before
# absl::InitializeLog()", TensorFlow's glog-style "I0000 ... port.cc:153] oneDNN custom operations are on"
# and LiteRT's "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.". Only informational lines are
# dropped; E/F lines and anything else pass.
_NATIVE_NOISE = (
    rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|I\d{4} [\d:.]+ +\d+ \S+:\d+\] |INFO: Created TensorFlow Lite XNNPACK delegate)"
)
# The filter runs in a process of its own, so whatever the parent writes before it dies (an abort message)
# still reaches the terminal: the child forwards until the pipe closes.
_FILTER_CODE = (
    "import re,sys\np=re.compile(%r)\nfor line in sys.stdin.buffer:\n"
    " if not p.match(line):\n  sys.stdout.buffer.write(line); sys.stdout.buffer.flush()\n"
)


class NativeStderrFilter:
    """fd 2 through a pipe to a small filter process; Python's own sys.stderr writes straight to the terminal."""

    def __init__(self) -> None:
        import os
        import subprocess

        sys.stderr.flush()
        self._saved = os.dup(2)
        read, write = os.pipe()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-S", "-c", _FILTER_CODE % _NATIVE_NOISE],
                stdin=read,
                stdout=self._saved,
                stderr=self._saved,
                close_fds=True,
            )
        finally:
            os.close(read)
        os.dup2(write, 2)
        os.close(write)
        self._stream = open(  # noqa: SIM115 - sys.stderr until close(), which closes it
            os.dup(self._saved),
            "w",
            buffering=1,
            encoding=sys.stderr.encoding or "utf-8",
            errors="backslashreplace",
        )
        sys.stderr = self._stream

    def close(self) -> None:
        import contextlib
        import os
        import subprocess

        self._stream.flush()
        sys.stderr = sys.__stderr__
        os.dup2(self._saved, 2)  # closes our end of the pipe: the filter drains it and exits
        os.close(self._saved)
        self._stream.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=5)  # a child process of ours may still hold the pipe: do not wait on it


def filter_native_stderr(verbosity: int) -> NativeStderrFilter | None:
    """Start the native-stderr filter for a CLI run (not under -v, not when stderr was replaced, e.g. by
    pytest, and not with EDGEKP_NATIVE_STDERR=1); None when not started."""
    import os

    if verbosity >= 1 or os.environ.get("EDGEKP_NATIVE_STDERR") == "1" or os.name != "posix":
        return None
    if sys.stderr is not sys.__stderr__ or sys.stderr is None:
        return None
    try:
        os.fstat(2)
        return NativeStderrFilter()
    except OSError:
        return None
