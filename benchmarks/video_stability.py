"""Video stability of `edgekp predict` on clips made from held-out real photos, with exact ground truth.

    OMP_NUM_THREADS=1 python benchmarks/video_stability.py --data-root ../shared/data

Each clip (edgekp.bench.video_clips): 320 x 320, 30 fps, 90 frames, sensor noise, phases still /
pan+turn / away (15 frames) / hand-held shake, made from one of the shipped model's held-out 300W
photos. Every configuration runs each clip through the same code as `edgekp predict VIDEO`
(decode, track, landmarks, filter, JSON line), at 1 thread; frames/s leaves process start-up, model
load and the one-time ONNX export out. MediaPipe Face Mesh is compared only when it runs offline here.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from edgekp.bench.holdout import holdout_of_run
from edgekp.bench.video_clips import PHASES, ClipSpec, make_clip, write_clip
from edgekp.bench.video_metrics import merge, score_clip, summarize
from edgekp.config.video import SmoothingConfig, TrackingConfig, VideoConfig
from edgekp.data.images import load_image
from edgekp.data.readers import read_dataset
from edgekp.host import host_info
from edgekp.inference.detectors import DetectorChoice, video_detector
from edgekp.inference.runtime import load_runtime
from edgekp.inference.tracker import FaceTracker
from edgekp.inference.video import run_source
from edgekp.inference.video_io import probe

CONFIGS = {
    "per-frame (today: detect + 3 passes)": VideoConfig(tracking=TrackingConfig(enabled=False, refine_detected=2),
                                                         smoothing=SmoothingConfig(enabled=False)),
    "per-frame + filter": VideoConfig(tracking=TrackingConfig(enabled=False, refine_detected=2)),
    "tracking, no filter": VideoConfig(smoothing=SmoothingConfig(enabled=False)),
    "tracking + filter (default)": VideoConfig(),
    "tracking + filter, 2 passes/tracked frame": VideoConfig(tracking=TrackingConfig(refine_tracked=1)),
    "tracking + filter, no motion model": VideoConfig(tracking=TrackingConfig(motion=False),
                                                      smoothing=SmoothingConfig(follow_motion=False)),
}


def holdout_faces(root: Path, n: int, seed: int) -> list[Any]:
    """``n`` of the shipped model's held-out 300W faces, whose face is at least 80 px in its photo."""
    holdout = holdout_of_run(None)
    faces = []
    for sub in ("300w/helen_train", "300w/afw"):
        keep = set(holdout.get(sub, []))
        faces += [r for r in read_dataset(root / sub, format="pts").records if r.source in keep]
    faces = [r for r in faces if float(np.ptp(r.points, axis=0).max()) >= 80]
    pick = np.random.default_rng(seed).choice(len(faces), min(n, len(faces)), replace=False)
    return [faces[i] for i in sorted(pick)]


def mediapipe_status() -> str:
    import importlib.util

    from edgekp.bench.peers import default_cache

    cache = default_cache()
    files = sorted(p.name for p in (cache / "mediapipe").glob("*.tflite")) if (cache / "mediapipe").is_dir() else []
    if importlib.util.find_spec("mediapipe") is not None:
        return "MediaPipe Face Mesh: the mediapipe module is importable, but its run is not wired into this benchmark; no figure"
    return ("MediaPipe Face Mesh: not run, no figure given: its tracking solution (graph, detector-tracker loop and "
            "landmark smoothing) is the mediapipe Python module, which is not installed here; the peers cache "
            f"{cache} holds only model files ({', '.join(files) or 'none'}), not the solution")


def run_config(config: VideoConfig, runtime: Any, detector: Any, clips: list[Any], paths: list[Path]) -> dict[str, Any]:
    scores, frames, seconds, cpu, detector_runs, passes = [], 0, 0.0, 0.0, 0, 0
    for clip, path in zip(clips, paths, strict=True):
        tracker = FaceTracker(runtime, detector, config)
        predicted: list[np.ndarray | None] = []
        summary = run_source(probe(path), tracker, emit=lambda line: None,
                             on_frame=lambda frame, faces: predicted.append(faces[0].points if faces else None))
        if len(predicted) != len(clip.frames):
            raise RuntimeError(f"{path}: {len(predicted)} decoded frames for {len(clip.frames)} written")
        scores.append(score_clip(clip, predicted))
        frames, seconds, cpu = frames + summary.frames, seconds + summary.seconds, cpu + summary.cpu_seconds
        detector_runs, passes = detector_runs + summary.detector_runs, passes + summary.landmark_passes
    merged = merge(scores)
    return {"overall": summarize(merged), "phases": {p: summarize(merged, p) for p in PHASES},
            "fps": round(frames / seconds, 1), "fps_cpu": round(frames / cpu, 1), "detector_runs_per_clip": round(detector_runs / len(clips), 1),
            "landmark_passes_per_frame": round(passes / frames, 2)}


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def print_tables(results: dict[str, dict[str, Any]]) -> None:
    print("\n| configuration | NME 6 % | NME 68 % | jitter 6 % | jitter 68 % | missed | false | re-acquire (mean/max) | detector runs/clip | passes/frame | fps wall | fps CPU |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        o = r["overall"]
        print(f"| {name} | {_cell(o['nme6'])} | {_cell(o['nme68'])} | {_cell(o['jitter6'])} | {_cell(o['jitter68'])} | "
              f"{o['missed']} | {o['false']} | {_cell(o.get('reacquire_mean'))}/{_cell(o.get('reacquire_max'))} | "
              f"{r['detector_runs_per_clip']} | {r['landmark_passes_per_frame']} | {r['fps']} | {r['fps_cpu']} |")
    for phase in PHASES:
        print(f"\nphase {phase}:\n| configuration | NME 6 % | NME 68 % | jitter 6 % | jitter 68 % | missed | false |")
        print("|---|---|---|---|---|---|---|")
        for name, r in results.items():
            p = r["phases"][phase]
            print(f"| {name} | {_cell(p['nme6'])} | {_cell(p['nme68'])} | {_cell(p['jitter6'])} | {_cell(p['jitter68'])} | "
                  f"{p['missed']} | {p['false']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", default="../shared/data")
    parser.add_argument("--clips", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default=None, help="default: the shipped model")
    parser.add_argument("--detector", default="auto")
    parser.add_argument("--configs", nargs="*", default=None, help="configuration names to run (default: all)")
    parser.add_argument("--shake", type=float, default=1.0, help="hand-held shake amplitude (1: about 3 px/frame)")
    parser.add_argument("--json", metavar="PATH", help="also write every figure here")
    args = parser.parse_args()
    import cv2

    cv2.setNumThreads(1)  # decode, crops and the Haar detector on one thread, as the model
    runtime = load_runtime(args.model, threads=1)
    detector = video_detector(DetectorChoice(args.detector, threads=1))
    spec = ClipSpec(shake_scale=args.shake)
    faces = holdout_faces(Path(args.data_root), args.clips, args.seed)
    clips = [make_clip(load_image(r), np.asarray(r.points, np.float64), spec, args.seed + i, r.source)
             for i, r in enumerate(faces)]
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, clip in enumerate(clips):
            paths.append(Path(tmp) / f"clip{i:02d}.mp4")
            write_clip(clip, str(paths[-1]))
        for name, config in CONFIGS.items():
            if args.configs and name not in args.configs:
                continue
            start = time.perf_counter()
            results[name] = run_config(config, runtime, detector, clips, paths)
            print(f"{name}: done in {time.perf_counter() - start:.1f} s", flush=True)
    host = host_info(threads=1)
    print(f"\nhost: {host['cpu']}, ISA {' '.join(host['isa'])}, {host['cores']} cores; 1 thread; "
          f"runtime {runtime.source} via onnxruntime {host['libraries'].get('onnxruntime')}; detector {detector.name}; "
          f"presence threshold {runtime.presence_threshold}")
    print(f"clips: {len(clips)} x {spec.frames} frames, {spec.size} px, {spec.fps:g} fps (phases still {spec.still}, "
          f"pan {spec.pan}, away {spec.away}, shake {spec.shake} at amplitude {spec.shake_scale:g}), noise sigma {spec.noise}; photos: "
          f"{', '.join(c.name for c in clips)}")
    print_tables(results)
    print(f"\n{mediapipe_status()}")
    if args.json:
        Path(args.json).write_text(json.dumps({"host": host, "results": results}, indent=2))


if __name__ == "__main__":
    main()
