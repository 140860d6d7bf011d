"""Crops for the face-presence head: positives as a tracker sees a face, negatives as it loses one.

Positives: the training crop (landmark box + margin) moved, scaled and rolled as far as a
tracker's crop strays between frames. Negatives, from the same photos:
- ``off``: the crop slid off the face by 0.6-1.1 of its side (the face left the crop);
- ``small``: a box 3-5x the face's, so the face is a small part of it;
- ``large``: a box a quarter to 0.45 of the face's, on one part of it (an eye, the mouth, a cheek);
- ``background``: a patch of the photo's corner (hair, wall, shoulder), blown up to the crop.
Both classes draw black or replicated borders alike, so a border (the 300W photos are padded where
their crop left the original) is no cue for either, and both get the same camera noise, blur and
exposure changes (a video frame's), so those are no cue either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from edgekp.data.crops import crop_box_from_points, crop_face
from edgekp.data.records import FaceRecord

NEGATIVE_KINDS = ("off", "small", "large", "background")


@dataclass(frozen=True)
class PresenceCrops:
    images: np.ndarray  # N x S x S x 3 uint8
    labels: np.ndarray  # N float32, 1 = face
    kinds: list[str]  # "face" or one of NEGATIVE_KINDS


def _rolled(image: np.ndarray, points: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """The photo and its points rotated about the face centre (a head roll the tracker has not followed)."""
    finite = points[np.isfinite(points).all(axis=1)]
    centre = tuple(float(v) for v in (finite.min(0) + finite.max(0)) / 2)
    matrix = cv2.getRotationMatrix2D(centre, degrees, 1.0)
    out = cv2.warpAffine(image, matrix, (image.shape[1], image.shape[0]), flags=cv2.INTER_LINEAR)
    return out, points @ matrix[:, :2].T + matrix[:, 2]


def _scaled_box(
    box: tuple[float, float, float, float], scale: float, dx: float, dy: float
) -> tuple[float, float, float, float]:
    x, y, w, h = box
    side = w * scale
    return (x + w / 2 + dx * w - side / 2, y + h / 2 + dy * h - side / 2, side, side)


def positive(
    image: np.ndarray, points: np.ndarray, size: int, margin: float, rng: np.random.Generator, border: str
) -> np.ndarray:
    image, points = _rolled(image, points, float(rng.uniform(-20, 20)))
    box = crop_box_from_points(points, margin)
    dx, dy = rng.uniform(-0.12, 0.12, 2)
    box = _scaled_box(box, float(np.exp(rng.uniform(np.log(0.8), np.log(1.3)))), dx, dy)
    return crop_face(image, points, size, box=box, border=border).image


def negative(
    kind: str, image: np.ndarray, points: np.ndarray, size: int, margin: float, rng: np.random.Generator, border: str
) -> np.ndarray:
    box = crop_box_from_points(points, margin)
    if kind == "off":
        angle, shift = rng.uniform(0, 2 * np.pi), rng.uniform(0.6, 1.1)
        box = _scaled_box(box, float(rng.uniform(0.8, 1.3)), shift * np.cos(angle), shift * np.sin(angle))
    elif kind == "small":
        box = _scaled_box(box, float(rng.uniform(3.0, 5.0)), *rng.uniform(-0.3, 0.3, 2))
    elif kind == "large":
        box = _scaled_box(box, float(rng.uniform(0.25, 0.45)), *rng.uniform(-0.3, 0.3, 2))
    elif kind == "background":
        h, w = image.shape[:2]
        side = float(rng.uniform(0.15, 0.3)) * min(h, w)
        corner_x = float(rng.choice([0.0, w - side])) + rng.uniform(-0.05, 0.05) * w
        corner_y = float(rng.choice([0.0, h - side])) + rng.uniform(-0.05, 0.05) * h
        box = (corner_x, corner_y, side, side)
    else:
        raise ValueError(f"unknown negative kind {kind!r}; choose one of {NEGATIVE_KINDS}")
    return crop_face(image, points, size, box=box, border=border).image


def camera(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Exposure, blur and sensor noise of a video frame, drawn alike for both classes."""
    out = crop.astype(np.float32) * rng.uniform(0.7, 1.3) + rng.uniform(-25, 25)
    if rng.random() < 0.3:
        out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.5, 1.5)))
    out += rng.normal(0.0, rng.uniform(0, 8), out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


def presence_crops(
    records: Sequence[FaceRecord],
    load: object,
    size: int,
    margin: float,
    seed: int,
    positives_per_face: int = 2,
    negatives_per_face: int = 3,
) -> PresenceCrops:
    """``positives_per_face`` positives and ``negatives_per_face`` negatives (kinds in turn) per face."""
    rng = np.random.default_rng(seed)
    images: list[np.ndarray] = []
    labels: list[float] = []
    kinds: list[str] = []
    turn = 0
    for record in records:
        image = load(record)  # type: ignore[operator]
        points = np.asarray(record.points, np.float64)
        for _ in range(positives_per_face):
            border = "replicate" if rng.random() < 0.5 else "constant"
            images.append(camera(positive(image, points, size, margin, rng, border), rng))
            labels.append(1.0)
            kinds.append("face")
        for _ in range(negatives_per_face):
            kind = NEGATIVE_KINDS[turn % len(NEGATIVE_KINDS)]
            turn += 1
            border = "replicate" if rng.random() < 0.5 else "constant"
            images.append(camera(negative(kind, image, points, size, margin, rng, border), rng))
            labels.append(0.0)
            kinds.append(kind)
    return PresenceCrops(np.stack(images), np.asarray(labels, np.float32), kinds)
