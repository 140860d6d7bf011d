"""dlib imglab XML: ``<dataset><images><image file=...><box top left width height><part name x y/>``.

Coordinates are 0-based pixels. Parts are ordered by their numeric name ('00'..'67'); boxes without
parts (detection-only files such as dlib's ``training.xml``) and boxes marked ``ignore='1'`` carry no
landmarks and are left out. Source ids are ``<image stem>_<n>`` so ``FaceRecord.photo`` groups faces.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from edgekp.data.readers.common import Item, Problems, one_line
from edgekp.data.records import FaceRecord
from edgekp.errors import DataError


def looks_like_dlib(file: Path) -> bool:
    try:
        with file.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return b"<dataset" in head


def _float(element: ET.Element, key: str, where: str) -> float:
    value = element.get(key)
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DataError(f"{where}: attribute {key}={one_line(value)!r} is not a number") from None


def parse_dlib(root: ET.Element, file: Path, problems: Problems) -> list[Item]:
    if root.tag != "dataset":
        raise DataError(f"{file}: not a dlib imglab file (root element <{root.tag}>, expected <dataset>)")
    items = []
    for image in root.iter("image"):
        name = image.get("file")
        if not name:
            problems.report(file, "an <image> has no 'file' attribute")
            continue
        path = file.parent / name
        stem = Path(name).with_suffix("").as_posix()
        n = 0
        for b, box in enumerate(image.findall("box")):
            parts = box.findall("part")
            if not parts or box.get("ignore") == "1":
                continue
            where = f"{file} ({name}, box {b})"
            try:
                named = [(p.get("name") or "", _float(p, "x", where), _float(p, "y", where)) for p in parts]
                box_t = tuple(_float(box, k, where) for k in ("left", "top", "width", "height"))
            except DataError as exc:
                problems.report(file, str(exc).removeprefix(f"{file} "))
                continue
            # isdigit() is also true for superscripts such as '²', which int() rejects; ASCII digits only.
            if all(label.isascii() and label.isdigit() for label, _, _ in named):
                named.sort(key=lambda part: int(part[0]))
            points = np.array([(x, y) for _, x, y in named], dtype=np.float32)
            n += 1
            record = FaceRecord(source=f"{stem}_{n}", points=points, image=path, box=box_t)  # type: ignore[arg-type]
            items.append(Item(record, where))
    return items


def read(path: Path, problems: Problems) -> list[Item]:
    files = sorted(f for f in path.glob("*.xml") if looks_like_dlib(f)) if path.is_dir() else [path]
    items = []
    for file in files:
        try:
            root = ET.parse(file).getroot()
            items.extend(parse_dlib(root, file, problems))
        except ET.ParseError as exc:
            problems.report(file, f"not well-formed XML ({one_line(exc)})")
        except OSError as exc:
            problems.report(file, f"cannot read ({one_line(exc)})")
        except DataError as exc:
            problems.report(file, str(exc).removeprefix(f"{file}: "))
    return items
