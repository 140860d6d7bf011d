"""Landmark schemes as one table: point count, left/right flip pairs, NME normalizing points."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgekp.config.base import nearest
from edgekp.errors import ConfigError


@dataclass(frozen=True)
class Scheme:
    name: str
    num_points: int
    flip_pairs: tuple[tuple[int, int], ...]
    # inter-ocular: outer eye corners; inter-pupil: the two eye point groups whose centres are pupils.
    inter_ocular: tuple[int, int]
    left_eye: tuple[int, ...] = ()
    right_eye: tuple[int, ...] = ()

    def flip_permutation(self) -> np.ndarray:
        """perm such that flipped_points = mirror(points)[perm]."""
        perm = np.arange(self.num_points)
        for a, b in self.flip_pairs:
            perm[a], perm[b] = b, a
        return perm


def _pairs(*ranges: tuple[list[int], list[int]]) -> tuple[tuple[int, int], ...]:
    return tuple((a, b) for left, right in ranges for a, b in zip(left, right, strict=True))


IBUG68 = Scheme(
    name="ibug68",
    num_points=68,
    flip_pairs=_pairs(
        (list(range(0, 8)), list(range(16, 8, -1))),  # jaw
        (list(range(17, 22)), list(range(26, 21, -1))),  # brows
        ([31, 32], [35, 34]),  # nostrils
        ([36, 37, 38, 39, 40, 41], [45, 44, 43, 42, 47, 46]),  # eyes
        ([48, 49, 50, 60, 61, 67, 59, 58], [54, 53, 52, 64, 63, 65, 55, 56]),  # mouth
    ),
    inter_ocular=(36, 45),
    left_eye=tuple(range(36, 42)),
    right_eye=tuple(range(42, 48)),
)

SCHEMES: dict[str, Scheme] = {IBUG68.name: IBUG68}


def get_scheme(name: str) -> Scheme:
    if name not in SCHEMES:
        hint = nearest(name, SCHEMES)
        tip = f"; did you mean {hint!r}?" if hint else ""
        raise ConfigError(f"unknown landmark scheme {name!r}{tip} (known: {', '.join(sorted(SCHEMES))})")
    return SCHEMES[name]


def scheme_for_points(num_points: int) -> Scheme | None:
    return next((s for s in SCHEMES.values() if s.num_points == num_points), None)
