"""Test clips with exact ground truth: a real photo in a scene, filmed by a moving virtual camera.

The photo (a 300W crop: the face at its centre, half its side) is pasted, feathered, into a face-free
scene texture; each frame is a similarity view (centre, scale, roll) of that scene, so every frame's
68 points are the photo's labelled points under a known transform. Four phases, 30 fps:

- ``still``: the phone on a stand (only sensor noise changes);
- ``pan``: a smooth pan with a turn (roll) and a slow zoom;
- ``away``: the camera points elsewhere, the face out of the picture; it then comes back;
- ``shake``: hand-held: drift, shake, rotation and zoom jitter.

Sensor noise (Gaussian, per pixel, per frame) runs throughout.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

PHASES = ("still", "pan", "away", "shake")


@dataclass(frozen=True)
class ClipSpec:
    size: int = 320
    fps: float = 30.0
    still: int = 20
    pan: int = 25
    away: int = 15
    shake: int = 30
    face_px: float = 120.0  # the landmark box's longer side at the start, in frame pixels
    noise: float = 4.0  # sensor noise sigma, grey levels
    shake_scale: float = 1.0  # hand-held shake amplitude (1: about 3 px of frame-to-frame motion at 320 px)

    @property
    def frames(self) -> int:
        return self.still + self.pan + self.away + self.shake


@dataclass(frozen=True)
class Clip:
    frames: np.ndarray  # T x S x S x 3 uint8 RGB
    points: np.ndarray  # T x K x 2 ground truth, frame pixels
    in_view: np.ndarray  # T bool: every labelled point inside the frame
    phase: list[str]  # T phase names
    fps: float
    name: str


def scene_texture(side: int, rng: np.random.Generator) -> np.ndarray:
    """A face-free backdrop: smooth colour fields, a few flat shapes (furniture, frames), fine grain."""
    low = rng.uniform(40, 210, (6, 6, 3)).astype(np.float32)
    scene = cv2.resize(low, (side, side), interpolation=cv2.INTER_CUBIC)
    for _ in range(14):
        x0, y0 = rng.integers(0, side, 2)
        w, h = rng.integers(side // 20, side // 5, 2)
        colour = tuple(float(c) for c in rng.uniform(20, 235, 3))
        cv2.rectangle(scene, (int(x0), int(y0)), (int(x0 + w), int(y0 + h)), colour, -1)
    scene = cv2.GaussianBlur(scene, (0, 0), 2.0) + rng.normal(0, 3, scene.shape).astype(np.float32)
    return np.clip(scene, 0, 255).astype(np.uint8)


def paste_photo(
    scene: np.ndarray,
    photo: np.ndarray,
    points: np.ndarray,
    scale: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The photo scaled by ``scale`` and feathered into the scene's centre; (scene, points in the scene)."""
    side = scene.shape[0]
    h, w = photo.shape[:2]
    offset = np.array([side / 2 - w * scale / 2, side / 2 - h * scale / 2])
    matrix = np.array([[scale, 0, offset[0]], [0, scale, offset[1]]])
    warped = cv2.warpAffine(photo, matrix, (side, side), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    # The 300W crops are padded black where they left the original photo: that is not part of the scene.
    content = (photo.max(axis=2) > 8).astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    ellipse = np.clip(1.6 - 1.6 * np.hypot((xx - w / 2) / (0.5 * w), (yy - h / 2) / (0.5 * h)), 0, 1)
    alpha = cv2.GaussianBlur(content * ellipse, (0, 0), max(1.0, 0.02 * w))
    alpha = cv2.warpAffine(alpha, matrix, (side, side))[..., None]
    out = scene.astype(np.float32) * (1 - alpha) + warped.astype(np.float32) * alpha
    return np.clip(out, 0, 255).astype(np.uint8), points * scale + offset


def _camera(spec: ClipSpec, rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    """T x 4 camera poses (centre x, y offset from the face in frame pixels at the start scale, zoom, roll degrees)."""
    poses, phases = [], []
    for _ in range(spec.still):
        poses.append((0.0, 0.0, 1.0, 0.0))
        phases.append("still")
    direction = rng.choice([-1.0, 1.0], 2)
    for i in range(spec.pan):
        s = 0.5 - 0.5 * np.cos(np.pi * (i + 1) / spec.pan)  # eased: starts and ends slowly
        poses.append((direction[0] * 45 * s, direction[1] * 20 * s, 1.0 + 0.15 * s, direction[0] * 15 * s))
        phases.append("pan")
    last = poses[-1]
    away_dx = 2.5 * spec.size * rng.choice([-1.0, 1.0])
    for _ in range(spec.away):
        poses.append((last[0] + away_dx, last[1], last[2], last[3]))
        phases.append("away")
    drift = np.array(last[:2], np.float64)
    k = spec.shake_scale * spec.size / 320  # amplitudes are for a 320 px frame
    for i in range(spec.shake):
        drift += rng.normal(0, 1.0 * k, 2)
        shake = rng.normal(0, 1.2 * k, 2)
        zoom = last[2] * (1 + spec.shake_scale * (0.04 * np.sin(2 * np.pi * i / 20) + rng.normal(0, 0.005)))
        roll = last[3] + spec.shake_scale * (3 * np.sin(2 * np.pi * i / 25) + rng.normal(0, 0.5))
        poses.append((drift[0] + shake[0], drift[1] + shake[1], zoom, roll))
        phases.append("shake")
    return np.array(poses, np.float64), phases


def make_clip(photo: np.ndarray, points: np.ndarray, spec: ClipSpec, seed: int, name: str = "clip") -> Clip:
    """A clip of ``spec`` from one photo and its labelled points (K x 2 photo pixels)."""
    rng = np.random.default_rng(seed)
    finite = points[np.isfinite(points).all(axis=1)]
    face_side = float((finite.max(0) - finite.min(0)).max())
    scene_side = 4 * spec.size
    scene = scene_texture(scene_side, rng)
    # Paste so the face is ``face_px`` in the scene at camera zoom 1.
    scene, scene_points = paste_photo(scene, photo, points, spec.face_px / face_side)
    centre = (finite.min(0) + finite.max(0)) / 2 * (spec.face_px / face_side) + (
        np.array([scene_side / 2, scene_side / 2]) - np.array(photo.shape[1::-1]) * (spec.face_px / face_side) / 2
    )
    poses, phases = _camera(spec, rng)
    frames = np.empty((len(poses), spec.size, spec.size, 3), np.uint8)
    gt = np.empty((len(poses), len(points), 2), np.float64)
    for t, (dx, dy, zoom, roll) in enumerate(poses):
        # scene -> frame: rotate and zoom about the look-at point, which lands on the frame centre
        look = centre + np.array([dx, dy])
        m = cv2.getRotationMatrix2D((float(look[0]), float(look[1])), float(roll), float(zoom))
        m[:, 2] += np.array([spec.size / 2, spec.size / 2]) - look
        frame = cv2.warpAffine(scene, m, (spec.size, spec.size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        noisy = frame.astype(np.float32) + rng.normal(0, spec.noise, frame.shape).astype(np.float32)
        frames[t] = np.clip(noisy, 0, 255).astype(np.uint8)
        gt[t] = scene_points @ m[:, :2].T + m[:, 2]
    labelled = np.isfinite(gt[0]).all(axis=1)
    inside = ((gt[:, labelled] >= 0) & (gt[:, labelled] <= spec.size - 1)).all(axis=(1, 2))
    return Clip(frames, gt, inside, phases, spec.fps, name)


def write_clip(clip: Clip, path: str) -> None:
    """The clip as a video file (mp4v: what OpenCV writes everywhere)."""
    h, w = clip.frames.shape[1:3]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), clip.fps, (w, h))
    try:
        for frame in clip.frames:
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()


FACE_SETS = ("holdout", "lfpw")


def holdout_clips(root: Path, n: int, seed: int, spec: ClipSpec, face_set: str = "holdout") -> list[Clip]:
    """Clips of ``n`` faces at least 80 px in their photo: the shipped model's held-out 300W faces (HELEN
    train and AFW; the benchmark's validation clips), or ``"lfpw"``: 300W LFPW train, which the landmark
    model never saw either (a second check of what was tuned on the first)."""
    from edgekp.bench.holdout import holdout_of_run
    from edgekp.data.images import load_image
    from edgekp.data.readers import read_dataset

    if face_set not in FACE_SETS:
        raise ValueError(f"face set {face_set!r}: one of {FACE_SETS}")
    faces = []
    if face_set == "lfpw":
        faces = list(read_dataset(root / "300w/lfpw_train", format="pts").records)
    else:
        holdout = holdout_of_run(None)
        for sub in ("300w/helen_train", "300w/afw"):
            keep = set(holdout.get(sub, []))
            faces += [r for r in read_dataset(root / sub, format="pts").records if r.source in keep]
    faces = [r for r in faces if float(np.ptp(r.points, axis=0).max()) >= 80]
    pick = np.random.default_rng(seed).choice(len(faces), min(n, len(faces)), replace=False)
    return [
        make_clip(load_image(faces[j]), np.asarray(faces[j].points, np.float64), spec, seed + i, faces[j].source)
        for i, j in enumerate(sorted(pick))
    ]
