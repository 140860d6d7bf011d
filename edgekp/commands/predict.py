"""edgekp predict: detect faces in photos and predict their landmarks in image pixels."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from edgekp.commands.common import add_json, print_result
from edgekp.errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("--model", metavar="M", help="run dir, .pt checkpoint or exported file (default: the shipped model)")
    parser.add_argument("--box", metavar="X,Y,W,H", help="face box in pixels to use instead of the detector")
    parser.add_argument("--out", metavar="DIR", help="write <image>.landmarks.json and <image>.landmarks.jpg here")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--detector", default="auto", choices=("auto", "blazeface", "blazeface-full", "haar"),
                        help="face detector: MediaPipe's BlazeFace (short or full range; fetched once with "
                             "--download-detector) or OpenCV's Haar cascades (no download); auto: BlazeFace when "
                             "fetched, else Haar (default)")
    parser.add_argument("--download-detector", action="store_true",
                        help="fetch BlazeFace if it is missing: pip downloads the mediapipe==0.10.21 wheel (Apache-2.0) "
                             "into the peers cache and keeps its detector files; nothing is installed")
    parser.add_argument("--peers-cache", metavar="DIR", default=None, help="cache folder (default: ~/.cache/edgekp/peers)")
    add_json(parser)


def _parse_box(text: str) -> tuple[float, float, float, float]:
    try:
        x, y, w, h = (float(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(f"--box expects X,Y,W,H in pixels, got {text!r}") from None
    if w <= 0 or h <= 0:
        raise ConfigError(f"--box width and height must be positive, got {text!r}")
    return x, y, w, h


def run(args: argparse.Namespace) -> int:
    import cv2

    from edgekp.bench.predictor import load_predictor
    from edgekp.inference.boxes import FaceBox
    from edgekp.inference.detectors import DetectorChoice, make_detector
    from edgekp.inference.pipeline import draw_landmarks, predict_photo, read_photo

    box = _parse_box(args.box) if args.box else None
    photos = [(p, read_photo(p)) for p in args.images]  # every file is checked before any work
    predictor = load_predictor(args.model, threads=args.threads)
    detector = None if box else make_detector(DetectorChoice(
        args.detector, Path(args.peers_cache) if args.peers_cache else None, args.download_detector, args.threads or 1))
    out_dir = Path(args.out) if args.out else None
    results: list[dict[str, Any]] = []
    lines = []
    for path, image in photos:
        boxes = [FaceBox(*box, detector="given")] if box else detector.detect(image)  # type: ignore[union-attr]
        faces = predict_photo(predictor, image, boxes)
        entry = {
            "image": str(path), "width": int(image.shape[1]), "height": int(image.shape[0]),
            "coordinates": "0-based image pixels (x, y)",
            "faces": [
                {"box": [f.box.x, f.box.y, f.box.w, f.box.h], "detector": f.box.detector,
                 "landmarks": [[round(float(x), 2), round(float(y), 2)] for x, y in f.points]}
                for f in faces
            ],
        }
        results.append(entry)
        lines.append(f"{path}: {len(faces)} face(s)" if faces else f"{path}: no face found")
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            stem = Path(path).stem
            (out_dir / f"{stem}.landmarks.json").write_text(json.dumps(entry, indent=2))
            cv2.imwrite(str(out_dir / f"{stem}.landmarks.jpg"), draw_landmarks(image, faces))
    print_result(args, results, "\n".join(lines))
    return 0
