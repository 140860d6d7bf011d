"""Runs dlib's shape predictor in its own process (dlib lives in a private --target folder put on
PYTHONPATH by edgekp.bench.peers, so it never enters edgekp's environment).

    python -m edgekp.bench.dlib_worker MODEL.dat FOLDER SETTINGS_JSON

FOLDER/crops.npy (N x S x S x 3 uint8 RGB) and FOLDER/boxes.npy (N x 4 fallback rectangles, crop
pixels) in; FOLDER/points.npy (N x 68 x 2, normalized to the crop as edgekp's models output) and
FOLDER/latency.json (one face, edgekp.measure.timing, plus how many faces dlib's detector found) out.

dlib's predictor was trained on the boxes of dlib's own HOG face detector, so that detector (shipped
inside dlib, nothing to download) gives each face its rectangle: the detection overlapping the
fallback box most. Where it finds nothing (profiles), the fallback is the landmark bounding box.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def main(argv: list[str]) -> int:
    import dlib

    from edgekp.measure.timing import LatencySettings, time_call

    model, folder, settings = argv[0], Path(argv[1]), LatencySettings(**json.loads(argv[2]))
    crops, boxes = np.load(folder / "crops.npy"), np.load(folder / "boxes.npy")
    size = crops.shape[1]
    predictor, detector = dlib.shape_predictor(model), dlib.get_frontal_face_detector()
    out = np.empty((len(crops), 68, 2), np.float32)
    rects, detected = [], 0
    for i, crop in enumerate(crops):
        image = np.ascontiguousarray(crop)
        fallback = dlib.rectangle(*(int(round(v)) for v in boxes[i]))
        found = [d for d in detector(image, 0) if d.intersect(fallback).area() > 0]
        rect = max(found, key=lambda d: d.intersect(fallback).area()) if found else fallback
        detected += bool(found)
        rects.append(rect)
        shape = predictor(image, rect)
        px = np.array([[p.x, p.y] for p in shape.parts()], np.float32)
        out[i] = (px + 0.5) / size  # dlib's integer pixel centres -> edgekp's normalized convention
    np.save(folder / "points.npy", out)
    first = np.ascontiguousarray(crops[0])
    timing = time_call(lambda: predictor(first, rects[0]), settings)  # the landmark step only, like edgekp's rows
    version = getattr(dlib, "__version__", "unknown")
    (folder / "latency.json").write_text(
        json.dumps(
            timing
            | {"threads": 1, "runtime": "dlib", "runtime_version": version, "detected": detected, "faces": len(crops)}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
