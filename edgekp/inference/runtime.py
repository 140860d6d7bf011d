"""The landmark model on a fast runtime for video: onnxruntime at a fixed thread count.

A ``.pt`` model (the shipped one by default) is exported once through the ONNX export code into
``~/.cache/edgekp/onnx/<sha256 of the weights>/model.onnx`` (written under a temporary name and
renamed, so a killed export leaves nothing half-written), then run with onnxruntime. Eager PyTorch
costs several times more per crop, and a tracker runs one crop per frame. An ``.onnx`` file is run
as it is; any other exported artifact runs through its own runner, without a presence score.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgekp.logs import get_logger

log = get_logger(__name__)

CACHE_VERSION = "2"  # bump when the cached export changes (keys the cache folder with the weights' hash)


def onnx_cache_dir() -> Path:
    root = os.environ.get("EDGEKP_CACHE") or Path.home() / ".cache" / "edgekp"
    return Path(root) / "onnx"


@dataclass
class LandmarkRuntime:
    """uint8 crops in (N x S x S x 3 RGB), (normalized N x K x 2 points, presence probability N or None) out."""

    session: Any  # onnxruntime.InferenceSession, or a Runner for other artifacts
    input_size: int
    margin: float
    presence_threshold: float | None
    source: str
    has_presence: bool = False

    def __call__(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        x = crops.transpose(0, 3, 1, 2).astype(np.float32) * np.float32(1 / 255)
        if not hasattr(self.session, "run"):
            return np.asarray(self.session(x), np.float32), None
        outputs = self.session.run(None, {"images": x})
        if not self.has_presence:
            return outputs[0], None
        logits = outputs[1].reshape(-1).astype(np.float64)
        return outputs[0], 1.0 / (1.0 + np.exp(-logits))


def _session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def cached_onnx(model_path: Path) -> Path:
    """The ONNX export of a ``.pt`` model, made once per weights file (keyed by its sha256)."""
    from edgekp.export.onnx import export_onnx, simplify_onnx
    from edgekp.files.hashes import sha256_file
    from edgekp.lineage.checkpoints import load_model_file

    key = sha256_file(model_path)[:24]
    target = onnx_cache_dir() / f"{key}-v{CACHE_VERSION}" / "model.onnx"
    if target.is_file():
        return target
    log.info("exporting %s to ONNX once for fast video inference (%s)", model_path.name, target.parent)
    model = load_model_file(model_path).model.inference_form()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".model.{os.getpid()}.partial.onnx")
    try:
        export_onnx(model, int(model.input_size), partial, exporter="legacy")
        simplify_onnx(partial)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def load_runtime(source: str | Path | None, threads: int = 1) -> LandmarkRuntime:
    """The model to track with: the shipped model by default, a run dir, a .pt, or an exported file."""
    from edgekp.bench.predictor import load_predictor

    predictor = load_predictor(source, threads=threads)  # resolves the source; its meta names size and margin
    path = Path(predictor.source)
    threshold = None
    if path.suffix == ".pt":
        model = getattr(predictor.runner, "model", None)
        threshold = getattr(model, "presence_threshold", None)
        path = cached_onnx(path)
    if path.suffix != ".onnx":
        return LandmarkRuntime(predictor.runner, predictor.input_size, predictor.margin, None, predictor.source)
    session = _session(path, threads)
    names = [o.name for o in session.get_outputs()]
    return LandmarkRuntime(
        session, predictor.input_size, predictor.margin, threshold, predictor.source, has_presence="presence" in names
    )
