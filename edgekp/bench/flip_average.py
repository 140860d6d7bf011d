"""Test-time flip averaging: predict a crop and its mirror image, map the mirror's points back, average.

It wraps any runner (PyTorch or an exported file's runtime), so every format can be scored with it, at
twice the inference cost; edgekp reports it apart from the single-pass figures for that reason.
Coordinates are normalized with (0, 0) at the top-left corner of the top-left pixel, so mirroring the
image maps x to 1 - x exactly; the scheme's left/right pairs are swapped back by its flip permutation.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from edgekp.data.schemes import Scheme, get_scheme


def unflip_points(points: np.ndarray, permutation: np.ndarray) -> np.ndarray:
    """N x K x 2 points predicted on mirrored crops -> the same points in the original crops."""
    out = np.asarray(points, dtype=np.float32)[:, permutation].copy()
    out[..., 0] = 1.0 - out[..., 0]
    return out


class FlipAveragedRunner:
    """A runner whose prediction is the mean of the crop's and its mirror image's (left/right pairs swapped)."""

    def __init__(self, runner: Any, scheme: Scheme):
        self.runner = runner
        self.permutation = scheme.flip_permutation()

    def __call__(self, images: np.ndarray) -> np.ndarray:
        direct = np.asarray(self.runner(images), dtype=np.float32)
        mirrored = np.asarray(self.runner(np.ascontiguousarray(images[..., ::-1])), dtype=np.float32)
        return (direct + unflip_points(mirrored, self.permutation)) / 2.0

    def __getattr__(self, name: str) -> Any:  # name, threads, session(), describe() ... of the wrapped runner
        return getattr(self.runner, name)


def flip_averaged(predictor: Any) -> Any:
    """The same predictor (a ``bench.predictor.Predictor``) with flip-averaged predictions."""
    scheme = get_scheme(predictor.meta.get("scheme", "ibug68"))
    return replace(
        predictor, runner=FlipAveragedRunner(predictor.runner, scheme), source=f"{predictor.source} (flip-averaged)"
    )
