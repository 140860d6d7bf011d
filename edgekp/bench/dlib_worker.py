"""Runs dlib's shape predictor in its own process (dlib lives in a private --target folder put on
PYTHONPATH by edgekp.bench.peers, so it never enters edgekp's environment).

    python -m edgekp.bench.dlib_worker MODEL.dat FOLDER SETTINGS_JSON

FOLDER/crops.npy (N x S x S x 3 uint8 RGB) in; FOLDER/points.npy (N x 68 x 2, normalized to the
crop as edgekp's models output) and FOLDER/latency.json (one face, edgekp.bench.latency) out.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def main(argv: list[str]) -> int:
    import dlib

    from edgekp.bench.latency import LatencySettings, measure

    model, folder, settings = argv[0], Path(argv[1]), LatencySettings(**json.loads(argv[2]))
    crops = np.load(folder / "crops.npy")
    size = crops.shape[1]
    predictor = dlib.shape_predictor(model)
    rect = dlib.rectangle(0, 0, size - 1, size - 1)  # the crop box itself, in crop pixels
    out = np.empty((len(crops), 68, 2), np.float32)
    for i, crop in enumerate(crops):
        shape = predictor(np.ascontiguousarray(crop), rect)
        px = np.array([[p.x, p.y] for p in shape.parts()], np.float32)
        out[i] = (px + 0.5) / size  # dlib's integer pixel centres -> edgekp's normalized convention
    np.save(folder / "points.npy", out)
    first = np.ascontiguousarray(crops[0])
    timing = measure(lambda: predictor(first, rect), settings)
    version = getattr(dlib, "__version__", "unknown")
    (folder / "latency.json").write_text(json.dumps(timing | {"threads": 1, "runtime": "dlib", "runtime_version": version}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
