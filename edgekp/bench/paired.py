"""Two models on the same faces, face by face: per |yaw| bin the mean NME of each, the mean paired
difference and its 95 % interval (normal approximation of the per-face differences), so an
ablation can say whether a difference is larger than the faces' own spread."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgekp.data.pose import YAW_BINS
from edgekp.errors import DataError


@dataclass(frozen=True)
class FaceErrors:
    sources: list[str]
    errors: np.ndarray  # N per-face NME (NaN: not scorable in this normalization)
    abs_yaw: np.ndarray  # N degrees


def per_face_errors(
    model: str | Path, data: str | Path, *, format: str = "auto", norm: str = "box", min_labelled: int | None = None
) -> FaceErrors:
    """Crop ``data``'s faces as ``model`` was trained to see them, predict, and score each face."""
    from edgekp.bench.predictor import load_predictor
    from edgekp.data.crops import preload_crops
    from edgekp.data.readers import read_dataset
    from edgekp.data.schemes import get_scheme
    from edgekp.metrics import nme

    predictor = load_predictor(str(model))
    scheme = get_scheme(predictor.meta.get("scheme", "ibug68"))
    if not Path(data).exists():
        raise DataError(f"dataset not found: {str(data)!r}")
    records = sorted(
        read_dataset(data, format=format, scheme=scheme, min_labelled=min_labelled).records, key=lambda r: r.source
    )
    crops = preload_crops(records, size=predictor.input_size, margin=predictor.margin)
    pred = predictor.predict(crops.images)
    errors = nme(pred, crops.points, scheme, norm, crops.vis())  # type: ignore[arg-type]
    return FaceErrors(
        [r.source for r in records], np.asarray(errors, np.float64), np.abs(np.asarray(crops.poses[:, 0], np.float64))
    )


def paired_bins(a: FaceErrors, b: FaceErrors) -> dict[str, dict[str, Any]]:
    """Per |yaw| bin and "all": n, mean of a, mean of b, mean(b - a) and the 95 % half-width of that mean."""
    if a.sources != b.sources:
        raise DataError("the two models were scored on different faces; a paired comparison needs the same ones")
    both = np.isfinite(a.errors) & np.isfinite(b.errors)
    masks = {name: (a.abs_yaw >= lo) & (a.abs_yaw < hi) for name, lo, hi in YAW_BINS}
    masks["all"] = np.ones_like(both)
    out = {}
    for name, mask in masks.items():
        keep = mask & both
        n = int(keep.sum())
        diff = b.errors[keep] - a.errors[keep]
        half = 1.96 * float(diff.std(ddof=1)) / math.sqrt(n) if n > 1 else None
        out[name] = {
            "n": n,
            "a": float(a.errors[keep].mean()) if n else None,
            "b": float(b.errors[keep].mean()) if n else None,
            "diff": float(diff.mean()) if n else None,
            "ci95": half,
        }
    return out
