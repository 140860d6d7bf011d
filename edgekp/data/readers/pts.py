"""iBUG ``.pts`` folders (300W, HELEN, AFW, LFPW, iBUG, menpo, 300VW, the synthetic default).

A file is ``version: 1`` / ``n_points: K`` / ``{`` / K lines ``x y`` / ``}``, or just the ``x y``
lines (headerless). Coordinates are 1-based as 300W ships them; records are 0-based pixels. The image
sits beside the file with the same stem and any common extension. A ``poses.csv`` (``name,yaw,pitch,roll``
in degrees, written by ``edgekp data synth``) in the folder labels the matching faces' pose; so does a
``pose.json`` (``{"<stem>": {"yaw": deg, "pitch": deg, "roll": deg}}``, any angle may be left out and
is then estimated). Where both name a face, ``pose.json`` wins.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np

from edgekp.data.readers.common import ImageIndex, Item, Problems, as_points, one_line
from edgekp.data.records import FaceRecord, Pose
from edgekp.errors import DataError

POSES_FILE = "poses.csv"
POSE_JSON = "pose.json"


def parse_pts(text: str, origin: str) -> np.ndarray:
    """K x 2 float32, still 1-based as written. DataError (naming ``origin``) on anything malformed."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    declared: int | None = None
    if lines and lines[0].lower().startswith("version"):
        lines = lines[1:]
    if lines and lines[0].lower().startswith("n_points"):
        value = lines[0].split(":", 1)[-1].strip()
        if not value.isdigit():
            raise DataError(f"{origin}: bad 'n_points' header {one_line(lines[0])!r}")
        declared = int(value)
        lines = lines[1:]
    if lines and lines[0] == "{":
        if "}" not in lines:
            raise DataError(f"{origin}: the point list opened with '{{' is never closed (truncated file?)")
        end = lines.index("}")
        if any(lines[end + 1 :]):
            raise DataError(f"{origin}: unexpected text after the closing '}}'")
        lines = lines[1:end]
    elif declared is not None:
        raise DataError(f"{origin}: expected '{{' after the n_points header")
    rows = [line.replace(",", " ").split() for line in lines]
    for number, parts in enumerate(rows, 1):
        if len(parts) != 2:
            raise DataError(f"{origin}: point line {number} is {one_line(lines[number - 1])!r}, expected 'x y'")
    try:
        values = np.array(rows, dtype=np.float64)  # numpy parses the strings in one call
    except ValueError:
        bad = next(n for n, parts in enumerate(rows, 1) if not all(_is_float(p) for p in parts))
        raise DataError(f"{origin}: point line {bad} is {one_line(lines[bad - 1])!r}, expected two numbers") from None
    if not rows:
        raise DataError(f"{origin}: no points in the file")
    if declared is not None and declared != len(rows):
        raise DataError(f"{origin}: header says n_points {declared} but the file lists {len(rows)} points")
    with np.errstate(over="ignore"):  # beyond float32 becomes inf, which the point check reports
        return as_points(values, origin)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_poses(csv_path: Path, problems: Problems) -> dict[str, Pose]:
    """name stem -> Pose from a ``poses.csv`` beside the .pts files."""
    poses: dict[str, Pose] = {}
    try:
        with csv_path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = {"name", "yaw", "pitch", "roll"} - set(reader.fieldnames or [])
            if missing:
                problems.report(
                    csv_path, f"pose table lacks column(s) {sorted(missing)} (header must be name,yaw,pitch,roll)"
                )
                return {}
            for row in reader:
                try:
                    values = [float(row[key]) for key in ("yaw", "pitch", "roll")]
                except (TypeError, ValueError):
                    problems.report(csv_path, f"pose row {row.get('name')!r} has non-numeric angles")
                    continue
                if not all(math.isfinite(v) for v in values):
                    problems.report(csv_path, f"pose row {row.get('name')!r} has NaN/inf angles")
                    continue
                poses[Path(str(row["name"])).stem] = Pose(*values)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        problems.report(csv_path, f"cannot read pose table ({one_line(exc)})")
    return poses


def read_pose_json(json_path: Path, problems: Problems) -> dict[str, Pose]:
    """name stem -> Pose from a ``pose.json`` beside the .pts files (missing angles NaN)."""
    try:
        data = json.loads(json_path.read_bytes())
    except (OSError, ValueError, RecursionError) as exc:
        problems.report(json_path, f"not readable JSON ({one_line(exc)})")
        return {}
    if not isinstance(data, dict):
        problems.report(json_path, 'a pose table must be a JSON object {"<file stem>": {"yaw": deg, ...}}')
        return {}
    poses: dict[str, Pose] = {}
    for name, entry in data.items():
        values = [entry.get(k) if isinstance(entry, dict) else None for k in ("yaw", "pitch", "roll")]
        bad = [
            v
            for v in values
            if v is not None and not (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v))
        ]
        if not isinstance(entry, dict) or bad or all(v is None for v in values):
            problems.report(json_path, f"pose entry {one_line(name)!r} needs finite numbers under yaw/pitch/roll")
            continue
        poses[Path(str(name)).stem] = Pose(*(math.nan if v is None else float(v) for v in values))
    return poses


def _pose_table(folder: Path, problems: Problems) -> dict[str, Pose]:
    table: dict[str, Pose] = {}
    if (folder / POSES_FILE).is_file():
        table.update(read_poses(folder / POSES_FILE, problems))
    if (folder / POSE_JSON).is_file():
        table.update(read_pose_json(folder / POSE_JSON, problems))
    return table


def read(path: Path, problems: Problems) -> list[Item]:
    """Every ``.pts`` under ``path`` (a folder, searched recursively, or one file)."""
    root = path if path.is_dir() else path.parent
    files = sorted(path.rglob("*.pts")) if path.is_dir() else [path]
    pose_tables: dict[Path, dict[str, Pose]] = {}
    index = ImageIndex()
    items = []
    for file in files:
        folder = file.parent
        if folder not in pose_tables:
            pose_tables[folder] = _pose_table(folder, problems)
        try:
            raw = file.read_bytes()
            points = parse_pts(raw.decode("utf-8", errors="replace"), str(file)) - 1.0  # 1-based -> 0-based
        except DataError as exc:
            problems.report(file, str(exc).removeprefix(f"{file}: "))
            continue
        except OSError as exc:
            problems.report(file, f"cannot read ({one_line(exc)})")
            continue
        image = index.find(folder, file.stem) or folder / f"{file.stem}.jpg"  # missing: validate_images says so
        source = file.relative_to(root).with_suffix("").as_posix()
        record = FaceRecord(source=source, points=points, image=image, pose=pose_tables[folder].get(file.stem))
        items.append(Item(record, str(file)))
    return items
