"""Runs MediaPipe Face Mesh (the legacy solution, tracking mode) on video clips in its own process.

    python -m edgekp.bench.mediapipe_worker SETTINGS_JSON

SETTINGS_JSON: {"clips": [paths], "out": folder, "mesh_to_68": {mesh index: iBUG index}, "cpu": n or null}.
Out: ``<out>/clip<i>.npy`` (T x 6 x 2 image pixels in edgekp's convention, NaN on a frame without a
face; the points in the order of ``mesh_to_68``'s iBUG indices, sorted) and ``<out>/timing.json``.

The ``mediapipe`` package lives in a private ``--target`` folder (with the numpy and protobuf it
pins, which edgekp's environment does not satisfy) put first on PYTHONPATH by
edgekp.bench.peers_video, so it never enters edgekp's environment. This module therefore imports
nothing from edgekp: only numpy, OpenCV (to decode the clips, as edgekp's own path does) and mediapipe.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def corners_from_mesh(
    mesh_xy: Sequence[Sequence[float]] | None, width: int, height: int, mesh_to_68: dict[int, int]
) -> np.ndarray:
    """The mapped mesh points of one face, in image pixels, ordered by their iBUG index.

    ``mesh_xy``: MediaPipe's normalized landmarks (x, y in [0, 1] of the image's width and height),
    468 or more of them, or None (no face: all NaN). MediaPipe's normalized coordinates span the
    image's edges (0 = the left edge of pixel 0), edgekp's pixels are centred on integers, hence - 0.5.
    """
    order = sorted(mesh_to_68.items(), key=lambda kv: kv[1])
    if mesh_xy is None:
        return np.full((len(order), 2), np.nan)
    mesh = np.asarray(mesh_xy, np.float64)
    if mesh.ndim != 2 or mesh.shape[1] < 2 or len(mesh) <= max(mesh_to_68):
        raise ValueError(f"a face mesh of shape {mesh.shape} has no point {max(mesh_to_68)}")
    picked = mesh[[src for src, _ in order], :2]
    return picked * np.array([width, height], np.float64) - 0.5


def _read(path: str) -> list[np.ndarray]:
    import cv2

    capture = cv2.VideoCapture(path)
    frames = []
    try:
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            frames.append(bgr)
    finally:
        capture.release()
    return frames


def run_clip(face_mesh: object, path: str, mesh_to_68: dict[int, int]) -> tuple[np.ndarray, float, float, int]:
    """(T x 6 x 2 points, wall seconds, CPU seconds, frames) for decode + Face Mesh on every frame."""
    import cv2

    out = []
    start, cpu = time.perf_counter(), time.process_time()
    for bgr in _read(path):
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        result = face_mesh.process(rgb)  # type: ignore[attr-defined]
        faces = result.multi_face_landmarks
        mesh = [(p.x, p.y) for p in faces[0].landmark] if faces else None
        out.append(corners_from_mesh(mesh, rgb.shape[1], rgb.shape[0], mesh_to_68))
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return np.stack(out), wall, cpu, len(out)


def main(argv: list[str]) -> int:
    settings = json.loads(argv[0])
    if settings.get("cpu") is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(settings["cpu"])})  # one core, as edgekp's one thread
    # mediapipe imports TensorFlow only if it is there, for its API docs; edgekp's environment has a
    # TensorFlow built for protobuf 5, which fails against this folder's protobuf 4. Hide it.
    sys.modules["tensorflow"] = None  # type: ignore[assignment]
    import cv2
    import mediapipe as mp

    cv2.setNumThreads(1)
    mapping = {int(k): int(v) for k, v in settings["mesh_to_68"].items()}
    out = Path(settings["out"])
    timing = {"clips": [], "mediapipe": getattr(mp, "__version__", "unknown"), "numpy": np.__version__}
    for i, path in enumerate(settings["clips"]):
        # A fresh solution per clip: tracking state never carries from one clip into the next.
        with mp.solutions.face_mesh.FaceMesh(
            static_image_mode=False,
            max_num_faces=1,
            refine_landmarks=False,
            min_detection_confidence=0.5,
            min_tracking_confidence=0.5,
        ) as face_mesh:
            points, wall, cpu, frames = run_clip(face_mesh, path, mapping)
        np.save(out / f"clip{i:02d}.npy", points)
        timing["clips"].append({"frames": frames, "seconds": wall, "cpu_seconds": cpu})
    (out / "timing.json").write_text(json.dumps(timing))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
