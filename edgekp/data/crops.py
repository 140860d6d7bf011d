"""Square face crops, and the preloaded crop set the trainer keeps in memory.

Coordinates: landmark points are 0-based pixel coordinates (pixel centres on integers).  A crop of
size S maps its box ``[x, x + w] x [y, y + h]`` onto the pixel edges ``[-0.5, S - 0.5]``, so
``Crop.matrix`` (2 x 3) sends image pixels to crop pixels.  Normalized coordinates, as the model
predicts them, are ``(crop_px + 0.5) / S``: 0 and 1 are the crop's outer edges.

Preloading decodes every face once at a fixed size (design.md: this kept decoding out of the
training loop); the result can be cached as an .npz keyed by a hash of the records, size and margin.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edgekp.data.records import FaceRecord
from edgekp.errors import DataError
from edgekp.logs import get_logger

log = get_logger(__name__)

CACHE_VERSION = (
    2  # bump when the crop geometry changes, so old caches are not reused (2: labelled-point box, visibility)
)


@dataclass(frozen=True)
class Crop:
    image: np.ndarray  # S x S x 3 uint8
    points: np.ndarray  # K x 2 float32, crop pixels
    matrix: np.ndarray  # 2 x 3 float64, image pixels -> crop pixels

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """Crop-pixel points back to the original image's pixels."""
        inv = cv2.invertAffineTransform(self.matrix)
        return np.asarray(points, np.float64) @ inv[:, :2].T + inv[:, 2]


def to_normalized(points_px: np.ndarray, size: int) -> np.ndarray:
    return ((np.asarray(points_px, np.float64) + 0.5) / size).astype(np.float32)


def to_pixels(points_norm: np.ndarray, size: int) -> np.ndarray:
    return np.asarray(points_norm, np.float64) * size - 0.5


def labelled_box(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) corners of the labelled points' box: NaN points (no location) are left out."""
    pts = np.asarray(points, np.float64)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if not len(pts):
        raise DataError("a face without any labelled point has no landmark box")
    return pts.min(axis=0), pts.max(axis=0)


def crop_box_from_points(points: np.ndarray, margin: float) -> tuple[float, float, float, float]:
    """Square (x, y, w, h) centred on the labelled points' box, side = its longer side * (1 + 2 * margin)."""
    lo, hi = labelled_box(points)
    side = float(max(hi - lo)) * (1.0 + 2.0 * margin)
    side = max(side, 1.0)  # a degenerate box (all points equal) still gives a valid crop
    cx, cy = (lo + hi) / 2.0
    return (float(cx - side / 2), float(cy - side / 2), side, side)


def _box_matrix(box: tuple[float, float, float, float], size: int) -> np.ndarray:
    x, y, w, h = box
    sx, sy = size / w, size / h
    return np.array([[sx, 0.0, -x * sx - 0.5], [0.0, sy, -y * sy - 0.5]])


def crop_face(
    image: np.ndarray,
    points: np.ndarray,
    size: int,
    box: tuple[float, float, float, float] | None = None,
    margin: float = 0.25,
    jitter: float = 0.0,
    rng: np.random.Generator | None = None,
    border: str = "constant",
) -> Crop:
    """Crop ``image`` (RGB uint8) to a size x size square from ``box`` (else the landmark box + margin).

    ``jitter`` shifts the box centre by up to that fraction of its side and scales it by up to
    1 +- jitter (training); ``border`` is "constant" (black, as the real datasets pad) or "replicate".
    """
    if box is None:
        box = crop_box_from_points(points, margin)
    if jitter > 0:
        rng = rng or np.random.default_rng()
        x, y, w, h = box
        dx, dy, ds = rng.uniform(-jitter, jitter, 3)
        nw, nh = w * (1 + ds), h * (1 + ds)
        box = (x + w / 2 + dx * w - nw / 2, y + h / 2 + dy * h - nh / 2, nw, nh)
    matrix = _box_matrix(box, size)
    src = image
    scale = matrix[0, 0]
    if scale < 0.5:
        # warpAffine's bilinear sampling aliases when shrinking a lot: shrink by area first, then warp.
        f = min(1.0, 2.0 * scale)
        small = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        fx, fy = small.shape[1] / image.shape[1], small.shape[0] / image.shape[0]
        # image pixel -> resized pixel: x_r = (x + 0.5) * fx - 0.5; fold its inverse into the warp.
        to_small = np.array([[fx, 0, 0.5 * fx - 0.5], [0, fy, 0.5 * fy - 0.5], [0, 0, 1]])
        warp = (np.vstack([matrix, [0, 0, 1]]) @ np.linalg.inv(to_small))[:2]
        src = small
    else:
        warp = matrix
    mode = cv2.BORDER_REPLICATE if border == "replicate" else cv2.BORDER_CONSTANT
    out = cv2.warpAffine(src, warp, (size, size), flags=cv2.INTER_LINEAR, borderMode=mode, borderValue=(0, 0, 0))
    pts = np.asarray(points, np.float64) @ matrix[:, :2].T + matrix[:, 2]
    return Crop(image=out, points=pts.astype(np.float32), matrix=matrix)


def _default_load(record: FaceRecord) -> np.ndarray:
    try:
        from edgekp.data.images import load_image  # the readers' decoder, when present
    except ImportError:
        load_image = None
    if load_image is not None:
        return load_image(record)
    if record.array is not None:
        return record.array
    if record.image is None:
        raise DataError(f"face {record.source!r} has neither an image path nor pixels")
    bgr = cv2.imread(str(record.image), cv2.IMREAD_COLOR)
    if bgr is None:
        raise DataError(f"cannot decode image {str(record.image)!r}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


@dataclass(frozen=True)
class CropSet:
    """Every face cropped once: images N x S x S x 3 uint8, points N x K x 2 in [0, 1] of the crop."""

    images: np.ndarray
    points: np.ndarray  # NaN where a point has no location (visibility 0)
    poses: np.ndarray  # N x 3 [yaw, pitch, roll] degrees: labels where present, else estimated (NaN if K != 68)
    sources: list[str]
    photos: list[str]
    size: int
    margin: float
    visibility: np.ndarray | None = None  # N x K uint8 (edgekp.data.records: 0 none, 1 occluded, 2 visible)
    pose_labelled: np.ndarray | None = None  # N x 3 bool: the angle is the dataset's label, not an estimate

    def __len__(self) -> int:
        return len(self.images)

    def save(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(
            tmp,
            images=self.images,
            points=self.points,
            poses=self.poses,
            sources=np.array(self.sources),
            photos=np.array(self.photos),
            size=self.size,
            margin=self.margin,
            visibility=self.vis(),
            pose_labelled=self.labelled_angles(),
        )
        tmp.replace(path)  # atomic: a killed run never leaves half a cache

    @classmethod
    def load(cls, path: Path) -> CropSet:
        with np.load(Path(path)) as z:
            return cls(
                z["images"],
                z["points"],
                z["poses"],
                [str(s) for s in z["sources"]],
                [str(s) for s in z["photos"]],
                int(z["size"]),
                float(z["margin"]),
                z.get("visibility"),
                z.get("pose_labelled"),
            )

    def vis(self) -> np.ndarray:
        """N x K uint8 visibility (every labelled point visible when the set carries none)."""
        if self.visibility is not None:
            return self.visibility
        return np.where(np.isfinite(self.points).all(axis=-1), 2, 0).astype(np.uint8)

    def labelled_angles(self) -> np.ndarray:
        return self.pose_labelled if self.pose_labelled is not None else np.zeros(self.poses.shape, bool)


def cache_key(records: Sequence[FaceRecord], size: int, margin: float) -> str:
    """Hash of what determines the crops: each face's source, image, points, visibility, pose; size, margin, version."""
    h = hashlib.sha256(f"v{CACHE_VERSION}|{size}|{margin!r}".encode())
    for r in records:
        h.update(f"{r.source}|{r.image}|{r.pose}|".encode())
        h.update(np.ascontiguousarray(r.points, np.float32).tobytes())
        if r.visibility is not None:
            h.update(np.ascontiguousarray(r.visibility, np.uint8).tobytes())
        if r.array is not None:
            h.update(hashlib.sha256(np.ascontiguousarray(r.array).tobytes()).digest())
    return h.hexdigest()[:20]


def _poses(records: Sequence[FaceRecord]) -> tuple[np.ndarray, np.ndarray]:
    from edgekp.data.pose import record_poses_with_source

    poses, labelled = record_poses_with_source(records)
    if np.isnan(poses).any():
        log.warning(
            "%d faces have no pose label and %d points: pose unknown (NaN)",
            int(np.isnan(poses[:, 0]).sum()),
            records[0].points.shape[0],
        )
    return poses, labelled


def preload_crops(
    records: Sequence[FaceRecord],
    size: int,
    margin: float = 0.25,
    load: Callable[[FaceRecord], np.ndarray] | None = None,
    workers: int = 2,
    cache_dir: Path | None = None,
) -> CropSet:
    """Decode and crop every face once, the box from its labelled landmarks + margin (the training
    geometry everywhere; a record's own ``box``, a detector's or the dataset's, is not used here).

    With ``cache_dir`` the set is read from / written to ``cache_dir/crops-<key>.npz``.
    """
    key = cache_key(records, size, margin) if cache_dir is not None else ""
    cache_file = Path(cache_dir) / f"crops-{key}.npz" if cache_dir is not None else None
    if cache_file is not None and cache_file.exists():
        log.info("crops: %d faces from cache %s", len(records), cache_file)
        return CropSet.load(cache_file)
    if not records:
        raise DataError("no faces to crop: the record list is empty")
    load = load or _default_load
    k = records[0].points.shape[0]
    images = np.empty((len(records), size, size, 3), np.uint8)
    points = np.empty((len(records), k, 2), np.float32)

    def one(i: int) -> None:
        r = records[i]
        crop = crop_face(load(r), r.points, size, margin=margin)
        images[i] = crop.image
        points[i] = to_normalized(crop.points, size)

    # cv2 decoding and warping release the GIL, so threads give real parallelism here.
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(one, range(len(records))))
    from edgekp.data.records import visibility_of

    poses, labelled = _poses(records)
    visibility = np.stack([visibility_of(r) for r in records]).astype(np.uint8)
    crops = CropSet(
        images,
        points,
        poses,
        [r.source for r in records],
        [r.photo for r in records],
        size,
        margin,
        visibility,
        labelled,
    )
    if cache_file is not None:
        crops.save(cache_file)
        log.info("crops: cached %d faces at %s", len(records), cache_file)
    return crops
