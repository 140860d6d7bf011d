"""Small real-face clips for the video tests: a 300W photo filmed by a virtual camera (edgekp.bench.video_clips)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edgekp.bench.video_clips import Clip, ClipSpec, make_clip, write_clip

FACE = "300w/lfpw_train"  # faces neither the shipped model nor its presence head trained on


def real_face(shared_data: Path, index: int = 0) -> tuple[np.ndarray, np.ndarray]:
    from edgekp.data.images import load_image
    from edgekp.data.readers import read_dataset

    record = read_dataset(shared_data / FACE, format="pts").records[index]
    return load_image(record), np.asarray(record.points, np.float64)


def small_clip(
    shared_data: Path, still: int = 30, pan: int = 0, away: int = 0, shake: int = 0, seed: int = 0, index: int = 0
) -> Clip:
    photo, points = real_face(shared_data, index)
    spec = ClipSpec(size=160, still=still, pan=pan, away=away, shake=shake, face_px=64.0)
    return make_clip(photo, points, spec, seed)


def clip_file(clip: Clip, path: Path) -> Path:
    write_clip(clip, str(path))
    return path


def frame_folder(clip: Clip, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(clip.frames):
        cv2.imwrite(str(folder / f"frame{i:04d}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    return folder
