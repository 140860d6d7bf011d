"""Landmark schemes as one table: point count, left/right flip pairs, NME normalizing points.

Facts per scheme (point order, mirror pairs, eye points) follow the public dataset definitions as
mmpose's dataset metainfo records them; the code is ours. ``left``/``right`` mean image left/right
as annotated, which is what a horizontal flip swaps.
"""

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
    # The face contour (jaw line): the points with the largest errors, which a loss may weight up.
    jaw: tuple[int, ...] = ()
    description: str = ""

    def flip_permutation(self) -> np.ndarray:
        """perm such that flipped_points = mirror(points)[perm]."""
        perm = np.arange(self.num_points)
        for a, b in self.flip_pairs:
            perm[a], perm[b] = b, a
        return perm

    @property
    def has_pupils(self) -> bool:
        """Whether inter-pupil normalization is defined (both eye groups known)."""
        return bool(self.left_eye) and bool(self.right_eye)


def _pairs(*ranges: tuple[list[int], list[int]]) -> tuple[tuple[int, int], ...]:
    return tuple((a, b) for left, right in ranges for a, b in zip(left, right, strict=True))


def _mirror(first: int, last: int, centre: int) -> tuple[list[int], list[int]]:
    """A contour numbered first..last that is symmetric about ``centre`` (e.g. a jaw line)."""
    return list(range(first, centre)), list(range(last, centre, -1))


IBUG68 = Scheme(
    name="ibug68",
    num_points=68,
    flip_pairs=_pairs(
        _mirror(0, 16, 8),  # jaw
        (list(range(17, 22)), list(range(26, 21, -1))),  # brows
        ([31, 32], [35, 34]),  # nostrils
        ([36, 37, 38, 39, 40, 41], [45, 44, 43, 42, 47, 46]),  # eyes
        ([48, 49, 50, 60, 61, 67, 59, 58], [54, 53, 52, 64, 63, 65, 55, 56]),  # mouth
    ),
    inter_ocular=(36, 45),
    left_eye=tuple(range(36, 42)),
    right_eye=tuple(range(42, 48)),
    jaw=tuple(range(17)),
    description="iBUG 300W 68 points (300W, HELEN, AFW, LFPW, iBUG, menpo, 300VW, AFLW2000-3D)",
)

WFLW98 = Scheme(
    name="wflw98",
    num_points=98,
    flip_pairs=_pairs(
        _mirror(0, 32, 16),  # jaw
        ([33, 34, 35, 36, 37, 38, 39, 40, 41], [46, 45, 44, 43, 42, 50, 49, 48, 47]),  # brows
        ([55, 56], [59, 58]),  # nostrils
        ([60, 61, 62, 63, 64, 65, 66, 67], [72, 71, 70, 69, 68, 75, 74, 73]),  # eyes
        ([76, 77, 78, 83, 84, 88, 89, 93], [82, 81, 80, 87, 86, 92, 91, 95]),  # mouth
        ([96], [97]),  # pupils
    ),
    inter_ocular=(60, 72),
    jaw=tuple(range(33)),
    # WFLW annotates the pupils themselves (96, 97), so their "centre" is the point.
    left_eye=(96,),
    right_eye=(97,),
    description="WFLW 98 points",
)

COFW29 = Scheme(
    name="cofw29",
    num_points=29,
    flip_pairs=((0, 1), (2, 3), (4, 6), (5, 7), (8, 9), (10, 11), (12, 14), (13, 15), (16, 17), (18, 19), (22, 23)),
    inter_ocular=(8, 9),
    left_eye=(16,),  # pupils
    right_eye=(17,),
    description="COFW 29 points",
)

AFLW19 = Scheme(
    name="aflw19",
    num_points=19,
    flip_pairs=((0, 5), (1, 4), (2, 3), (6, 11), (7, 10), (8, 9), (12, 14), (15, 17)),
    # Outer eye corners; AFLW benchmarks usually normalize by the box (norm="box").
    inter_ocular=(6, 11),
    left_eye=(7,),  # eye centres
    right_eye=(10,),
    description="AFLW 19 points (benchmarks use box normalization)",
)

LAPA106 = Scheme(
    name="lapa106",
    num_points=106,
    flip_pairs=_pairs(
        _mirror(0, 32, 16),  # jaw
        ([33, 34, 35, 36, 37, 38, 39, 40, 41], [46, 45, 44, 43, 42, 50, 49, 48, 47]),  # brows
        ([55, 56, 57, 58, 59], [65, 64, 63, 62, 61]),  # nose base
        ([66, 67, 68, 69, 70, 71, 72, 73, 74], [79, 78, 77, 76, 75, 82, 81, 80, 83]),  # eyes
        ([84, 85, 86, 91, 92, 96, 97, 101], [90, 89, 88, 95, 94, 100, 99, 103]),  # mouth
        ([104], [105]),  # pupils
    ),
    inter_ocular=(66, 79),
    jaw=tuple(range(33)),
    left_eye=(104,),
    right_eye=(105,),
    description="LaPa / JD 106 points",
)

SCHEMES: dict[str, Scheme] = {s.name: s for s in (IBUG68, WFLW98, COFW29, AFLW19, LAPA106)}


def get_scheme(name: str) -> Scheme:
    if name not in SCHEMES:
        hint = nearest(name, SCHEMES)
        tip = f"; did you mean {hint!r}?" if hint else ""
        raise ConfigError(f"unknown landmark scheme {name!r}{tip} (known: {', '.join(sorted(SCHEMES))})")
    return SCHEMES[name]


def scheme_for_points(num_points: int) -> Scheme | None:
    return next((s for s in SCHEMES.values() if s.num_points == num_points), None)
