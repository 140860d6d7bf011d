"""What every reader shares: the problem collector (fail or skip), image lookup, point checks."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgekp.data.records import FaceRecord
from edgekp.errors import DataError
from edgekp.logs import get_logger

log = get_logger(__name__)

# Image files that may sit beside an annotation, in the order we try them.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".JPG", ".JPEG", ".PNG", ".PPM", ".BMP")


def one_line(text: object) -> str:
    """Error messages are one line: the CLI prints them after ``edgekp: error:``."""
    return " ".join(str(text).split())[:300]


@dataclass
class Problems:
    """Bad input goes here: a one-line DataError naming the file, or (skip_bad) a warning and a skip."""

    skip_bad: bool = False
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # Problems that never stop a read (a v = 0 point with coordinates, a face with too few labelled
    # points left out): always logged and listed, whatever skip_bad says.
    notices: list[tuple[str, str]] = field(default_factory=list)

    def notice(self, file: str | Path, reason: str) -> None:
        reason = one_line(reason)
        log.warning("%s: %s", file, reason)
        self.notices.append((str(file), reason))

    def report(self, file: str | Path, reason: str) -> None:
        reason = one_line(reason)
        if not self.skip_bad:
            raise DataError(f"{file}: {reason}")
        log.warning("skipping %s: %s", file, reason)
        self.skipped.append((str(file), reason))


@dataclass(frozen=True)
class Item:
    """A record with the annotation it came from, so later checks can name the file."""

    record: FaceRecord
    origin: str


class ImageIndex:
    """Finds the image beside an annotation: same stem, any common extension; then a sibling images
    folder (300VW keeps frames in ``imgs/`` next to ``annot/``). Each folder is listed once per read,
    because a stat per candidate is slow on big folders."""

    def __init__(self) -> None:
        self._folders: dict[Path, dict[str, Path]] = {}

    def find(self, folder: Path, stem: str) -> Path | None:
        for base in (folder, folder.parent / "imgs", folder.parent / "images"):
            found = self._listing(base).get(stem)
            if found is not None:
                return found
        return None

    def _listing(self, folder: Path) -> dict[str, Path]:
        if folder not in self._folders:
            self._folders[folder] = _list_images(folder)
        return self._folders[folder]


def _list_images(folder: Path) -> dict[str, Path]:
    """stem -> image path, preferring the earlier suffix in IMAGE_SUFFIXES when several exist."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return {}
    rank = {suffix: n for n, suffix in enumerate(IMAGE_SUFFIXES)}
    best: dict[str, tuple[int, Path]] = {}
    for entry in entries:
        stem, dot, ext = entry.name.rpartition(".")
        key = f"{dot}{ext}"
        if dot and key in rank and (stem not in best or rank[key] < best[stem][0]) and entry.is_file():
            best[stem] = (rank[key], Path(entry.path))
    return {stem: path for stem, (_, path) in best.items()}


def find_image(folder: Path, stem: str) -> Path | None:
    """One-off lookup (readers use an ImageIndex per read)."""
    return ImageIndex().find(folder, stem)


def as_points(values: object, origin: str) -> np.ndarray:
    """K x 2 float32 from any nested sequence; DataError (naming ``origin``) if it is not numeric."""
    try:
        if np.iscomplexobj(values):  # a cast would silently drop the imaginary part
            raise DataError(f"{origin}: landmark coordinates are complex numbers, not real ones")
        points = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise DataError(f"{origin}: landmark coordinates are not numbers ({one_line(exc)})") from None
    if points.ndim != 2 or points.shape[1] != 2 or points.shape[0] == 0:
        raise DataError(f"{origin}: landmarks must be K x 2 (x, y) coordinates, got shape {points.shape}")
    return points.astype(np.float32)


def check_points(
    points: np.ndarray, expected: int | None, origin: str, visibility: np.ndarray | None = None
) -> str | None:
    """The reason a face is unusable, or None: wrong point count, NaN/inf coordinates at a labelled point
    (an unlabelled point, v = 0, is NaN by FaceRecord's invariant)."""
    if expected is not None and len(points) != expected:
        return f"has {len(points)} points but the scheme needs {expected}"
    bad_rows = ~np.isfinite(points).all(axis=1)
    if visibility is not None:
        bad_rows &= np.asarray(visibility) > 0
    if bad_rows.any():
        return f"{int(bad_rows.sum())} landmark(s) have NaN or infinite coordinates"
    return None
