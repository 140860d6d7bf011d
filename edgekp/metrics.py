"""Landmark accuracy metrics, pure numpy: NME, failure rate, AUC, CED, per-landmark error, pose splits.

Conventions (say which normalization a number uses; ``summarize`` returns it under ``"norm"``):

- NME of one face = mean over its K points of ||pred - gt|| / d, as a fraction (x100 for percent), with d
  ``"inter_ocular"`` (default): distance between the scheme's outer eye corners (300W: 36, 45);
  ``"inter_pupil"``: distance between the centres of the scheme's two eye point groups;
  ``"box"``: sqrt(w * h) of the box of the ground truth's **labelled** points (the standard for
  profile faces, where the inter-ocular distance collapses).
- Visibility: a ground-truth point without a location (NaN, or visibility 0 where given) is not
  scored, and no face's NME counts it: NME is the mean over the face's labelled points. A face whose
  normalizer needs a point it lacks (inter-ocular on a profile with a self-occluded eye corner) is
  left out of that normalization and counted as ``n_unscored``.
- Pose split: ``summarize(..., yaw=...)`` adds ``by_yaw``, mean NME per |yaw| bin 0-30, 30-60,
  60-90 degrees (|yaw| >= 60 in the last), each naming its normalization.
- FR@t: fraction of faces with NME > t.
- AUC@t: area under the cumulative error distribution (CED) from 0 to t, divided by t so it lies in
  [0, 1]. It is computed **exactly**: the CED is a step function, and the area it covers up to t is
  mean(max(0, t - e_i)). (Grid/trapezoid versions found elsewhere differ from it by O(t / steps).)

pred and gt are N x K x 2 arrays in any consistent units (pixels of the image, or of the crop).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from edgekp.data.pose import YAW_BINS
from edgekp.data.schemes import Scheme
from edgekp.errors import ConfigError, DataError

Norm = Literal["inter_ocular", "inter_pupil", "box"]
NORMS: tuple[str, ...] = ("inter_ocular", "inter_pupil", "box")
DEFAULT_THRESHOLD = 0.10


def _as_batch(points: np.ndarray, scheme: Scheme, what: str) -> np.ndarray:
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1:] != (scheme.num_points, 2):
        raise ValueError(f"{what} must be N x {scheme.num_points} x 2 for {scheme.name}, got {arr.shape}")
    return arr


def labelled_points(gt: np.ndarray, visibility: np.ndarray | None = None) -> np.ndarray:
    """N x K bool: ground-truth points with a location (finite, and visibility > 0 where given)."""
    mask = np.isfinite(np.asarray(gt, np.float64)).all(axis=-1)
    if visibility is not None:
        mask &= np.asarray(visibility).reshape(mask.shape) > 0
    return mask


def normalizer(
    gt: np.ndarray, scheme: Scheme, norm: Norm = "inter_ocular", visibility: np.ndarray | None = None
) -> np.ndarray:
    """Per-face normalizing distance d (N,) from the ground truth's labelled points; NaN for a face
    that lacks a point its normalization needs. DataError when a defined distance is zero."""
    gt = _as_batch(gt, scheme, "gt")
    labelled = labelled_points(gt, visibility)
    gt = np.where(labelled[..., None], gt, np.nan)
    if norm == "inter_ocular":
        a, b = scheme.inter_ocular
        d = np.linalg.norm(gt[:, a] - gt[:, b], axis=-1)
    elif norm == "inter_pupil":
        if not scheme.has_pupils:
            raise ConfigError(
                f"scheme {scheme.name} has no eye groups, so inter_pupil is undefined; use inter_ocular or box"
            )
        eyes = list(scheme.left_eye) + list(scheme.right_eye)
        left = gt[:, list(scheme.left_eye)].mean(axis=1)
        right = gt[:, list(scheme.right_eye)].mean(axis=1)
        d = np.where(labelled[:, eyes].all(axis=1), np.linalg.norm(left - right, axis=-1), np.nan)
    elif norm == "box":
        any_point = labelled.any(axis=1)
        safe = np.where(labelled[..., None], gt, 0.0)
        lo = np.where(labelled[..., None], safe, np.inf).min(axis=1)
        hi = np.where(labelled[..., None], safe, -np.inf).max(axis=1)
        size = np.where(any_point[:, None], hi - lo, np.nan)
        d = np.sqrt(size[:, 0] * size[:, 1])
    else:
        raise ConfigError(f"unknown NME normalization {norm!r}; choose one of {', '.join(NORMS)}")
    defined = ~np.isnan(d)
    if not np.all(np.isfinite(d[defined]) & (d[defined] > 0)):
        bad = np.flatnonzero(defined & ~(np.isfinite(d) & (d > 0)))
        raise DataError(f"ground truth of face(s) {bad[:5].tolist()} has a zero or invalid {norm} distance")
    return d


def point_errors(
    pred: np.ndarray,
    gt: np.ndarray,
    scheme: Scheme,
    norm: Norm = "inter_ocular",
    visibility: np.ndarray | None = None,
    points: tuple[int, ...] | list[int] | None = None,
) -> np.ndarray:
    """N x K normalized point-to-point errors; NaN at unlabelled points and for faces without a normalizer.

    ``points`` scores only those point indices (a peer predicting a subset): the others are NaN, while
    the normalizer still comes from all of the face's labelled points."""
    pred, gt = _as_batch(pred, scheme, "pred"), _as_batch(gt, scheme, "gt")
    if pred.shape != gt.shape:
        raise ValueError(f"pred {pred.shape} and gt {gt.shape} differ in shape")
    labelled = labelled_points(gt, visibility)
    scored = labelled.copy()
    if points is not None:
        scored[:] = False
        scored[:, list(points)] = labelled[:, list(points)]
    pred = np.where(scored[..., None], pred, 0.0)  # an unscored prediction may be anything, NaN included
    dist = np.where(scored, np.linalg.norm(pred - np.where(labelled[..., None], gt, 0.0), axis=-1), np.nan)
    return dist / normalizer(gt, scheme, norm, visibility)[:, None]


def nme(
    pred: np.ndarray,
    gt: np.ndarray,
    scheme: Scheme,
    norm: Norm = "inter_ocular",
    visibility: np.ndarray | None = None,
    points: tuple[int, ...] | list[int] | None = None,
) -> np.ndarray:
    """Per-face NME (N,) over each face's labelled (and, with ``points``, scored) points, as a
    fraction; NaN for a face with nothing to score or no normalizer."""
    err = point_errors(pred, gt, scheme, norm, visibility, points)
    counts = np.isfinite(err).sum(axis=1)
    return np.where(counts > 0, np.nansum(err, axis=1) / np.maximum(counts, 1), np.nan)


def per_landmark_error(
    pred: np.ndarray,
    gt: np.ndarray,
    scheme: Scheme,
    norm: Norm = "inter_ocular",
    visibility: np.ndarray | None = None,
    points: tuple[int, ...] | list[int] | None = None,
) -> np.ndarray:
    """Mean normalized error of each landmark over the faces where it is labelled (K,); NaN for a
    point no face labels (or one outside ``points``)."""
    err = point_errors(pred, gt, scheme, norm, visibility, points)
    counts = np.isfinite(err).sum(axis=0)
    return np.where(counts > 0, np.nansum(err, axis=0) / np.maximum(counts, 1), np.nan)


def failure_rate(errors: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> float:
    """Fraction of faces whose NME is above ``threshold``."""
    errors = np.asarray(errors, dtype=np.float64)
    return float(np.mean(errors > threshold)) if errors.size else float("nan")


def auc(errors: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> float:
    """Exact area under the CED on [0, threshold], divided by threshold (1 = every face perfect)."""
    if threshold <= 0:
        raise ValueError("the AUC threshold must be positive")
    errors = np.asarray(errors, dtype=np.float64)
    if not errors.size:
        return float("nan")
    return float(np.mean(np.clip(threshold - errors, 0.0, None)) / threshold)


def ced(errors: np.ndarray, threshold: float = DEFAULT_THRESHOLD, steps: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """The cumulative error distribution at steps + 1 points from 0 to threshold: (x, fraction <= x)."""
    errors = np.sort(np.asarray(errors, dtype=np.float64))
    x = np.linspace(0.0, threshold, steps + 1)
    y = np.searchsorted(errors, x, side="right") / max(len(errors), 1)
    return x, y


def split_by_bins(errors: np.ndarray, values: np.ndarray, edges: list[float]) -> list[dict[str, float | int]]:
    """Mean NME per bin of ``values`` (e.g. |yaw| in degrees): one dict per [lo, hi) bin with n and nme."""
    errors, values = np.asarray(errors, dtype=np.float64), np.asarray(values, dtype=np.float64)
    rows: list[dict[str, float | int]] = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (values >= lo) & (values < hi)
        rows.append(
            {
                "lo": lo,
                "hi": hi,
                "n": int(inside.sum()),
                "nme": float(errors[inside].mean()) if inside.any() else float("nan"),
            }
        )
    return rows


def yaw_bins(errors: np.ndarray, abs_yaw: np.ndarray, norm: str) -> dict[str, dict[str, Any]]:
    """Mean NME per |yaw| bin (YAW_BINS): {"0-30": {"n", "nme", "norm"}, ...}; NaN yaw lands in no bin."""
    errors, yaw = np.asarray(errors, np.float64), np.abs(np.asarray(abs_yaw, np.float64).reshape(-1))
    out: dict[str, dict[str, Any]] = {}
    for name, lo, hi in YAW_BINS:
        inside = (yaw >= lo) & (yaw < hi) & np.isfinite(errors)
        out[name] = {
            "n": int(inside.sum()),
            "nme": float(errors[inside].mean()) if inside.any() else float("nan"),
            "norm": norm,
        }
    return out


def summarize(
    pred: np.ndarray,
    gt: np.ndarray,
    scheme: Scheme,
    *,
    norm: Norm = "inter_ocular",
    threshold: float = DEFAULT_THRESHOLD,
    is_large: np.ndarray | None = None,
    yaw: np.ndarray | None = None,
    visibility: np.ndarray | None = None,
    points: tuple[int, ...] | list[int] | None = None,
    errors: np.ndarray | None = None,
) -> dict[str, Any]:
    """nme, fr, auc (at ``threshold``), n (faces scored), n_unscored and the normalization; with
    ``is_large`` (N bools) also nme_large, nme_small, n_large, n_small (NaN when a side is empty);
    with ``yaw`` (N degrees, sign ignored) also ``by_yaw`` (see yaw_bins). ``errors`` (N per-face
    NMEs already computed with ``norm``) skips recomputing them; ``points`` scores a subset (see point_errors)."""
    errors = nme(pred, gt, scheme, norm, visibility, points) if errors is None else np.asarray(errors, np.float64)
    scored = np.isfinite(errors)
    kept = errors[scored]
    out: dict[str, Any] = {
        "norm": norm,
        "threshold": threshold,
        "n": int(scored.sum()),
        "n_unscored": int((~scored).sum()),
        "nme": float(kept.mean()) if kept.size else float("nan"),
        "fr": failure_rate(kept, threshold),
        "auc": auc(kept, threshold),
    }
    if is_large is not None:
        large = np.asarray(is_large, dtype=bool)
        if large.shape != errors.shape:
            raise ValueError(f"is_large has shape {large.shape}, expected ({len(errors)},)")
        for name, mask in (("large", large & scored), ("small", ~large & scored)):
            out[f"n_{name}"] = int(mask.sum())
            out[f"nme_{name}"] = float(errors[mask].mean()) if mask.any() else float("nan")
    if yaw is not None:
        yaw = np.asarray(yaw, np.float64).reshape(-1)
        if yaw.shape != errors.shape:
            raise ValueError(f"yaw has shape {yaw.shape}, expected ({len(errors)},)")
        out["by_yaw"] = yaw_bins(errors, yaw, norm)
    return out
