"""AFLW2000-3D in its original form: ``imageNNNNN.jpg`` + ``imageNNNNN.mat``.

The ``.mat`` holds ``pt3d_68`` (3 x 68: x, y, z; we keep x, y as the 2D landmarks) and ``Pose_Para``
(1 x 7: pitch, yaw, roll in radians, then translation and scale). Yaw equals the yaw of the 2,000-label
``AFLW2000-3D.pose.npy`` (degrees) exactly, sign included, so the labelled pose is used as is.
Coordinates are kept as the dataset stores them (the usual AFLW2000-3D evaluation convention).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgekp.data.readers.common import ImageIndex, Item, Problems, as_points, one_line
from edgekp.data.records import FaceRecord, Pose
from edgekp.errors import DataError


def parse_mat(file: Path) -> tuple[np.ndarray, Pose | None]:
    """(68 x 2 landmarks, labelled pose or None). DataError naming the file on anything unusable."""
    import scipy.io  # lazy: only AFLW2000 needs it

    try:
        mat = scipy.io.loadmat(str(file), variable_names=["pt3d_68", "Pose_Para"])
    except Exception as exc:  # scipy raises many types (ValueError, TypeError, MatReadError, ...) on bad files
        raise DataError(f"{file}: not a readable MATLAB file ({one_line(exc)})") from None
    if "pt3d_68" not in mat:
        raise DataError(f"{file}: no 'pt3d_68' landmarks in this .mat (is it an AFLW2000-3D file?)")
    raw = np.asarray(mat["pt3d_68"])
    if raw.ndim != 2 or raw.shape[0] not in (2, 3):
        raise DataError(f"{file}: 'pt3d_68' must be 3 x K (x, y, z rows), got shape {raw.shape}")
    points = as_points(raw[:2].T, str(file))
    pose = None
    if "Pose_Para" in mat:
        para = np.asarray(mat["Pose_Para"], dtype=np.float64).ravel()
        with np.errstate(over="ignore"):  # a huge radian value overflows to inf here, then counts as no pose
            angles = np.degrees(para[:3]) if para.size >= 3 else np.array([np.nan])
        if np.isfinite(angles).all() and angles.size == 3:
            pitch, yaw, roll = angles
            pose = Pose(yaw=float(yaw), pitch=float(pitch), roll=float(roll))
    return points, pose


def read(path: Path, problems: Problems) -> list[Item]:
    root = path if path.is_dir() else path.parent
    files = sorted(path.rglob("*.mat")) if path.is_dir() else [path]
    index = ImageIndex()
    items = []
    for file in files:
        try:
            points, pose = parse_mat(file)
        except DataError as exc:
            problems.report(file, str(exc).removeprefix(f"{file}: "))
            continue
        image = index.find(file.parent, file.stem) or file.with_suffix(".jpg")
        source = file.relative_to(root).with_suffix("").as_posix()
        items.append(Item(FaceRecord(source=source, points=points, image=image, pose=pose), str(file)))
    return items
