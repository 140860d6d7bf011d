"""One way to run any model source: a training run, a checkpoint, or (via export targets) an
exported artifact. Images in (N x 3 x S x S float32 in [0, 1]), normalized N x K x 2 out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from edgekp.errors import LineageError


class Runner(Protocol):
    def __call__(self, images: np.ndarray) -> np.ndarray: ...


class TorchRunner:
    """PyTorch fp32 (the reference every export is compared with)."""

    def __init__(self, model: torch.nn.Module, threads: int | None = None) -> None:
        self.model = model.eval()
        self.threads = threads
        self.name = "torch"

    @torch.no_grad()
    def __call__(self, images: np.ndarray) -> np.ndarray:
        if self.threads:
            torch.set_num_threads(self.threads)
        return self.model(torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))).numpy()


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
        return float(self.meta.get("crop_margin", 0.25))

    def predict(self, images_uint8: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """N x S x S x 3 uint8 crops -> N x K x 2 normalized points."""
        out = []
        for start in range(0, len(images_uint8), batch_size):
            batch = images_uint8[start : start + batch_size].transpose(0, 3, 1, 2).astype(np.float32) / 255.0
            out.append(np.asarray(self.runner(batch), dtype=np.float32))
        return np.concatenate(out) if out else np.zeros((0, int(self.meta.get("num_points", 68)), 2), np.float32)


def load_predictor(source: str | Path | None, threads: int | None = None) -> Predictor:
    """A run dir (its model.pt), a ``.pt`` checkpoint, or None for the shipped model."""
    from edgekp.models.io import load_model

    if source is None:
        from edgekp.shipped import shipped_model_path

        path = shipped_model_path()
    else:
        path = Path(source)
        if not path.exists():
            raise LineageError(f"model not found: {str(path)!r} (give a run directory, a .pt checkpoint or an exported file)")
        if path.is_dir():
            path = path / "model.pt"
            if not path.is_file():
                raise LineageError(f"{str(source)!r} holds no model.pt; is it a train, prune or qat run directory?")
        elif path.suffix != ".pt":
            return _load_exported(path, threads)
    model, meta = load_model(path)
    return Predictor(TorchRunner(model, threads), meta, str(path))


def _load_exported(path: Path, threads: int | None) -> Predictor:
    try:
        from edgekp.export.registry import runner_for_artifact
    except ImportError:
        raise LineageError(f"cannot run {str(path)!r}: exported artifacts need the export stack (issue 5)") from None
    runner, meta = runner_for_artifact(path, threads=threads)
    return Predictor(runner, meta, str(path))
