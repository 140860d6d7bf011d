"""edgekp predict: landmarks in photos, videos and folders of frames, in image pixels.

Photos are detected and refined one by one (no smoothing). Videos and frame folders go through the
tracker (edgekp.inference.tracker): detect once, follow the landmarks with one pass per frame, drop
the face when its presence score falls under the threshold, One Euro smoothing on by default.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from edgekp.commands.common import add_json, print_result
from edgekp.errors import ConfigError, EdgeKPError
from edgekp.logs import get_logger

log = get_logger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="photos, videos (anything OpenCV decodes) or folders of frames (read in name order)",
    )
    parser.add_argument(
        "--model",
        metavar="M",
        help="run dir, .pt checkpoint, exported file, or shipped:t|s|b (default: the shipped model, s)",
    )
    parser.add_argument("--box", metavar="X,Y,W,H", help="photos: face box in pixels to use instead of the detector")
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="write results here (default: ./edgekp-out/predict, none under --json): photos "
        "<name>.landmarks.json + .jpg; videos <name>.landmarks.jsonl + an annotated .mp4",
    )
    parser.add_argument(
        "--skip-bad", action="store_true", help="skip unreadable photos with a warning instead of stopping"
    )
    parser.add_argument("--threads", type=int, default=None, help="inference threads (video default: 1)")
    parser.add_argument(
        "--detector",
        default="auto",
        choices=("auto", "blazeface", "blazeface-full", "haar"),
        help="face detector: MediaPipe's BlazeFace (short or full range; fetched once with "
        "--download-detector) or OpenCV's Haar cascades (no download); auto: BlazeFace when "
        "fetched, else Haar (default)",
    )
    parser.add_argument(
        "--download-detector",
        action="store_true",
        help="fetch BlazeFace if it is missing: pip downloads the mediapipe==0.10.21 wheel (Apache-2.0) "
        "into the peers cache and keeps its detector files; nothing is installed",
    )
    parser.add_argument(
        "--peers-cache", metavar="DIR", default=None, help="cache folder (default: ~/.cache/edgekp/peers)"
    )
    video = parser.add_argument_group("video")
    video.add_argument("--max-faces", type=int, default=1, metavar="N", help="faces per frame at most (default 1)")
    video.add_argument(
        "--no-track", action="store_true", help="detect in every frame instead of following the landmarks"
    )
    video.add_argument(
        "--presence-threshold",
        type=float,
        default=None,
        metavar="P",
        help="drop a face whose presence probability falls below P (default: the model's)",
    )
    video.add_argument("--fps", type=float, default=30.0, help="frame rate of a folder of frames (default 30)")
    video.add_argument("--no-smooth", action="store_true", help="no One Euro filter on the landmarks")
    video.add_argument("--smooth-min-cutoff", type=float, default=None, metavar="HZ", help="One Euro cutoff at rest")
    video.add_argument("--smooth-beta", type=float, default=None, metavar="B", help="One Euro speed coefficient")
    video.add_argument(
        "--smooth-d-cutoff", type=float, default=None, metavar="HZ", help="One Euro speed-estimate cutoff"
    )
    add_json(parser)


def _parse_box(text: str) -> tuple[float, float, float, float]:
    try:
        x, y, w, h = (float(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(f"--box expects X,Y,W,H in pixels, got {text!r}") from None
    if w <= 0 or h <= 0:
        raise ConfigError(f"--box width and height must be positive, got {text!r}")
    return x, y, w, h


def video_config(args: argparse.Namespace) -> Any:
    """The typed VideoConfig the flags describe (validated: a bad value is a one-line ConfigError)."""
    from pydantic import ValidationError

    from edgekp.config.base import describe_validation_error
    from edgekp.config.video import VideoConfig

    smoothing: dict[str, Any] = {"enabled": not args.no_smooth}
    for key in ("min_cutoff", "beta", "d_cutoff"):
        value = getattr(args, f"smooth_{key}")
        if value is not None:
            smoothing[key] = value
    tracking: dict[str, Any] = {
        "enabled": not args.no_track,
        "max_faces": args.max_faces,
        "presence_threshold": args.presence_threshold,
    }
    if args.no_track:
        tracking["refine_detected"] = 2  # the photo path's passes
    data = {"tracking": tracking, "smoothing": smoothing}
    try:
        return VideoConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(VideoConfig, exc, "predict options")) from None


def _out_dir(args: argparse.Namespace) -> Path | None:
    from edgekp.lineage.model_source import OUT_ROOT

    if args.out:
        return Path(args.out)
    return None if args.json else Path(OUT_ROOT) / "predict"


def _probe_all(args: argparse.Namespace) -> list[Any]:
    from edgekp.inference.video_io import probe

    sources = []
    for path in args.inputs:
        try:
            sources.append(probe(path, fps=args.fps, threads=args.threads or 1))
        except EdgeKPError as exc:
            if not args.skip_bad:
                raise
            log.warning("skipped: %s", exc)
    if not sources:
        raise EdgeKPError("no readable input left (every input was skipped)")
    return sources


def _detector(args: argparse.Namespace, video: bool = False) -> Any:
    from edgekp.inference.detectors import DetectorChoice, make_detector, video_detector

    choice = DetectorChoice(
        args.detector, Path(args.peers_cache) if args.peers_cache else None, args.download_detector, args.threads or 1
    )
    return video_detector(choice) if video else make_detector(choice)


def run(args: argparse.Namespace) -> int:
    if args.max_faces < 1:
        raise ConfigError(f"--max-faces must be >= 1, got {args.max_faces}")
    if args.box:
        _parse_box(args.box)  # a bad flag is reported before any file is read
    sources = _probe_all(args)  # every input is checked before any work
    if all(s.kind == "photo" for s in sources):
        return _run_photos(args, sources)
    if args.box:
        raise ConfigError("--box applies to photos only; videos are tracked from the detector's first box")
    return _run_videos(args, sources)


def _run_photos(args: argparse.Namespace, sources: list[Any]) -> int:
    import cv2

    from edgekp.bench.predictor import load_predictor
    from edgekp.inference.boxes import FaceBox
    from edgekp.inference.pipeline import draw_landmarks, predict_photo, read_photo

    box = _parse_box(args.box) if args.box else None
    photos = []
    for source in sources:
        try:
            photos.append((source.path, read_photo(source.path)))
        except EdgeKPError as exc:  # a truncated JPEG decodes in OpenCV but is refused here
            if not args.skip_bad:
                raise
            log.warning("skipped: %s", exc)
    predictor = load_predictor(args.model, threads=args.threads)
    detector = None if box else _detector(args)
    out_dir = _out_dir(args)
    results: list[dict[str, Any]] = []
    lines = []
    for path, image in photos:
        boxes = [FaceBox(*box, detector="given")] if box else detector.detect(image)  # type: ignore[union-attr]
        faces = predict_photo(predictor, image, boxes)
        entry = {
            "image": str(path),
            "width": int(image.shape[1]),
            "height": int(image.shape[0]),
            "coordinates": "0-based image pixels (x, y)",
            "faces": [
                {
                    "box": [f.box.x, f.box.y, f.box.w, f.box.h],
                    "detector": f.box.detector,
                    "landmarks": [[round(float(x), 2), round(float(y), 2)] for x, y in f.points],
                }
                for f in faces
            ],
        }
        results.append(entry)
        lines.append(f"{path}: {len(faces)} face(s)" if faces else f"{path}: no face found")
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            stem = Path(path).stem
            json_path, image_path = out_dir / f"{stem}.landmarks.json", out_dir / f"{stem}.landmarks.jpg"
            _write_atomic_text(json_path, json.dumps(entry, indent=2))
            partial = image_path.with_name(f".{image_path.stem}.partial.jpg")
            cv2.imwrite(str(partial), draw_landmarks(image, faces))
            partial.replace(image_path)
            lines[-1] += f" -> {json_path}, {image_path}"
    print_result(args, results, "\n".join(lines))
    return 0


def _write_atomic_text(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def _progress(args: argparse.Namespace, name: str) -> Any:
    from edgekp.logs import progress_enabled

    if not progress_enabled() or (args.json and not sys.stdout.isatty()):
        return None

    def bar(stream: Any, total: int) -> Any:
        from tqdm import tqdm

        return tqdm(
            stream, desc=name, total=total or None, unit="frame", leave=False, dynamic_ncols=True, file=sys.stderr
        )

    return bar


def _run_videos(args: argparse.Namespace, sources: list[Any]) -> int:
    from edgekp.inference.runtime import load_runtime
    from edgekp.inference.tracker import FaceTracker
    from edgekp.inference.video import run_source

    config = video_config(args)
    runtime = load_runtime(args.model, threads=args.threads or 1)
    detector = _detector(args, video=True)
    out_dir = _out_dir(args)
    emit = (lambda line: print(line, flush=False)) if args.json else None
    summaries = []
    for source in sources:
        tracker = FaceTracker(runtime, detector, config)  # every input starts with no face
        summary = run_source(source, tracker, emit=emit, out_dir=out_dir, progress=_progress(args, source.path.name))
        summaries.append(summary)
        text = (
            f"{source.path}: {summary.frames} frames, {summary.with_face} with a face, detector ran "
            f"{summary.detector_runs} times, {summary.fps:.0f} frames/s"
        )
        if summary.bad_frames:
            text += f", {len(summary.bad_frames)} undecodable frame(s) skipped"
        if summary.outputs:
            text += " -> " + ", ".join(summary.outputs)
        if args.json:
            log.info("%s", text)  # stdout carries only the JSON Lines
            if summary.bad_frames:
                log.warning("%s: %d undecodable frame(s) skipped", source.path, len(summary.bad_frames))
        else:
            print(text)
    if args.json:
        sys.stdout.flush()
    return 0
