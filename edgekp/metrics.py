"""Landmark accuracy metrics, pure numpy: NME, failure rate, AUC, CED, per-landmark error, pose splits.

Conventions (say which normalization a number uses; ``summarize`` returns it under ``"norm"``):

- NME of one face = mean over its K points of ||pred - gt|| / d, as a fraction (x100 for percent), with d
  ``"inter_ocular"`` (default): distance between the scheme's outer eye corners (300W: 36, 45);
  ``"inter_pupil"``: distance between the centres of the scheme's two eye point groups;
  ``"box"``: sqrt(w * h) of the ground-truth landmark bounding box.
- FR@t: fraction of faces with NME > t.
- AUC@t: area under the cumulative error distribution (CED) from 0 to t, divided by t so it lies in
  [0, 1]. It is computed **exactly**: the CED is a step function, and the area it covers up to t is
  mean(max(0, t - e_i)). (Grid/trapezoid versions found elsewhere differ from it by O(t / steps).)

pred and gt are N x K x 2 arrays in any consistent units (pixels of the image, or of the crop).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

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


def normalizer(gt: np.ndarray, scheme: Scheme, norm: Norm = "inter_ocular") -> np.ndarray:
    """Per-face normalizing distance d (N,) from the ground truth."""
    gt = _as_batch(gt, scheme, "gt")
    if norm == "inter_ocular":
        a, b = scheme.inter_ocular
        d = np.linalg.norm(gt[:, a] - gt[:, b], axis=-1)
    elif norm == "inter_pupil":
        if not scheme.has_pupils:
            raise ConfigError(f"scheme {scheme.name} has no eye groups, so inter_pupil is undefined; use inter_ocular or box")
        left = gt[:, list(scheme.left_eye)].mean(axis=1)
        right = gt[:, list(scheme.right_eye)].mean(axis=1)
        d = np.linalg.norm(left - right, axis=-1)
    elif norm == "box":
        size = gt.max(axis=1) - gt.min(axis=1)
        d = np.sqrt(size[:, 0] * size[:, 1])
    else:
        raise ConfigError(f"unknown NME normalization {norm!r}; choose one of {', '.join(NORMS)}")
    if not np.all(np.isfinite(d) & (d > 0)):
        bad = np.flatnonzero(~(np.isfinite(d) & (d > 0)))
        raise DataError(f"ground truth of face(s) {bad[:5].tolist()} has a zero or invalid {norm} distance")
    return d


def point_errors(pred: np.ndarray, gt: np.ndarray, scheme: Scheme, norm: Norm = "inter_ocular") -> np.ndarray:
    """N x K normalized point-to-point errors."""
    pred, gt = _as_batch(pred, scheme, "pred"), _as_batch(gt, scheme, "gt")
    if pred.shape != gt.shape:
        raise ValueError(f"pred {pred.shape} and gt {gt.shape} differ in shape")
    return np.linalg.norm(pred - gt, axis=-1) / normalizer(gt, scheme, norm)[:, None]


def nme(pred: np.ndarray, gt: np.ndarray, scheme: Scheme, norm: Norm = "inter_ocular") -> np.ndarray:
    """Per-face NME (N,), as a fraction."""
    return point_errors(pred, gt, scheme, norm).mean(axis=1)


def per_landmark_error(pred: np.ndarray, gt: np.ndarray, scheme: Scheme, norm: Norm = "inter_ocular") -> np.ndarray:
    """Mean normalized error of each landmark over the faces (K,)."""
    return point_errors(pred, gt, scheme, norm).mean(axis=0)


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
        rows.append({"lo": lo, "hi": hi, "n": int(inside.sum()), "nme": float(errors[inside].mean()) if inside.any() else float("nan")})
    return rows


def summarize(
    pred: np.ndarray,
    gt: np.ndarray,
    scheme: Scheme,
    *,
    norm: Norm = "inter_ocular",
    threshold: float = DEFAULT_THRESHOLD,
    is_large: np.ndarray | None = None,
) -> dict[str, float | int | str]:
    """nme, fr, auc (at ``threshold``), n and the normalization; with ``is_large`` (N bools) also
    nme_large, nme_small, n_large, n_small (NaN when a side is empty)."""
    errors = nme(pred, gt, scheme, norm)
    out: dict[str, float | int | str] = {
        "norm": norm,
        "threshold": threshold,
        "n": int(len(errors)),
        "nme": float(errors.mean()) if errors.size else float("nan"),
        "fr": failure_rate(errors, threshold),
        "auc": auc(errors, threshold),
    }
    if is_large is not None:
        large = np.asarray(is_large, dtype=bool)
        if large.shape != errors.shape:
            raise ValueError(f"is_large has shape {large.shape}, expected ({len(errors)},)")
        for name, mask in (("large", large), ("small", ~large)):
            out[f"n_{name}"] = int(mask.sum())
            out[f"nme_{name}"] = float(errors[mask].mean()) if mask.any() else float("nan")
    return out
