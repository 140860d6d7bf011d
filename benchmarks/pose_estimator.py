"""Validate edgekp's head-pose estimator on the 2,000 AFLW2000-3D yaw labels.

Usage: python benchmarks/pose_estimator.py --data ../shared/data
Prints mean absolute |yaw| error and correlation (issue 3 asks <= 5 degrees and >= 0.95), for the
2D projection of the 3D landmarks and for the re-annotated 2D landmarks, plus pitch/roll stats
against a 3D (Procrustes) fit of the 3D landmarks, and the time to estimate all poses.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from edgekp.data.pose import estimate_poses, euler_from_matrix, mean_face, yaw_agreement


def rotation_3d(pts3d: np.ndarray) -> np.ndarray:
    """Reference pose from the full 3D landmarks (N x 68 x 3, image frame with z toward the camera)."""
    shapes = pts3d * np.array([1.0, 1.0, -1.0])
    shapes = shapes - shapes.mean(axis=1, keepdims=True)
    model = mean_face() - mean_face().mean(axis=0)
    u, _, vt = np.linalg.svd(np.einsum("nki,kj->nij", shapes, model))
    d = np.sign(np.linalg.det(u @ vt))
    u[:, :, -1] *= d[:, None]
    return u @ vt  # camera = R @ model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the shared data folder (holds aflw2000_3d_labels/)")
    args = parser.parse_args()
    labels = args.data / "aflw2000_3d_labels"
    pts68 = np.load(labels / "AFLW2000-3D.pts68.npy").astype(np.float64)
    yaw = np.load(labels / "AFLW2000-3D.pose.npy")
    sets = {"3D landmarks projected (pts68[:, :2])": pts68[:, :2]}
    reann = labels / "AFLW2000-3D-Reannotated.pts68.npy"
    if reann.exists():
        sets["re-annotated 2D landmarks"] = np.load(reann)
    ref = euler_from_matrix(rotation_3d(np.transpose(pts68, (0, 2, 1))))
    for name, pts in sets.items():
        pts2d = np.transpose(pts, (0, 2, 1))
        start = time.perf_counter()
        est = estimate_poses(pts2d)
        elapsed = time.perf_counter() - start
        stats = yaw_agreement(est[:, 0], yaw)
        print(f"{name}: {stats['faces']} faces ({stats['excluded']} labels with |yaw| > 90 left out), {elapsed:.2f} s")
        print(f"  yaw  mean abs |yaw| error {stats['mae_abs_yaw']:.2f} deg, correlation of |yaw| {stats['corr_abs_yaw']:.4f}; "
              f"signed: error {stats['mae_signed_yaw']:.2f} deg, correlation {stats['corr_signed_yaw']:.4f}")
        for i, angle in ((1, "pitch"), (2, "roll")):
            diff = (est[:, i] - ref[:, i] + 180) % 360 - 180
            print(f"  {angle} vs 3D fit: median abs diff {np.median(np.abs(diff)):.2f} deg, "
                  f"correlation {np.corrcoef(est[:, i], ref[:, i])[0, 1]:.3f} (info)")


if __name__ == "__main__":
    main()
