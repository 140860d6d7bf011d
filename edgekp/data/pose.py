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
Everything is batched numpy: 5,000 faces take a fraction of a second.  Faces with only 2D
landmarks cannot tell a face turned by 90+ degrees from one turned less, so |yaw| stays <= 90.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from edgekp.data.records import FaceRecord

ASSETS = Path(__file__).with_name("assets")


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
        [np.stack([zero, -w[..., 2], w[..., 1]], -1),
         np.stack([w[..., 2], zero, -w[..., 0]], -1),
         np.stack([-w[..., 1], w[..., 0], zero], -1)], -2)


def fit_rotation(points: np.ndarray, shape: np.ndarray | None = None, iterations: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Scaled orthographic fit of ``shape`` (68 x 3) to N x 68 x 2 points: (N x 3 x 3 rotations, N scales)."""
    shape = mean_face() if shape is None else shape
    pts = points.astype(np.float64)
    centred = pts - pts.mean(axis=1, keepdims=True)
    model = shape - shape.mean(axis=0)
    # Affine camera: centred ~ model @ M^T  ->  M^T = pinv(model) @ centred (same pinv for every face).
    m = np.einsum("ik,nkj->nji", np.linalg.pinv(model), centred)  # N x 2 x 3
    rot = _nearest_rotation_rows(m)
    for _ in range(iterations):
        # Gauss-Newton on a small rotation update w (R <- exp([w]) R) and the scale.
        proj = np.einsum("nij,kj->nki", rot, model)  # N x 68 x 3, rotated model
        scale = np.einsum("nki,nki->n", proj[..., :2], centred) / np.einsum("nki,nki->n", proj[..., :2], proj[..., :2])
        resid = centred - scale[:, None, None] * proj[..., :2]  # N x 68 x 2
        # d(x,y)/dw for a rotated point p: [w]x p -> dx = w1 p2 - w2 p1, dy = w2 p0 - w0 p2.
        p0, p1, p2 = proj[..., 0], proj[..., 1], proj[..., 2]
        zero = np.zeros_like(p0)
        jx = np.stack([zero, p2, -p1], -1) * scale[:, None, None]
        jy = np.stack([-p2, zero, p0], -1) * scale[:, None, None]
        jac = np.concatenate([jx, jy], axis=1)  # N x 136 x 3
        r = np.concatenate([resid[..., 0], resid[..., 1]], axis=1)  # N x 136
        jtj = np.einsum("nki,nkj->nij", jac, jac) + 1e-9 * np.eye(3)
        w = np.linalg.solve(jtj, np.einsum("nki,nk->ni", jac, r)[..., None])[..., 0]
        # First-order exponential followed by re-orthonormalization keeps R a rotation.
        upd = np.eye(3) + _skew(w)
        u, _, vt = np.linalg.svd(upd @ rot)
        rot = u @ vt
    proj = np.einsum("nij,kj->nki", rot, model)
    scale = np.einsum("nki,nki->n", proj[..., :2], centred) / np.einsum("nki,nki->n", proj[..., :2], proj[..., :2])
    return rot, scale


def estimate_poses(points: np.ndarray) -> np.ndarray:
    """N x 68 x 2 (or 68 x 2) pixel landmarks -> N x 3 (or 3) float32 [yaw, pitch, roll] in degrees."""
    pts = np.asarray(points, dtype=np.float64)
    single = pts.ndim == 2
    if single:
        pts = pts[None]
    if pts.ndim != 3 or pts.shape[1:] != (68, 2):
        raise ValueError(f"estimate_poses needs N x 68 x 2 points (iBUG 68), got shape {np.shape(points)}")
    if len(pts) == 0:
        return np.zeros((0, 3), np.float32)
    rot, _ = fit_rotation(pts)
    angles = euler_from_matrix(rot).astype(np.float32)
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


def record_poses(records: Sequence[FaceRecord]) -> np.ndarray:
    """N x 3 [yaw, pitch, roll]: the dataset's labels where a face has them (labels win), else
    estimated from 68 landmarks; NaN for unlabelled faces of other schemes."""
    poses = np.full((len(records), 3), np.nan, np.float32)
    missing = [i for i, r in enumerate(records) if r.pose is None]
    for i, r in enumerate(records):
        if r.pose is not None:
            poses[i] = r.pose.as_array()
    if missing and records[missing[0]].points.shape[0] == 68:
        poses[missing] = estimate_poses(np.stack([records[i].points for i in missing]))
    return poses
