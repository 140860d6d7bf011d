"""One way to run any model source: a training run, a checkpoint (any format, via edgekp.checkpoints),
or (via export targets and edgekp.export.runners) an exported artifact. Images in (N x 3 x S x S float32 in [0, 1]), normalized N x K x 2 out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgekp.artifacts import MODEL_FILE
from edgekp.checkpoints import load_model_file
from edgekp.errors import LineageError
from edgekp.export.runners import Runner, TorchRunner


@dataclass
class Predictor:
    runner: Runner
    meta: dict[str, Any]
    source: str

    @property
    def input_size(self) -> int:
        return int(self.meta["input_size"])

    @property
    def margin(self) -> float:
        """The crop margin the model was trained with (crops must match training's); never guessed."""
        if "crop_margin" not in self.meta:
            raise LineageError(f"{self.source!r} records no crop margin (the crop its model was trained on); "
                               "re-export it with 'edgekp export' or give its run directory")
        return float(self.meta["crop_margin"])

    def predict(self, images_uint8: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """N x S x S x 3 uint8 crops -> N x K x 2 normalized points."""
        out = []
        for start in range(0, len(images_uint8), batch_size):
            batch = images_uint8[start : start + batch_size].transpose(0, 3, 1, 2).astype(np.float32) / 255.0
            out.append(np.asarray(self.runner(batch), dtype=np.float32))
        return np.concatenate(out) if out else np.zeros((0, int(self.meta.get("num_points", 68)), 2), np.float32)


def load_predictor(source: str | Path | None, threads: int | None = None) -> Predictor:
    """A run dir (its model.pt), a ``.pt`` checkpoint, an exported file, or a shipped model (None,
    ``shipped``, ``shipped:t|s|b``)."""
    from edgekp.shipped import shipped_model_path, shipped_size

    size = shipped_size(source)
    if size is not None:
        path = shipped_model_path(size)
    else:
        path = Path(source)
        if not path.exists():
            raise LineageError(f"model not found: {str(path)!r} (give a run directory, a .pt checkpoint or an exported file)")
        if path.suffix == ".mlpackage":  # a folder, but an exported artifact
            return _load_exported(path, threads)
        if path.is_dir():
            path = path / MODEL_FILE
            if not path.is_file():
                raise LineageError(f"{str(source)!r} holds no model.pt; is it a train, prune or qat run directory?")
        elif path.suffix != ".pt":
            return _load_exported(path, threads)
    model, meta = load_torch_model(path)
    return Predictor(TorchRunner(model, threads), meta, str(path))


def load_torch_model(path: Path) -> tuple[Any, dict[str, Any]]:
    """Any checkpoint (plain, pruned, QAT fake-quantized), through the one loader; (model in eval, meta)."""
    loaded = load_model_file(path)
    return loaded.model, loaded.meta


# artifact suffix -> export target, for artifacts whose sidecar does not name the target
_SUFFIXES = {".onnx": "onnx", ".tflite": "tflite", ".mlpackage": "coreml", ".xml": "openvino"}


def _source_margin(source_run: str | None) -> float | None:
    """Older sidecars lack the crop margin: read it from the source run's model, when that still exists."""
    if not source_run or not (Path(source_run) / MODEL_FILE).is_file():
        return None
    meta = load_model_file(Path(source_run) / MODEL_FILE).meta
    return float(meta["crop_margin"]) if "crop_margin" in meta else None


def runner_for_artifact(path: str | Path, threads: int | None = None) -> tuple[Any, dict[str, Any]]:
    """(Runner, meta) for an exported artifact, through its target's real runtime.

    The meta comes from the sidecar ``<artifact>.json`` written by the export pipeline (input size,
    number of points, scheme, crop margin); sidecars older than the crop margin there fall back to the
    source run's model, when it still exists.
    """
    import json

    from edgekp.export.base import get_target
    from edgekp.export.metadata import sidecar_path

    path = Path(path)
    sidecar = sidecar_path(path)
    meta: dict[str, Any] = {}
    if sidecar.is_file():
        try:
            meta = dict(json.loads(sidecar.read_text(encoding="utf-8")).get("metadata") or {})
        except (ValueError, OSError):
            meta = {}
    target_name = meta.get("target") or _SUFFIXES.get(path.suffix)
    if target_name is None:
        raise LineageError(f"cannot tell which runtime runs {str(path)!r} (no sidecar {sidecar.name}, unknown suffix)")
    if "input_size" not in meta:
        raise LineageError(f"{str(path)!r} has no sidecar {sidecar.name} giving its input size; re-export it with 'edgekp export'")
    runner = get_target(str(target_name)).load_runner(path, threads or 1)
    out = {"input_size": int(meta["input_size"]), "num_points": int(meta.get("num_points", 68)),
           "scheme": meta.get("scheme") if meta.get("scheme") not in (None, "unknown") else "ibug68",
           "target": target_name, "precision": meta.get("precision")}
    margin = float(meta["crop_margin"]) if "crop_margin" in meta else _source_margin(meta.get("source_run"))
    if margin is not None:  # else Predictor.margin refuses: no silent default
        out["crop_margin"] = margin
    return runner, out


def _load_exported(path: Path, threads: int | None) -> Predictor:
    runner, meta = runner_for_artifact(path, threads=threads)
    return Predictor(runner, meta, str(path))
