"""Accuracy of a predictor on a landmark dataset: crop each face from its labelled landmarks' box
(as in training), predict, and score NME / FR / AUC overall, by pose and by |yaw| bin.

``score_crops`` is the one accuracy path: ``edgekp eval`` (``evaluate_dataset``) and ``edgekp bench``
(``edgekp.bench.bench_run.score``) both call it, and it computes every figure with
``edgekp.metrics.summarize``, so the two commands give identical numbers on the same faces.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgekp.bench.predictor import Predictor
from edgekp.config.data import BalanceSpec
from edgekp.errors import DataError

CORNERS_68 = (36, 39, 42, 45, 48, 54)  # outer/inner eye corners, mouth corners (iBUG 68, 0-based)


def _num(value: Any) -> float | None:
    return None if value is None or value != value else float(value)


def _bins(by_yaw: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: {"n": b["n"], "nme": _num(b["nme"]), "norm": b["norm"]} for name, b in by_yaw.items()}


def score_crops(
    pred: np.ndarray,
    crops: Any,
    scheme: Any,
    is_large: np.ndarray,
    *,
    norm: str = "inter_ocular",
    points: tuple[int, ...] | None = None,
) -> dict[str, Any]:
    """Every accuracy figure of ``pred`` (N x K x 2, crop-normalized) against a CropSet's labelled points.

    ``nme``/``fr``/``auc``/pose split use ``norm`` (faces it cannot normalize are counted in
    ``n_unscored``); ``nme_box``/``fr_box``/``auc_box`` divide by the labelled points' box and score
    every face; ``by_yaw`` holds the |yaw| bins under both normalizations. ``points`` restricts
    scoring to a subset (a peer predicting other points), normalizers still from the whole face.
    """
    from edgekp.metrics import nme, per_landmark_error, summarize

    gt, vis = crops.points, crops.vis()
    common: dict[str, Any] = {"is_large": is_large, "yaw": crops.poses[:, 0], "visibility": vis, "points": points}
    main = summarize(pred, gt, scheme, norm=norm, **common)
    box = main if norm == "box" else summarize(pred, gt, scheme, norm="box", **common)
    cols = list(points) if points is not None else list(range(scheme.num_points))
    corners = [c for c in CORNERS_68 if c in cols] if scheme.num_points == 68 else []
    per_point = per_landmark_error(pred, gt, scheme, norm, vis, points)  # type: ignore[arg-type]
    # The corners box-normalized too: on profiles (MERL-RAV) peers are compared there, not inter-ocular.
    per_point_box = per_point if norm == "box" else per_landmark_error(pred, gt, scheme, "box", vis, points)  # type: ignore[arg-type]
    from edgekp.data.pose import pose_source

    return {
        "norm": norm,
        "threshold": main["threshold"],
        "n": main["n"],
        "n_unscored": main["n_unscored"],
        "nme": _num(main["nme"]),
        "fr": _num(main["fr"]),
        "auc": _num(main["auc"]),
        "n_large": main["n_large"],
        "n_small": main["n_small"],
        "nme_large": _num(main["nme_large"]),
        "nme_small": _num(main["nme_small"]),
        "nme_corners": _num(np.nanmean(per_point[corners])) if corners else None,
        "nme_corners_box": _num(np.nanmean(per_point_box[corners])) if corners else None,
        "nme_box": _num(box["nme"]),
        "fr_box": _num(box["fr"]),
        "auc_box": _num(box["auc"]),
        "by_yaw": {norm: _bins(main["by_yaw"]), **({"box": _bins(box["by_yaw"])} if norm != "box" else {})},
        "pose_source": pose_source(crops.labelled_angles()[:, 0]),
        "per_landmark": [round(float(v), 5) if v == v else None for v in per_point[cols]],
        "errors": [round(float(v), 5) for v in nme(pred, gt, scheme, norm, vis, points) if v == v],  # type: ignore[arg-type]
    }


def evaluate_dataset(
    predictor: Predictor,
    data: str | Path,
    *,
    format: str = "auto",
    skip_bad: bool = False,
    yaw_threshold: float = 30.0,
    norm: str = "inter_ocular",
    only_sources: set[str] | None = None,
) -> dict[str, Any]:
    """``only_sources`` restricts scoring to those face ids (e.g. a model's held-out faces)."""
    from edgekp.data.balance import is_large_pose
    from edgekp.data.crops import preload_crops
    from edgekp.data.readers import read_dataset
    from edgekp.data.schemes import get_scheme

    path = Path(data)
    if not path.exists():
        raise DataError(f"dataset not found: {str(path)!r}")
    scheme = get_scheme(predictor.meta.get("scheme", "ibug68"))
    dataset = read_dataset(path, format=format, scheme=scheme, skip_bad=skip_bad)
    if skip_bad:  # bad images (e.g. a truncated JPEG) are found when decoded: check them now, log and skip them
        from edgekp.data.images import validate_images

        dataset = validate_images(dataset, skip_bad=True)
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
    is_large = is_large_pose(np.nan_to_num(crops.poses), BalanceSpec(yaw_threshold=yaw_threshold))
    result = score_crops(pred, crops, scheme, is_large, norm=norm)
    result.update(
        {
            "data": str(path),
            "model": predictor.source,
            "scheme": scheme.name,
            "large_pose_rule": f"|yaw| > {yaw_threshold:g} deg",
            "skipped": [list(s) for s in dataset.skipped],
            "notices": len(dataset.notices),
        }
    )
    return result
