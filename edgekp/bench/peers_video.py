"""MediaPipe Face Mesh as a video peer: the legacy solution in tracking mode, on the benchmark's clips.

MediaPipe's tracking (detector, landmark-driven crops, its own landmark smoothing) is the ``mediapipe``
Python package's calculator graph, not a model file, so this peer needs the package itself. It is
obtained on explicit request only (``benchmarks/video_stability.py --mediapipe``), the way the other
peers are (edgekp.bench.peers): ``pip install --target <peers cache>/mediapipe-pkg``, never into
edgekp's environment. mediapipe 0.10.21 pins numpy<2 and protobuf<5, which edgekp's environment does
not satisfy, so those go into the same folder; the worker (edgekp.bench.mediapipe_worker) runs in a
subprocess with that folder first on PYTHONPATH and sees its own versions. Its other requirements
(jax, sentencepiece, sounddevice, opencv-contrib, matplotlib) serve other solutions or drawing and are
left out; OpenCV and matplotlib come from edgekp's environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgekp.bench.peers import MEDIAPIPE_SPEC, MESH_TO_68, PeerUnavailable, _pip, default_cache

# The Face Mesh solution's own runtime needs, at versions its wheel accepts (see the module doc).
MEDIAPIPE_RUNTIME = (
    MEDIAPIPE_SPEC,
    "numpy>=1.24,<2",
    "protobuf>=4.25.3,<5",
    "absl-py",
    "attrs>=19.1.0",
    "flatbuffers>=2.0",
)
CORNER_ORDER = tuple(sorted(MESH_TO_68.values()))  # iBUG indices of the worker's six points, in its output order


def solution_dir(cache: Path) -> Path:
    return cache / "mediapipe-pkg"


def installed(cache: Path) -> bool:
    return (solution_dir(cache) / "mediapipe" / "python" / "solutions" / "face_mesh.py").is_file()


def obtain_solution(cache: Path, allow_install: bool) -> Path:
    """The --target folder holding mediapipe and its pinned runtime; installed only if ``allow_install``."""
    site = solution_dir(cache)
    if installed(cache):
        return site
    if not allow_install:
        raise PeerUnavailable(
            f"the mediapipe package is not in {site} (run with --mediapipe to pip-install "
            f"{MEDIAPIPE_SPEC} there; it is never installed into edgekp's environment)"
        )
    cache.mkdir(parents=True, exist_ok=True)
    _pip(["install", "--no-deps", "--only-binary", ":all:", "--target", str(site), *MEDIAPIPE_RUNTIME], MEDIAPIPE_SPEC)
    if not installed(cache):
        raise PeerUnavailable(f"pip installed {MEDIAPIPE_SPEC} into {site}, but it holds no Face Mesh solution")
    return site


@dataclass
class VideoPeerRun:
    points: list[np.ndarray]  # per clip: T x 6 x 2 image pixels (NaN: no face), CORNER_ORDER's points
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    frames: int = 0
    versions: dict[str, str] = field(default_factory=dict)


def worker_env(site: Path) -> dict[str, str]:
    """The environment of the worker: the private folder first, so its numpy and protobuf win."""
    path = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    # One thread wherever a library would start its own pool; GLOG quiets MediaPipe's C++ logging.
    return dict(os.environ, PYTHONPATH=path, OMP_NUM_THREADS="1", GLOG_minloglevel="2", TF_CPP_MIN_LOG_LEVEL="2")


def read_worker_output(folder: Path, clips: int) -> VideoPeerRun:
    """What the worker wrote: one points file per clip and the timing (see edgekp.bench.mediapipe_worker)."""
    timing = json.loads((folder / "timing.json").read_text())
    if len(timing["clips"]) != clips:
        raise PeerUnavailable(f"the MediaPipe worker reported {len(timing['clips'])} clips for {clips}")
    run = VideoPeerRun([], versions={"mediapipe": timing.get("mediapipe", "?"), "numpy": timing.get("numpy", "?")})
    for i, t in enumerate(timing["clips"]):
        points = np.load(folder / f"clip{i:02d}.npy")
        if points.shape != (t["frames"], len(CORNER_ORDER), 2):
            raise PeerUnavailable(f"clip {i}: MediaPipe points of shape {points.shape} for {t['frames']} frames")
        run.points.append(points)
        run.seconds += t["seconds"]
        run.cpu_seconds += t["cpu_seconds"]
        run.frames += t["frames"]
    return run


def run_face_mesh(
    clips: list[Path], cache: Path | None = None, allow_install: bool = False, timeout: float = 1800
) -> VideoPeerRun:
    """MediaPipe Face Mesh (tracking mode, one face, no iris refinement) on each clip file, in a
    subprocess pinned to one core. Raises PeerUnavailable with the reason when it cannot run."""
    site = obtain_solution(cache or default_cache(), allow_install)
    cpu = min(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    with tempfile.TemporaryDirectory() as tmp:
        settings = {"clips": [str(p) for p in clips], "out": tmp, "mesh_to_68": MESH_TO_68, "cpu": cpu}
        cmd = [sys.executable, "-m", "edgekp.bench.mediapipe_worker", json.dumps(settings)]
        try:
            done = subprocess.run(
                cmd, env=worker_env(site), capture_output=True, text=True, timeout=timeout, check=False
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise PeerUnavailable(f"the MediaPipe worker did not run: {exc}") from None
        if done.returncode != 0:
            tail = [line for line in done.stderr.strip().splitlines() if line.strip()]
            raise PeerUnavailable(
                f"the MediaPipe worker failed: {tail[-1][:300] if tail else 'exit ' + str(done.returncode)}"
            )
        return read_worker_output(Path(tmp), len(clips))


def as_68(corners: np.ndarray, k: int = 68) -> np.ndarray:
    """T x 6 x 2 corners (CORNER_ORDER) into T x K x 2 with every other point NaN, or None per frame
    without a face: the shape edgekp.bench.video_metrics scores (its six-corner columns only)."""
    out = np.full((len(corners), k, 2), np.nan)
    out[:, list(CORNER_ORDER)] = corners
    return out


def face_mesh_results(clips: list, paths: list[Path], cache: Path | None = None, allow_install: bool = False) -> dict:
    """The benchmark's figures for MediaPipe Face Mesh on ``clips`` (edgekp.bench.video_clips.Clip,
    written to ``paths``): six-corner NME and jitter overall and per phase, missed / false /
    re-acquire, frames/s in its own process. Never a number it did not measure: where it cannot run,
    {"status": "unavailable", "reason": ...}."""
    from edgekp.bench.video_clips import PHASES
    from edgekp.bench.video_metrics import merge, score_clip, summarize

    try:
        run = run_face_mesh(paths, cache, allow_install)
    except PeerUnavailable as exc:
        return {"status": "unavailable", "reason": str(exc)}
    scores = []
    for clip, points in zip(clips, run.points, strict=True):
        if len(points) != len(clip.frames):
            return {
                "status": "unavailable",
                "reason": f"{clip.name}: MediaPipe decoded {len(points)} frames of {len(clip.frames)}",
            }
        full = as_68(points, clip.points.shape[1])
        scores.append(score_clip(clip, [None if np.isnan(p).all() else p for p in full]))
    merged = merge(scores)

    def six_only(summary: dict) -> dict:  # the mesh has no 68-point counterpart: no 68-point figure
        return summary | {"nme68": None, "jitter68": None}

    return {
        "status": "ok",
        "overall": six_only(summarize(merged)),
        "phases": {p: six_only(summarize(merged, p)) for p in PHASES},
        "fps": round(run.frames / run.seconds, 1),
        "fps_cpu": round(run.frames / run.cpu_seconds, 1),
        "versions": run.versions,
    }
