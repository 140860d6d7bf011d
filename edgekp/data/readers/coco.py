"""COCO-style face keypoint JSON as mmpose writes it (300W, 300W-LP, 300VW, WFLW, COFW, AFLW, LaPa).

``{"images": [{"id", "file_name", "width", "height"}], "annotations": [{"image_id", "id",
"keypoints": [x, y, v] * K, "bbox": [x, y, w, h]}]}``. ``file_name`` is relative to the JSON's
folder (or to an ``images/`` folder beside it or one level up, mmpose's layout). ``v`` follows COCO
and becomes ``FaceRecord.visibility``: 2 = visible, 1 = occluded with an estimated location (MERL-RAV:
hair, hand), 0 = no location (MERL-RAV: self-occluded; the file writes 0, 0, the record NaN). Any
other ``v`` is a data problem naming the file and annotation; a ``v = 0`` point with non-zero
coordinates is read as unlabelled and listed as a notice. Yaw labels win over estimates: an
annotation's ``aflw_yaw_deg`` (MERL-RAV) or ``yaw_deg``, with ``pitch_deg``/``roll_deg`` when present.
Images may be absent: records still load, pointing where the image would be.

A face's source id is ``<image stem>_<n>`` (n = 1, 2, ... within the image, by annotation id), the
300W naming, so ``FaceRecord.photo`` groups faces of one image.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from edgekp.data.readers.common import Item, Problems, one_line
from edgekp.data.records import FaceRecord, Pose
from edgekp.errors import DataError


def looks_like_coco(file: Path) -> bool:
    """Cheap sniff for format detection: a JSON object with images and annotations."""
    try:
        with file.open("rb") as handle:
            head = handle.read(1 << 16)
    except OSError:
        return False
    return b'"annotations"' in head or b'"images"' in head


def _image_path(folder: Path, name: str) -> Path:
    """Where the image is, or where it would be if it is absent."""
    for base in (folder, folder / "images", folder.parent / "images"):
        candidate = base / name
        if candidate.is_file():
            return candidate
    return folder / name


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


YAW_KEYS = ("aflw_yaw_deg", "yaw_deg")


def _pose(ann: dict[str, Any]) -> Pose | None:
    """The annotation's labelled angles (degrees); missing ones NaN, so they get estimated."""
    yaw = next((ann[k] for k in YAW_KEYS if _number(ann.get(k)) and math.isfinite(ann[k])), None)
    pitch, roll = (ann.get(k) for k in ("pitch_deg", "roll_deg"))
    angles = [float(v) if _number(v) and math.isfinite(v) else math.nan for v in (yaw, pitch, roll)]
    return None if all(math.isnan(a) for a in angles) else Pose(*angles)


def parse_coco(data: Any, file: Path, problems: Problems) -> list[Item]:
    """Records from a decoded COCO JSON document. DataError (naming ``file``) when its shape is wrong."""
    if not isinstance(data, dict):
        raise DataError(f"{file}: a COCO keypoint file must be a JSON object, got {type(data).__name__}")
    images, annotations = data.get("images"), data.get("annotations")
    if not isinstance(images, list) or not isinstance(annotations, list):
        raise DataError(f"{file}: a COCO keypoint file needs 'images' and 'annotations' lists")
    by_id: dict[Any, str] = {}
    for n, image in enumerate(images):
        if not isinstance(image, dict) or not isinstance(image.get("file_name"), str) or not image["file_name"]:
            problems.report(file, f"images[{n}] has no 'file_name'")
            continue
        image_id = image.get("id")
        if not isinstance(image_id, (int, str)) or isinstance(image_id, bool):
            problems.report(file, f"images[{n}] has no usable 'id'")
            continue
        by_id[image_id] = image["file_name"]

    per_image: dict[
        str, list[tuple[Any, np.ndarray, np.ndarray, tuple[float, float, float, float] | None, Pose | None]]
    ] = {}
    for n, ann in enumerate(annotations):
        where = f"annotations[{n}]"
        if not isinstance(ann, dict):
            problems.report(file, f"{where} is not an object")
            continue
        name = by_id.get(ann.get("image_id")) if isinstance(ann.get("image_id"), (int, str)) else None
        if name is None:
            problems.report(
                file, f"{where} refers to image_id {one_line(ann.get('image_id'))!r} that is not in 'images'"
            )
            continue
        flat = ann.get("keypoints")
        if not isinstance(flat, list) or not flat or len(flat) % 3 or not all(_number(v) for v in flat):
            problems.report(file, f"{where} ('{name}') needs 'keypoints' as a flat list of numbers [x, y, v] * K")
            continue
        try:
            triples = np.asarray(flat, dtype=np.float64).reshape(-1, 3)
        except OverflowError:  # JSON integers beyond float range
            problems.report(file, f"{where} ('{name}') has keypoint values out of range")
            continue
        v = triples[:, 2]
        bad_v = np.flatnonzero(~np.isin(v, (0, 1, 2)))
        if bad_v.size:
            problems.report(
                file,
                f"{where} ('{name}') has visibility v = {v[bad_v[0]]:g} at point {bad_v[0]}; "
                "COCO v must be 0 (no location), 1 (occluded) or 2 (visible)",
            )
            continue
        with np.errstate(over="ignore"):  # beyond float32: becomes inf, which the point check reports
            points = triples[:, :2].astype(np.float32)
        placed = np.flatnonzero((v == 0) & (triples[:, :2] != 0).any(axis=1))
        if placed.size:
            problems.notice(
                file,
                f"{where} ('{name}'): {placed.size} point(s) with v = 0 have non-zero coordinates "
                f"(first: point {placed[0]}); read as unlabelled",
            )
        box = ann.get("bbox")
        box_t = None
        if isinstance(box, list) and len(box) == 4 and all(_number(v) and math.isfinite(v) for v in box):
            box_t = (float(box[0]), float(box[1]), float(box[2]), float(box[3]))
        ann_id = ann.get("id") if _number(ann.get("id")) else n
        per_image.setdefault(name, []).append((ann_id, points, v.astype(np.uint8), box_t, _pose(ann)))

    items = []
    for name, faces in per_image.items():
        image = _image_path(file.parent, name)
        stem = Path(name).with_suffix("").as_posix()
        for k, (ann_id, points, vis, box, pose) in enumerate(sorted(faces, key=lambda f: f[0]), 1):
            record = FaceRecord(source=f"{stem}_{k}", points=points, image=image, visibility=vis, box=box, pose=pose)
            items.append(Item(record, f"{file} (annotation id {ann_id})"))
    return items


def read(path: Path, problems: Problems) -> list[Item]:
    files = sorted(f for f in path.glob("*.json") if looks_like_coco(f)) if path.is_dir() else [path]
    items = []
    for file in files:
        try:
            data = json.loads(file.read_bytes())
        except (OSError, ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            problems.report(file, f"not readable JSON ({one_line(exc)})")
            continue
        try:
            items.extend(parse_coco(data, file, problems))
        except DataError as exc:
            problems.report(file, str(exc).removeprefix(f"{file}: "))
    return items
