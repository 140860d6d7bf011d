"""Build edgekp/data/assets/mean_face_68.npy (and the shape basis) from AFLW2000-3D 3D landmarks.

Usage: python scripts/make_mean_face.py PATH/TO/aflw2000_3d_labels [--out edgekp/data/assets]

Reads ``AFLW2000-3D.pts68.npy`` (2000 x 3 x 68, image coordinates: x right, y down, z toward the
camera), removes each face's pose by generalized Procrustes analysis (rotation + scale +
translation), averages, makes the mean left/right symmetric, and puts it in edgekp's model frame:
x toward the image right for a frontal face (the subject's left), y down, z away from the camera
(right-handed), centred, inter-ocular distance (points 36-45) = 1.  Also writes
``face_basis_68.npz``: the top principal components of the aligned shapes (shape + expression
deformations, in the same units) for the synthetic renderer.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

# Left/right pairs of the iBUG 68 scheme (kept here so the script stands alone).
_PAIRS = (
    list(zip(range(0, 8), range(16, 8, -1)))
    + list(zip(range(17, 22), range(26, 21, -1)))
    + [(31, 35), (32, 34)]
    + list(zip([36, 37, 38, 39, 40, 41], [45, 44, 43, 42, 47, 46]))
    + list(zip([48, 49, 50, 60, 61, 67, 59, 58], [54, 53, 52, 64, 63, 65, 55, 56]))
)


def _perm() -> np.ndarray:
    perm = np.arange(68)
    for a, b in _PAIRS:
        perm[a], perm[b] = b, a
    return perm


def _align(shapes: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Similarity-align every shape (N x 68 x 3, centred) onto ref (68 x 3, centred) (Umeyama)."""
    h = np.einsum("nki,kj->nij", shapes, ref)
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(u @ vt))
    u[:, :, -1] *= d[:, None]
    rot = u @ vt  # N x 3 x 3, maps shape -> ref: shape @ rot
    rotated = shapes @ rot
    scale = np.einsum("nki,ki->n", rotated, ref) / np.einsum("nki,nki->n", rotated, rotated)
    return rotated * scale[:, None, None]


def build(pts68: np.ndarray, n_components: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    shapes = np.transpose(pts68, (0, 2, 1)).astype(np.float64)  # N x 68 x 3
    shapes[:, :, 2] *= -1  # z toward the camera -> z away from it, so (x right, y down, z) is right-handed
    shapes -= shapes.mean(axis=1, keepdims=True)
    ref = shapes[0] / np.linalg.norm(shapes[0])
    for _ in range(10):  # generalized Procrustes: align to the mean, re-estimate the mean
        aligned = _align(shapes, ref)
        mean = aligned.mean(axis=0)
        mean /= np.linalg.norm(mean)
        if np.abs(mean - ref).max() < 1e-9:
            break
        ref = mean
    # Canonical frame: x from the subject's right outer eye corner towards the left one,
    # y from the brows towards the chin (orthogonalized), z = x cross y (away from the camera).
    x = mean[45] - mean[36]
    x /= np.linalg.norm(x)
    y = mean[8] - mean[17:27].mean(axis=0)
    y -= x * (y @ x)
    y /= np.linalg.norm(y)
    z = np.cross(x, y)
    frame = np.stack([x, y, z], axis=1)
    aligned = aligned @ frame
    mean = aligned.mean(axis=0)
    # Symmetrize: average with the mirror image (x -> -x, left/right points swapped).
    mirror = mean[_perm()] * np.array([-1.0, 1.0, 1.0])
    mean = 0.5 * (mean + mirror)
    mean -= mean.mean(axis=0)
    iod = np.linalg.norm(mean[45] - mean[36])
    mean /= iod
    # Shape/expression basis: PCA of the residuals of the aligned shapes (same units).
    aligned = _align(aligned - aligned.mean(axis=1, keepdims=True), mean)
    resid = (aligned - mean).reshape(len(aligned), -1)
    _, s, vt = np.linalg.svd(resid - resid.mean(axis=0), full_matrices=False)
    std = s[:n_components] / np.sqrt(len(resid) - 1)
    return (
        mean.astype(np.float32),
        vt[:n_components].reshape(n_components, 68, 3).astype(np.float32),
        std.astype(np.float32),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labels", type=Path, help="folder holding AFLW2000-3D.pts68.npy")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "edgekp/data/assets")
    args = parser.parse_args()
    pts = np.load(args.labels / "AFLW2000-3D.pts68.npy")
    mean, comps, std = build(pts)
    args.out.mkdir(parents=True, exist_ok=True)
    np.save(args.out / "mean_face_68.npy", mean)
    np.savez(args.out / "face_basis_68.npz", components=comps, std=std)
    print(f"mean face {mean.shape}, depth range {np.ptp(mean[:, 2]):.3f} IOD; basis std {np.round(std, 3).tolist()}")


if __name__ == "__main__":
    main()
