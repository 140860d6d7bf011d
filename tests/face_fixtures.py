"""Tiny in-memory training sets of synthetic faces, shared by the trainer and compression tests."""

from __future__ import annotations

import numpy as np

from edgekp.train.data import FaceArrays


def synthetic_face_arrays(n: int, seed: int, size: int = 64) -> FaceArrays:
    """n synthetic faces cropped to size x size, points normalized to the crop."""
    from edgekp.data.crops import crop_face
    from edgekp.data.synthetic import render_synthetic

    images, points, poses = render_synthetic(n, 96, seed)
    crops = [crop_face(img, pts, size, margin=0.25) for img, pts in zip(images, points, strict=True)]
    return FaceArrays(
        images=np.stack([c.image for c in crops]),
        points=np.stack([c.points for c in crops]).astype(np.float32) / size,
        poses=poses.astype(np.float32),
        sources=[f"synth_{seed}_{i}" for i in range(n)],
        dataset=np.zeros(n, dtype=np.int64),
    )
