"""Video stability of `edgekp predict` on clips made from held-out real photos, with exact ground truth.

    OMP_NUM_THREADS=1 python benchmarks/video_stability.py --data-root ../shared/data

Each clip (edgekp.bench.video_clips): 320 x 320, 30 fps, 90 frames, sensor noise, phases still /
pan+turn / away (15 frames) / hand-held shake, made from one of the shipped model's held-out 300W
photos. Every configuration runs each clip through the same code as `edgekp predict VIDEO`
(decode, track, landmarks, filter, JSON line), at 1 thread; frames/s leaves process start-up, model
load and the one-time ONNX export out. With ``--mediapipe``, MediaPipe Face Mesh (legacy solution, tracking
mode) runs on the same clip files in its own process, pinned to one core, scored on the six corners;
without it, or where it cannot run, its row says why and gives no figure.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from edgekp.bench.peers_video import face_mesh_results
from edgekp.bench.video_clips import FACE_SETS, PHASES, ClipSpec, holdout_clips, write_clip
from edgekp.bench.video_metrics import CORNERS, merge, score_clip, summarize
from edgekp.config.video import SmoothingConfig, TrackingConfig, VideoConfig
from edgekp.host import host_info
from edgekp.inference.detectors import DetectorChoice, video_detector
from edgekp.inference.runtime import load_runtime
from edgekp.inference.tracker import FaceTracker
from edgekp.inference.video import run_source
from edgekp.inference.video_io import probe

CONFIGS = {
    "per-frame (today: detect + 3 passes)": VideoConfig(
        tracking=TrackingConfig(enabled=False, refine_detected=2), smoothing=SmoothingConfig(enabled=False)
    ),
    "per-frame + filter": VideoConfig(tracking=TrackingConfig(enabled=False, refine_detected=2)),
    "tracking, no filter": VideoConfig(smoothing=SmoothingConfig(enabled=False)),
    "tracking + filter (default)": VideoConfig(),
    "tracking + filter, 2 passes/tracked frame": VideoConfig(tracking=TrackingConfig(refine_tracked=1)),
    "tracking + filter, crop from raw landmarks": VideoConfig(tracking=TrackingConfig(crop_from="raw")),
    "tracking + filter, crop re-cut every frame (gain 1)": VideoConfig(tracking=TrackingConfig(crop_gain=1.0)),
    "tracking + filter, crop gain 0.05": VideoConfig(tracking=TrackingConfig(crop_gain=0.05)),
    "tracking + filter, crop gain 0.3": VideoConfig(tracking=TrackingConfig(crop_gain=0.3)),
    "tracking + filter, prior from landmark motion (not flow)": VideoConfig(
        smoothing=SmoothingConfig(motion_source="landmarks")
    ),
    "tracking + filter, first pass (shift-only motion, crop re-cut, landmark prior)": VideoConfig(
        tracking=TrackingConfig(motion_model="shift"), smoothing=SmoothingConfig(motion_source="landmarks")
    ),
    "tracking + filter, no motion model": VideoConfig(
        tracking=TrackingConfig(motion=False), smoothing=SmoothingConfig(follow_motion=False)
    ),
}


def mediapipe_row(clips: list[Any], paths: list[Path], requested: bool, cache: str | None) -> dict[str, Any]:
    """MediaPipe Face Mesh on the same clip files, in its own process (edgekp.bench.peers_video)."""
    if not requested:
        return {
            "status": "unavailable",
            "reason": "not requested (--mediapipe runs it, pip-installing the mediapipe "
            "package into the peers cache, never into edgekp's environment)",
        }
    return face_mesh_results(clips, paths, Path(cache).expanduser() if cache else None, allow_install=True)


def run_config(config: VideoConfig, runtime: Any, detector: Any, clips: list[Any], paths: list[Path]) -> dict[str, Any]:
    scores, frames, seconds, cpu, detector_runs, passes = [], 0, 0.0, 0.0, 0, 0
    for clip, path in zip(clips, paths, strict=True):
        tracker = FaceTracker(runtime, detector, config)
        predicted: list[np.ndarray | None] = []
        summary = run_source(
            probe(path),
            tracker,
            emit=lambda line: None,
            on_frame=lambda frame, faces, predicted=predicted: predicted.append(faces[0].points if faces else None),
        )
        if len(predicted) != len(clip.frames):
            raise RuntimeError(f"{path}: {len(predicted)} decoded frames for {len(clip.frames)} written")
        scores.append(score_clip(clip, predicted))
        frames, seconds, cpu = frames + summary.frames, seconds + summary.seconds, cpu + summary.cpu_seconds
        detector_runs, passes = detector_runs + summary.detector_runs, passes + summary.landmark_passes
    merged = merge(scores)
    return {
        "overall": summarize(merged),
        "phases": {p: summarize(merged, p) for p in PHASES},
        "fps": round(frames / seconds, 1),
        "fps_cpu": round(frames / cpu, 1),
        "detector_runs_per_clip": round(detector_runs / len(clips), 1),
        "landmark_passes_per_frame": round(passes / frames, 2),
    }


MEDIAPIPE = "MediaPipe Face Mesh (tracking mode)"


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def print_tables(results: dict[str, dict[str, Any]], mediapipe: dict[str, Any]) -> None:
    mp_ok = mediapipe["status"] == "ok"
    print(
        "\n| configuration | NME 6 % | NME 68 % | jitter 6 % | jitter 68 % | missed | false | re-acquire (mean/max) | "
        "detector runs/clip | passes/frame | fps wall | fps CPU |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        o = r["overall"]
        print(
            f"| {name} | {_cell(o['nme6'])} | {_cell(o['nme68'])} | {_cell(o['jitter6'])} | {_cell(o['jitter68'])} | "
            f"{o['missed']} | {o['false']} | {_cell(o.get('reacquire_mean'))}/{_cell(o.get('reacquire_max'))} | "
            f"{r['detector_runs_per_clip']} | {r['landmark_passes_per_frame']} | {r['fps']} | {r['fps_cpu']} |"
        )
    if mp_ok:
        o = mediapipe["overall"]
        print(
            f"| {MEDIAPIPE} | {_cell(o['nme6'])} | - | {_cell(o['jitter6'])} | - | {o['missed']} | {o['false']} | "
            f"{_cell(o.get('reacquire_mean'))}/{_cell(o.get('reacquire_max'))} | - | - | {mediapipe['fps']} | "
            f"{mediapipe['fps_cpu']} |"
        )
    for phase in PHASES:
        print(f"\nphase {phase}:\n| configuration | NME 6 % | NME 68 % | jitter 6 % | jitter 68 % | missed | false |")
        print("|---|---|---|---|---|---|---|")
        for name, r in results.items():
            p = r["phases"][phase]
            print(
                f"| {name} | {_cell(p['nme6'])} | {_cell(p['nme68'])} | {_cell(p['jitter6'])} | "
                f"{_cell(p['jitter68'])} | "
                f"{p['missed']} | {p['false']} |"
            )
        if mp_ok:
            p = mediapipe["phases"][phase]
            print(
                f"| {MEDIAPIPE} | {_cell(p['nme6'])} | - | {_cell(p['jitter6'])} | - | {p['missed']} | {p['false']} |"
            )
    print(f"\nNME % of each corner (iBUG {', '.join(map(str, CORNERS))}), all phases:")
    for name, r in [*results.items(), *([(MEDIAPIPE, mediapipe)] if mp_ok else [])]:
        print(f"| {name} | {' | '.join(_cell(v) for v in r['overall']['nme_corners'])} |")
    if mp_ok:
        print(
            f"\n{MEDIAPIPE}: mediapipe {mediapipe['versions'].get('mediapipe')} (numpy "
            f"{mediapipe['versions'].get('numpy')}) "
            "in its own process pinned to one core; decode + Face Mesh per frame; six corners = mesh 33, 133, 362, "
            "263, "
            "61, 291 as iBUG 36, 39, 42, 45, 48, 54 (the same mapping as the still-image peer)"
        )
    else:
        print(f"\n{MEDIAPIPE}: unavailable, no figure: {mediapipe['reason']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", default="../shared/data")
    parser.add_argument("--clips", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default=None, help="default: the shipped model")
    parser.add_argument("--detector", default="auto")
    parser.add_argument("--configs", nargs="*", default=None, help="configuration names to run (default: all)")
    parser.add_argument("--shake", type=float, default=1.0, help="hand-held shake amplitude (1: about 3 px/frame)")
    parser.add_argument(
        "--mediapipe",
        action="store_true",
        help="also run MediaPipe Face Mesh (pip-installs mediapipe into the peers cache if needed)",
    )
    parser.add_argument("--peers-cache", default=None, help="peers cache folder (default ~/.cache/edgekp/peers)")
    parser.add_argument(
        "--faces",
        choices=FACE_SETS,
        default="holdout",
        help="holdout: the shipped model's held-out 300W faces (validation); lfpw: 300W LFPW train",
    )
    parser.add_argument("--size", type=int, default=320, help="frame side in pixels")
    parser.add_argument("--face-px", type=float, default=120.0, help="the face's landmark box side at the start")
    parser.add_argument("--json", metavar="PATH", help="also write every figure here")
    args = parser.parse_args()
    import cv2

    cv2.setNumThreads(1)  # decode, crops and the Haar detector on one thread, as the model
    runtime = load_runtime(args.model, threads=1)
    detector = video_detector(DetectorChoice(args.detector, threads=1))
    spec = ClipSpec(shake_scale=args.shake, size=args.size, face_px=args.face_px)
    clips = holdout_clips(Path(args.data_root), args.clips, args.seed, spec, args.faces)
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
        mediapipe = mediapipe_row(clips, paths, args.mediapipe, args.peers_cache)
    host = host_info(threads=1)
    print(
        f"\nhost: {host['cpu']}, ISA {' '.join(host['isa'])}, {host['cores']} cores; 1 thread; "
        f"runtime {runtime.source} via onnxruntime {host['libraries'].get('onnxruntime')}; detector {detector.name}; "
        f"presence threshold {runtime.presence_threshold}"
    )
    print(
        f"clips ({args.faces} faces): {len(clips)} x {spec.frames} frames, {spec.size} px, {spec.fps:g} fps (phases "
        f"still {spec.still}, "
        f"pan {spec.pan}, away {spec.away}, shake {spec.shake} at amplitude {spec.shake_scale:g}), noise sigma "
        f"{spec.noise}; photos: "
        f"{', '.join(c.name for c in clips)}"
    )
    print_tables(results, mediapipe)

    if args.json:
        Path(args.json).write_text(json.dumps({"host": host, "results": results, "mediapipe": mediapipe}, indent=2))


if __name__ == "__main__":
    main()
