"""Head pose (yaw, pitch, roll) from 2D landmarks by fitting a 3D mean face.

Conventions (degrees; they agree in sign with AFLW2000-3D's ``Pose_Para`` / pose labels):

- image frame: x right, y down; model frame of the mean face: x towards the subject's left
  (image right on a frontal face), y down (brows -> chin), z away from the camera.
- ``R = Rz(roll) @ Ry(yaw) @ Rx(-pitch)`` maps the mean face into the camera frame, and the
  landmarks are its scaled orthographic projection ``s * R[:2] @ X + t``.
- **yaw > 0**: the face is turned towards the subject's right (the nose points to the image left);
  yaw < 0: turned to the subject's left.
- **pitch > 0**: the face looks up (chin up); pitch < 0: looks down.
- **roll > 0**: in-plane clockwise on screen (the eye on the image right is lower).

The fit is weak-perspective: a least-squares affine camera ``M`` (2 x 3) from the mean face to the
centred 2D points, projected onto the nearest scaled rotation (SVD), then a few Gauss-Newton
refinement steps on (rotation, scale) so that the non-rigid jaw and mouth do not bias the angles.
Only labelled points enter the fit, and the jaw contour (0-16) is left out: see JAW_WEIGHT.
Everything is batched numpy: 5,000 faces take a fraction of a second.  Faces with only 2D
landmarks cannot tell a face turned by 90+ degrees from one turned less, so |yaw| stays <= 90.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from edgekp.data.records import FaceRecord

ASSETS = Path(__file__).with_name("assets")
# The |yaw| bins results are split by (the AFLW2000-3D / MERL-RAV literature's): name, lo, hi degrees;
# 60 and more land in the last (some AFLW labels pass 90).
YAW_BINS: tuple[tuple[str, float, float], ...] = (("0-30", 0.0, 30.0), ("30-60", 30.0, 60.0), ("60-90", 60.0, math.inf))
YAW_BIN_NAMES: tuple[str, ...] = tuple(name for name, _, _ in YAW_BINS)


@lru_cache(maxsize=1)
def mean_face() -> np.ndarray:
    """The 68 x 3 mean face (model frame, centred, inter-ocular distance 1); see scripts/make_mean_face.py."""
    face = np.load(ASSETS / "mean_face_68.npy").astype(np.float64)
    face.setflags(write=False)
    return face


def rotation_matrix(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """N x 3 x 3 rotations (model frame -> camera frame) for angles in degrees (see module doc)."""
    y, p, r = (np.radians(np.asarray(a, dtype=np.float64)) for a in (yaw, pitch, roll))
    cy, sy, cp, sp, cr, sr = np.cos(y), np.sin(y), np.cos(-p), np.sin(-p), np.cos(r), np.sin(r)
    one, zero = np.ones_like(y), np.zeros_like(y)
    rz = np.stack([np.stack([cr, -sr, zero], -1), np.stack([sr, cr, zero], -1), np.stack([zero, zero, one], -1)], -2)
    ry = np.stack([np.stack([cy, zero, sy], -1), np.stack([zero, one, zero], -1), np.stack([-sy, zero, cy], -1)], -2)
    rx = np.stack([np.stack([one, zero, zero], -1), np.stack([zero, cp, -sp], -1), np.stack([zero, sp, cp], -1)], -2)
    return rz @ ry @ rx


def euler_from_matrix(rot: np.ndarray) -> np.ndarray:
    """Inverse of rotation_matrix: N x 3 x 3 -> N x 3 [yaw, pitch, roll] degrees."""
    # R = Rz(r) Ry(y) Rx(q) with q = -pitch: R[2,0] = -sin y, R[2,1] = cos y sin q, R[2,2] = cos y cos q,
    # R[1,0] = sin r cos y, R[0,0] = cos r cos y.
    yaw = np.arcsin(np.clip(-rot[..., 2, 0], -1.0, 1.0))
    q = np.arctan2(rot[..., 2, 1], rot[..., 2, 2])
    roll = np.arctan2(rot[..., 1, 0], rot[..., 0, 0])
    return np.degrees(np.stack([yaw, -q, roll], axis=-1))


def _nearest_rotation_rows(m: np.ndarray) -> np.ndarray:
    """N x 2 x 3 affine camera -> N x 3 x 3 rotation whose first two rows are closest to m's rows."""
    u, _, vt = np.linalg.svd(m, full_matrices=False)
    rows = u @ vt  # N x 2 x 3 orthonormal rows
    third = np.cross(rows[:, 0], rows[:, 1])
    return np.concatenate([rows, third[:, None, :]], axis=1)


def _skew(w: np.ndarray) -> np.ndarray:
    zero = np.zeros_like(w[..., 0])
    return np.stack(
        [
            np.stack([zero, -w[..., 2], w[..., 1]], -1),
            np.stack([w[..., 2], zero, -w[..., 0]], -1),
            np.stack([-w[..., 1], w[..., 0], zero], -1),
        ],
        -2,
    )


# The jaw contour (iBUG 0-16) is where label conventions disagree: AFLW2000-3D's pt3d_68 follows the
# 3D jaw line, 300W and MERL-RAV the visible contour, which on a turned face lies nearer the nose and
# makes it read more frontal (about 10 degrees low at 15-45 degrees of yaw). The rigid points off the
# contour (brows, nose, eyes, mouth) mean the same thing in both conventions, so the fit leaves the
# jaw out (weight JAW_WEIGHT) unless a face has too few other labelled points (see fit_weights).
# Measured with benchmarks/pose_estimator.py (|yaw| MAE on AFLW2000-3D 3D / re-annotated labels;
# MERL-RAV bias at 0-30 / 30-60 / 60-90 of all labels; share of AFW called large):
#   weight 1:    2.43 / 3.65;  -2.2 / -5.2 / -6.3;  AFW  7 of 201
#   weight 0.1:  2.73 / 4.00;  -0.7 / -0.9 / -3.9;  AFW 22 of 201
#   weight 0:    3.33 / 4.63;  +1.4 / +2.7 / -4.2;  AFW 37 of 201
# Even a tenth of the jaw halves AFW's large-pose share (its visible contour reads frontal), so it stays out.
JAW = tuple(range(17))
JAW_WEIGHT = 0.0
MIN_FIT_POINTS = 8  # labelled points off the jaw below which the jaw is used after all
MIN_POINTS = 5  # fewer labelled points than this: no pose (NaN)


def labelled_mask(points: np.ndarray, visibility: np.ndarray | None = None) -> np.ndarray:
    """N x K bool: points with a location (finite, and v > 0 where visibility is given)."""
    mask = np.isfinite(np.asarray(points, np.float64)).all(axis=-1)
    if visibility is not None:
        mask &= np.asarray(visibility) > 0
    return mask


def fit_weights(points: np.ndarray, visibility: np.ndarray | None = None, jaw_weight: float = JAW_WEIGHT) -> np.ndarray:
    """N x 68 fit weights: 0 for unlabelled points, ``jaw_weight`` on the jaw contour, 1 elsewhere.

    A face with fewer than MIN_FIT_POINTS labelled points off the jaw (rare: a profile whose far side
    is all self-occluded still shows about 30) keeps its jaw at weight 1, better than no pose at all.
    """
    labelled = labelled_mask(points, visibility)
    weights = labelled.astype(np.float64)
    jaw = list(JAW)
    off_jaw = labelled.copy()
    off_jaw[:, jaw] = False
    few = off_jaw.sum(axis=1) < MIN_FIT_POINTS
    weights[:, jaw] *= np.where(few, 1.0, jaw_weight)[:, None]
    return weights


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """N x K x D, N x K -> N x 1 x D."""
    return (np.einsum("nk,nkd->nd", weights, values) / weights.sum(axis=1, keepdims=True))[:, None, :]


def fit_rotation(
    points: np.ndarray, weights: np.ndarray | None = None, shape: np.ndarray | None = None, iterations: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted scaled orthographic fit of ``shape`` (68 x 3) to N x 68 x 2 points.

    Returns (N x 3 x 3 rotations, N scales). Points of weight 0 take no part at all (their
    coordinates may be NaN); every face needs MIN_POINTS points of positive weight.
    """
    shape = mean_face() if shape is None else shape
    pts = np.asarray(points, np.float64)
    w = np.ones(pts.shape[:2]) if weights is None else np.asarray(weights, np.float64)
    pts = np.where(w[..., None] > 0, np.nan_to_num(pts), 0.0)  # a NaN times weight 0 would still be NaN
    model = np.broadcast_to(shape, (len(pts), *shape.shape))
    centred = pts - _weighted_mean(pts, w)
    mc = model - _weighted_mean(model, w)  # N x 68 x 3: the model centred on the same weighted points
    # Weighted affine camera: centred ~ mc @ M^T -> M^T = (mc^T W mc)^-1 mc^T W centred.
    a = np.einsum("nk,nki,nkj->nij", w, mc, mc) + 1e-9 * np.eye(3)
    m = np.linalg.solve(a, np.einsum("nk,nki,nkj->nij", w, mc, centred)).transpose(0, 2, 1)  # N x 2 x 3
    rot = _nearest_rotation_rows(m)
    ww = np.concatenate([w, w], axis=1)  # the weight of each residual row (x rows, then y rows)
    for _ in range(iterations):
        # Gauss-Newton on a small rotation update v (R <- exp([v]) R) and the scale.
        proj = np.einsum("nij,nkj->nki", rot, mc)  # N x 68 x 3, rotated model
        scale = np.einsum("nk,nki,nki->n", w, proj[..., :2], centred) / np.einsum(
            "nk,nki,nki->n", w, proj[..., :2], proj[..., :2]
        )
        resid = centred - scale[:, None, None] * proj[..., :2]  # N x 68 x 2
        # d(x,y)/dv for a rotated point p: [v]x p -> dx = v1 p2 - v2 p1, dy = v2 p0 - v0 p2.
        p0, p1, p2 = proj[..., 0], proj[..., 1], proj[..., 2]
        zero = np.zeros_like(p0)
        jx = np.stack([zero, p2, -p1], -1) * scale[:, None, None]
        jy = np.stack([-p2, zero, p0], -1) * scale[:, None, None]
        jac = np.concatenate([jx, jy], axis=1)  # N x 136 x 3
        r = np.concatenate([resid[..., 0], resid[..., 1]], axis=1)  # N x 136
        jtj = np.einsum("nk,nki,nkj->nij", ww, jac, jac) + 1e-9 * np.eye(3)
        v = np.linalg.solve(jtj, np.einsum("nk,nki,nk->ni", ww, jac, r)[..., None])[..., 0]
        # First-order exponential followed by re-orthonormalization keeps R a rotation.
        upd = np.eye(3) + _skew(v)
        u, _, vt = np.linalg.svd(upd @ rot)
        rot = u @ vt
    proj = np.einsum("nij,nkj->nki", rot, mc)
    scale = np.einsum("nk,nki,nki->n", w, proj[..., :2], centred) / np.einsum(
        "nk,nki,nki->n", w, proj[..., :2], proj[..., :2]
    )
    return rot, scale


def estimate_poses(
    points: np.ndarray, visibility: np.ndarray | None = None, jaw_weight: float = JAW_WEIGHT
) -> np.ndarray:
    """N x 68 x 2 (or 68 x 2) pixel landmarks -> N x 3 (or 3) float32 [yaw, pitch, roll] in degrees.

    Only labelled points enter the fit: NaN coordinates, and points whose ``visibility`` (N x 68,
    COCO v) is 0, have no location. The jaw contour is left out (see JAW_WEIGHT). A face with fewer
    than MIN_POINTS labelled points gets NaN angles.
    """
    pts = np.asarray(points, dtype=np.float64)
    single = pts.ndim == 2
    if single:
        pts = pts[None]
        visibility = None if visibility is None else np.asarray(visibility)[None]
    if pts.ndim != 3 or pts.shape[1:] != (68, 2):
        raise ValueError(f"estimate_poses needs N x 68 x 2 points (iBUG 68), got shape {np.shape(points)}")
    if len(pts) == 0:
        return np.zeros((0, 3), np.float32)
    weights = fit_weights(pts, visibility, jaw_weight)
    ok = (weights > 0).sum(axis=1) >= MIN_POINTS
    angles = np.full((len(pts), 3), np.nan, np.float32)
    if ok.any():
        rot, _ = fit_rotation(pts[ok], weights[ok])
        angles[ok] = euler_from_matrix(rot).astype(np.float32)
    return angles[0] if single else angles


def yaw_agreement(estimated_yaw: np.ndarray, label_yaw: np.ndarray, max_label: float = 90.0) -> dict[str, float]:
    """Compare estimated yaw with labels the way AFLW2000-3D's are meant to be read.

    Labels are wrapped to +-180 and compared by absolute value; labels whose |yaw| passes
    ``max_label`` (a handful in AFLW2000-3D, some near 180, i.e. wrong by a half turn) are left out,
    because a 2D-landmark estimate is <= 90 by construction and the label itself is unreliable there.
    """
    est = np.asarray(estimated_yaw, np.float64)
    lab = (np.asarray(label_yaw, np.float64) + 180.0) % 360.0 - 180.0
    keep = np.abs(lab) <= max_label
    est, lab = est[keep], lab[keep]
    return {
        "faces": int(keep.sum()),
        "excluded": int((~keep).sum()),
        "mae_abs_yaw": float(np.abs(np.abs(est) - np.abs(lab)).mean()),
        "corr_abs_yaw": float(np.corrcoef(np.abs(est), np.abs(lab))[0, 1]),
        "mae_signed_yaw": float(np.abs(est - lab).mean()),
        "corr_signed_yaw": float(np.corrcoef(est, lab)[0, 1]),
    }


def record_poses_with_source(records: Sequence[FaceRecord]) -> tuple[np.ndarray, np.ndarray]:
    """(N x 3 [yaw, pitch, roll], N x 3 bool: the angle is the dataset's label).

    Labels win, angle by angle: MERL-RAV labels yaw only, so its pitch and roll are estimated. The
    estimate fits only each face's labelled points (the 0, 0 placeholder of a self-occluded point is
    NaN in the record and never enters). NaN where neither exists (other schemes than 68 points).
    """
    poses = np.full((len(records), 3), np.nan, np.float32)
    for i, r in enumerate(records):
        if r.pose is not None:
            poses[i] = r.pose.as_array()
    from_label = np.isfinite(poses)
    missing = [i for i in range(len(records)) if not from_label[i].all() and records[i].points.shape[0] == 68]
    if missing:
        guess = estimate_poses(np.stack([records[i].points for i in missing]))
        poses[missing] = np.where(from_label[missing], poses[missing], guess)
    return poses, from_label


def pose_source(from_label: np.ndarray) -> str:
    """'label', 'estimate' or 'label+estimate': where a set of angles (one bool per face) came from."""
    from_label = np.asarray(from_label, bool)
    return "+".join(name for name, n in (("label", from_label.sum()), ("estimate", (~from_label).sum())) if n) or "none"


def record_poses(records: Sequence[FaceRecord]) -> np.ndarray:
    """N x 3 [yaw, pitch, roll]: the dataset's labels where a face has them (labels win), else
    estimated from its labelled 68 landmarks; NaN for unlabelled faces of other schemes."""
    return record_poses_with_source(records)[0]
