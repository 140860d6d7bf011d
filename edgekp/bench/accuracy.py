"""Accuracy of a predictor on a landmark dataset: crop each face from its landmark box (as in
training), predict, and score NME / FR / AUC overall and by pose."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgekp.bench.predictor import Predictor
from edgekp.config.data import BalanceSpec
from edgekp.errors import DataError


def evaluate_dataset(
    predictor: Predictor, data: str | Path, *, format: str = "auto", skip_bad: bool = False,
    yaw_threshold: float = 30.0, norm: str = "inter_ocular", only_sources: set[str] | None = None,
) -> dict[str, Any]:
    """``only_sources`` restricts scoring to those face ids (e.g. a model's held-out faces)."""
    from edgekp.data.balance import is_large_pose
    from edgekp.data.crops import preload_crops
    from edgekp.data.readers import read_dataset
    from edgekp.data.schemes import get_scheme
    from edgekp.metrics import summarize

    path = Path(data)
    if not path.exists():
        raise DataError(f"dataset not found: {str(path)!r}")
    scheme = get_scheme(predictor.meta.get("scheme", "ibug68"))
    dataset = read_dataset(path, format=format, scheme=scheme, skip_bad=skip_bad)
    records = list(dataset.records)
    if only_sources is not None:
        records = [r for r in records if r.source in only_sources]
    if not records:
        what = "none of the held-out faces" if only_sources is not None else "no usable faces"
        raise DataError(f"dataset {str(path)!r} holds {what}")
    crops = preload_crops(records, size=predictor.input_size, margin=predictor.margin)
    pred = predictor.predict(crops.images)
    if pred.shape[1:] != crops.points.shape[1:]:
        raise DataError(
            f"the model predicts {pred.shape[1]} points but {str(path)!r} has {crops.points.shape[1]} per face"
        )
    is_large = is_large_pose(crops.poses, BalanceSpec(yaw_threshold=yaw_threshold))
    result = summarize(pred, crops.points, scheme, norm=norm, is_large=is_large)
    result.update({
        "data": str(path), "model": predictor.source, "scheme": scheme.name,
        "large_pose_rule": f"|yaw| > {yaw_threshold:g} deg", "skipped": [list(s) for s in dataset.skipped],
    })
    return result
