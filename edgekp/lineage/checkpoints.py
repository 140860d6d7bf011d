"""The one checkpoint loader: reads ``model.pt``, dispatches on the format the checkpoint declares.

A checkpoint is a mapping of tensors and plain containers (:func:`save_checkpoint` writes it
atomically, :func:`load_checkpoint` reads it with ``weights_only``: nothing executable).

Every consumer (export, bench, eval, predict, compression parents) loads a model through
:func:`load_model_file` or :func:`load_run_model`; none of them knows which formats exist. The plain
model format (``edgekp-model/1``, train and prune runs; edgekp.lineage.plain_format) is registered here;
compressors register their own formats (``edgekp.compress`` registers ``edgekp-qat/1`` when it is imported, and the CLI
imports it at start-up), so this layer never imports the layers above it.

A loader returns a :class:`LoadedModel`: the model in eval mode, its meta, and for a quantized
model the :class:`Quantization` that export needs to pick the target's QAT route.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgekp.errors import LineageError
from edgekp.files.atomic import atomic_write_bytes
from edgekp.lineage.run_dir import MODEL_FILE

PLAIN_FORMAT = "edgekp-model/1"  # edgekp.lineage.plain_format.FORMAT, named here so loading it needs no torch import


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Atomically save a checkpoint made only of tensors and plain containers (weights_only-loadable)."""
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    import pickle
    import zipfile

    import torch

    path = Path(path)
    if not path.is_file():
        raise LineageError(f"checkpoint not found: {str(path)!r}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LineageError(f"checkpoint {str(path)!r} is corrupt or not an edgekp checkpoint ({first[:160]})") from None
    if not isinstance(state, dict):
        raise LineageError(f"checkpoint {str(path)!r} is not an edgekp checkpoint (expected a mapping)")
    return state


@dataclass(frozen=True)
class Quantization:
    """What a quantization-aware-trained checkpoint says about its fake-quant scheme."""

    quantizer: str  # "nncf" | "coreml" | "pt2e": which QAT route of a target converts it
    target: str  # the export target it was trained for
    ignored_modules: tuple[str, ...] = ()
    preset: str | None = None


@dataclass(frozen=True)
class LoadedModel:
    model: Any  # torch.nn.Module in eval mode
    meta: dict[str, Any]
    format: str
    path: Path
    quantization: Quantization | None = None


FormatLoader = Callable[[Path, dict[str, Any]], LoadedModel]
_FORMATS: dict[str, FormatLoader] = {}


def register_format(name: str, loader: FormatLoader) -> None:
    """Register the loader of one checkpoint format (idempotent for the same loader)."""
    known = _FORMATS.get(name)
    if known is not None and known is not loader:
        raise ValueError(f"checkpoint format {name!r} registered twice")
    _FORMATS[name] = loader


def known_formats() -> list[str]:
    return list(_FORMATS)


def model_file(source: str | Path) -> Path:
    """``source`` itself for a file, ``<source>/model.pt`` for a run directory; LineageError if absent."""
    path = Path(source)
    if path.is_dir():
        if not (path / MODEL_FILE).is_file():
            raise LineageError(
                f"{str(path)!r} holds no {MODEL_FILE} (train, prune and qat runs write their best model there)"
            )
        return path / MODEL_FILE
    if not path.exists():
        raise LineageError(f"run directory not found: {str(path)!r}")
    return path


def load_model_file(path: str | Path) -> LoadedModel:
    """Load any edgekp checkpoint by its declared ``format``; LineageError (one line) when it cannot."""
    path = Path(path)
    state = load_checkpoint(path)  # LineageError for missing/corrupt/not-a-mapping
    fmt = str(state.get("format", ""))
    loader = _FORMATS.get(fmt)
    if loader is None:
        raise LineageError(
            f"{str(path)!r} is not an edgekp model checkpoint this installation can load (format {fmt or None!r}; "
            f"known: {', '.join(_FORMATS)}; quantized checkpoints load once edgekp.compress is imported)"
        )
    return loader(path, state)


def load_run_model(source: str | Path) -> LoadedModel:
    """The best model of a train, prune or QAT run directory (or a checkpoint file given directly)."""
    return load_model_file(model_file(source))


def _load_plain(path: Path, state: dict[str, Any]) -> LoadedModel:
    from edgekp.lineage.plain_format import load_model

    model, meta = load_model(path)
    return LoadedModel(model, meta, PLAIN_FORMAT, path)


register_format(PLAIN_FORMAT, _load_plain)
