"""Decoding face images, and checking them: missing, unreadable or truncated files are a DataError.

``load_image`` is the fast path for training (OpenCV decode plus a JPEG end-marker check, because
OpenCV silently returns a grey-filled image for a truncated JPEG). ``check_image`` is the thorough
path for ``validate_images`` and ``edgekp data inspect`` (Pillow's full decode raises on truncation).
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import cv2
import numpy as np

from edgekp.data.readers import Dataset
from edgekp.data.readers.common import Problems, one_line
from edgekp.data.records import FaceRecord
from edgekp.errors import DataError
from edgekp.logs import progress

_JPEG_START = b"\xff\xd8"
_JPEG_END = b"\xff\xd9"


def _jpeg_truncated(data: bytes) -> bool:
    """A JPEG ends with the EOI marker; only padding may follow it. Entropy-coded data byte-stuffs
    0xFF, so FF D9 in the tail is the real marker."""
    return data[:2] == _JPEG_START and _JPEG_END not in data[-4096:]


def load_image(record: FaceRecord) -> np.ndarray:
    """The face's image as RGB uint8 (H x W x 3). DataError naming the file if it cannot be used."""
    if record.array is not None:
        return record.array
    if record.image is None:
        raise DataError(f"{record.source}: the record has neither an image path nor an image array")
    path = Path(record.image)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: image not found (annotation {record.source})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read image ({one_line(exc)})") from None
    if _jpeg_truncated(data):
        raise DataError(f"{path}: truncated JPEG (no end-of-image marker)")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise DataError(f"{path}: not a decodable image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def check_image(path: Path) -> tuple[int, int]:
    """Fully decode the image and return (width, height). DataError naming the file otherwise."""
    from PIL import Image, UnidentifiedImageError

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: image not found") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read image ({one_line(exc)})") from None
    try:
        with Image.open(io.BytesIO(data)) as image:
            size = image.size
            image.load()  # raises OSError "image file is truncated" on a cut-off file
    except UnidentifiedImageError:
        raise DataError(f"{path}: not a readable image") from None
    except (OSError, ValueError, SyntaxError) as exc:  # Pillow raises SyntaxError for some broken headers
        raise DataError(f"{path}: unreadable or truncated image ({one_line(exc)})") from None
    if _jpeg_truncated(data):  # belt and braces: Pillow tolerates a few missing bytes
        raise DataError(f"{path}: truncated JPEG (no end-of-image marker)")
    return int(size[0]), int(size[1])


def validate_images(dataset: Dataset, *, skip_bad: bool = False) -> Dataset:
    """Decode every distinct image once. Returns the dataset without faces whose image is bad (their
    files added to ``skipped``); without ``skip_bad`` the first bad image is a DataError."""
    problems = Problems(skip_bad=skip_bad, skipped=list(dataset.skipped))
    verdict: dict[Path, bool] = {}
    good = []
    for record in progress(dataset.records, "checking images", total=len(dataset.records)):
        if record.array is not None:
            good.append(record)
            continue
        path = Path(record.image) if record.image is not None else None
        if path is None:
            problems.report(record.source, "no image path")
            continue
        if path not in verdict:
            try:
                check_image(path)
                verdict[path] = True
            except DataError as exc:
                verdict[path] = False
                problems.report(path, str(exc).removeprefix(f"{path}: "))
        if verdict[path]:
            good.append(record)
    return dataclasses.replace(dataset, records=good, skipped=problems.skipped)
