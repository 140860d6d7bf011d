"""Metadata written beside (``<artifact>.json``) and, where the format allows, inside every artifact.

A phone app reading the artifact must know, without edgekp: the input size, layout and value range,
whether normalization is inside the graph, how many points in which scheme, and the coordinate
convention of the output. The sidecar also records where the model came from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgekp import __version__
from edgekp.artifacts import atomic_write_json

PREFIX = "edgekp."
COORDINATES = (
    "normalized (x, y) in [0, 1] of the input crop; x right, y down; "
    "(0, 0) is the top-left corner of the top-left pixel"
)
NORMALIZATION = "mean/std normalization (and, for uint8 input, the 1/255 scale) is inside the graph"


def sidecar_path(artifact: Path) -> Path:
    return artifact.with_name(artifact.name + ".json")


def build_metadata(
    *,
    target: str,
    precision: str,
    route: str,
    input_size: int,
    num_points: int,
    scheme: str | None,
    layout: str,
    crop_margin: float,
    source_run: str,
    source_hash: str,
    model_name: str,
    mean: tuple[float, ...] | None = None,
    std: tuple[float, ...] | None = None,
    options: dict[str, Any] | None = None,
    input_dtype: str = "float32",
) -> dict[str, str]:
    """Flat string -> string metadata (every format that embeds metadata wants strings)."""
    shape = f"1x3x{input_size}x{input_size}" if layout == "NCHW" else f"1x{input_size}x{input_size}x3"
    meta = {
        "format": "edgekp-export/1",
        "edgekp_version": __version__,
        "target": target,
        "precision": precision,
        "route": route,
        "model": model_name,
        "input_size": str(input_size),
        "input_layout": layout,
        "input_shape": shape,
        "input_range": "[0, 255] uint8 RGB" if input_dtype == "uint8" else "[0, 1] float32 RGB",
        "normalization": NORMALIZATION,
        "num_points": str(num_points),
        "scheme": scheme or "unknown",
        "output_shape": f"1x{num_points}x2",
        "coordinates": COORDINATES,
        # The crop the model was trained on: the face box grown by this fraction on each side. A phone
        # app (and edgekp bench) must cut the same crop, so it travels with every artifact.
        "crop_margin": f"{crop_margin:g}",
        "source_run": source_run,
        "source_hash": source_hash,
    }
    if mean is not None:
        meta["mean"] = ",".join(f"{v:g}" for v in mean)
    if std is not None:
        meta["std"] = ",".join(f"{v:g}" for v in std)
    for key, value in sorted((options or {}).items()):
        meta[f"option.{key}"] = str(value)
    return meta


def prefixed(meta: dict[str, str]) -> dict[str, str]:
    """Keys namespaced for formats shared with other tools (ONNX metadata_props, CoreML user metadata)."""
    return {PREFIX + k: v for k, v in meta.items()}


def unprefixed(meta: dict[str, str]) -> dict[str, str]:
    return {k[len(PREFIX) :]: v for k, v in meta.items() if k.startswith(PREFIX)}


def write_sidecar(artifact: Path, meta: dict[str, str], extra: dict[str, Any]) -> Path:
    """``<artifact>.json``: the embedded metadata plus what only the sidecar holds (size, timings, parity)."""
    path = sidecar_path(artifact)
    atomic_write_json(path, {"metadata": meta, **extra})
    return path
