"""menpo ``.ljson`` landmark files: JSON with points stored as (y, x).

Version 2/3 files hold ``groups``: {group name: {"landmarks": {"points": [[y, x], ...]}}}; version 1
holds ``landmarks.points`` directly. We take the group whose point count matches the scheme (when one
is given), else the largest group (menpo's own files add a 2-point 'pupils' group beside the face).
Coordinates are 0-based pixels (menpo's convention). menpo writes a point it does not have (a
self-occluded one) as ``null`` or ``[null, null]``: such a point becomes unlabelled (visibility 0, no
location). The image sits beside the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from edgekp.data.readers.common import ImageIndex, Item, Problems, as_points, one_line
from edgekp.data.records import FaceRecord
from edgekp.errors import DataError


def _groups(data: Any, file: Path) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise DataError(f"{file}: an .ljson file must be a JSON object")
    if isinstance(data.get("groups"), dict):
        groups = data["groups"]
    elif isinstance(data.get("landmarks"), dict):
        groups = {"landmarks": {"landmarks": data["landmarks"]}}
    else:
        raise DataError(f"{file}: no 'groups' or 'landmarks' in this .ljson")
    found = {}
    for name, group in groups.items():
        lms = group.get("landmarks") if isinstance(group, dict) else None
        points = lms.get("points") if isinstance(lms, dict) else None
        if isinstance(points, list) and points:
            found[str(name)] = points
    if not found:
        raise DataError(f"{file}: no landmark points in any group")
    return found


def _missing(point: Any) -> bool:
    return point is None or (isinstance(point, list) and len(point) == 2 and all(v is None for v in point))


def parse_ljson(data: Any, file: Path, expected: int | None) -> tuple[np.ndarray, np.ndarray | None]:
    """(K x 2 (x, y) float32 landmarks of the chosen group, K visibility or None when every point is there)."""
    groups = _groups(data, file)
    chosen = next((g for g in groups.values() if expected is not None and len(g) == expected), None)
    if chosen is None:
        chosen = max(groups.values(), key=len)
    missing = np.array([_missing(p) for p in chosen])
    if missing.all():
        raise DataError(f"{file}: every landmark point is null")
    yx = as_points([[0.0, 0.0] if m else p for p, m in zip(chosen, missing, strict=True)], str(file))
    visibility = np.where(missing, 0, 2).astype(np.uint8) if missing.any() else None
    return np.ascontiguousarray(yx[:, ::-1]), visibility


def read(path: Path, problems: Problems, expected: int | None = None) -> list[Item]:
    root = path if path.is_dir() else path.parent
    files = sorted(path.rglob("*.ljson")) if path.is_dir() else [path]
    index = ImageIndex()
    items = []
    for file in files:
        try:
            points, visibility = parse_ljson(json.loads(file.read_bytes()), file, expected)
        except (OSError, ValueError, RecursionError) as exc:
            problems.report(file, f"not readable JSON ({one_line(exc)})")
            continue
        except DataError as exc:
            problems.report(file, str(exc).removeprefix(f"{file}: "))
            continue
        source = file.relative_to(root).with_suffix("").as_posix()
        image = index.find(file.parent, file.stem) or file.with_suffix(".jpg")
        items.append(Item(FaceRecord(source=source, points=points, image=image, visibility=visibility), str(file)))
    return items
