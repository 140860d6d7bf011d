"""MediaPipe's BlazeFace face detectors, run with ai-edge-litert, decoded here.

The ``.tflite`` files ship inside the ``mediapipe`` wheel (Apache-2.0). They are fetched only on
request, by the same ``pip download`` of mediapipe==0.10.21 the peers use (edgekp.bench.peers),
into the peers cache; edgekp never installs mediapipe.

Each model scores a fixed grid of anchors (SSD style, one square anchor size per cell) and
regresses, per anchor, a box centre offset and size plus six keypoints, in input pixels. Decoding:
centre = anchor centre + offset / input size, size = regressed size / input size, score = sigmoid.
Overlapping boxes are merged by a score-weighted average (MediaPipe's "weighted" NMS), which
steadies boxes more than keeping the top one.

Faces that fill the photo (tight crops) are too large for the anchors: the photo is also run
padded to twice its size, and both passes' boxes are merged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekp.inference.boxes import FaceBox, suppress_weighted


@dataclass(frozen=True)
class BlazeFaceSpec:
    name: str
    member: str  # path inside the mediapipe wheel
    input_size: int
    strides: tuple[int, ...]  # one entry per SSD layer; equal neighbours share a grid
    anchors_per_layer: int  # 2 with MediaPipe's interpolated anchor, else 1
    score_threshold: float


SHORT = BlazeFaceSpec(
    "short", "mediapipe/modules/face_detection/face_detection_short_range.tflite", 128, (8, 16, 16, 16), 2, 0.5
)
FULL = BlazeFaceSpec(
    "full", "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite", 192, (4,), 1, 0.5
)
SPECS = {s.name: s for s in (SHORT, FULL)}


def anchor_centres(spec: BlazeFaceSpec) -> np.ndarray:
    """A x 2 normalized (x, y) anchor centres, in the order the model emits its rows."""
    centres = []
    i = 0
    while i < len(spec.strides):
        stride, repeat = spec.strides[i], 0
        while i < len(spec.strides) and spec.strides[i] == stride:
            repeat += 1
            i += 1
        grid = int(np.ceil(spec.input_size / stride))
        ys, xs = np.meshgrid((np.arange(grid) + 0.5) / grid, (np.arange(grid) + 0.5) / grid, indexing="ij")
        cells = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(cells, repeat * spec.anchors_per_layer, axis=0))
    return np.concatenate(centres).astype(np.float32)


def decode(
    regressors: np.ndarray, logits: np.ndarray, anchors: np.ndarray, size: int, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """(boxes M x 4 as normalized x0, y0, x1, y1; scores M) of the anchors scoring above ``threshold``."""
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits.reshape(-1).astype(np.float64), -100.0, 100.0)))
    keep = scores >= threshold
    reg, anc = regressors.reshape(len(anchors), -1)[keep], anchors[keep]
    cx, cy = anc[:, 0] + reg[:, 0] / size, anc[:, 1] + reg[:, 1] / size
    w, h = reg[:, 2] / size, reg[:, 3] / size
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    return boxes, scores[keep]


def letterbox(image: np.ndarray, size: int, pad_scale: float = 1.0) -> tuple[np.ndarray, float, float, float]:
    """Image centred on a black square ``pad_scale`` times its longer side, resized to ``size``.

    Returns (size x size x 3 float32 in [-1, 1], side in image pixels, x0, y0 of the square's corner)."""
    import cv2

    h, w = image.shape[:2]
    side = int(round(max(h, w) * pad_scale))
    x0, y0 = (side - w) // 2, (side - h) // 2
    canvas = np.zeros((side, side, 3), np.uint8)
    canvas[y0 : y0 + h, x0 : x0 + w] = image
    resized = cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA if side > size else cv2.INTER_LINEAR)
    return resized.astype(np.float32) / 127.5 - 1.0, float(side), float(-x0), float(-y0)


class BlazeFaceDetector:
    """detect(image_rgb) -> face boxes in image pixels (BlazeFace's box: brows to chin, ear to ear)."""

    def __init__(
        self,
        model_path: str | Path,
        spec: BlazeFaceSpec,
        threads: int = 1,
        pad_scales: tuple[float, ...] = (1.0, 2.0),
        score_threshold: float | None = None,
    ) -> None:
        from ai_edge_litert import interpreter as litert

        self.spec = spec
        self.pad_scales = pad_scales
        self.threshold = spec.score_threshold if score_threshold is None else score_threshold
        self.interpreter = litert.Interpreter(model_path=str(model_path), num_threads=threads)
        self.interpreter.allocate_tensors()
        self._input = self.interpreter.get_input_details()[0]["index"]
        outs = sorted(self.interpreter.get_output_details(), key=lambda o: -int(o["shape"][-1]))
        self._reg, self._cls = outs[0]["index"], outs[1]["index"]
        self.anchors = anchor_centres(spec)
        if int(np.prod(outs[1]["shape"])) != len(self.anchors):
            raise ValueError(f"{model_path}: {int(np.prod(outs[1]['shape']))} scores but {len(self.anchors)} anchors")
        self.name = f"blazeface-{spec.name}"

    def _run(self, image: np.ndarray, pad_scale: float) -> list[tuple[np.ndarray, float]]:
        tensor, side, x0, y0 = letterbox(image, self.spec.input_size, pad_scale)
        self.interpreter.set_tensor(self._input, tensor[None])
        self.interpreter.invoke()
        boxes, scores = decode(
            self.interpreter.get_tensor(self._reg)[0],
            self.interpreter.get_tensor(self._cls)[0],
            self.anchors,
            self.spec.input_size,
            self.threshold,
        )
        boxes = boxes * side + np.array([x0, y0, x0, y0], np.float32)
        return list(zip(boxes, scores.tolist(), strict=True))

    def detect(self, image_rgb: np.ndarray) -> list[FaceBox]:
        found: list[tuple[np.ndarray, float]] = []
        for scale in self.pad_scales:
            found.extend(self._run(image_rgb, scale))
        return suppress_weighted(found, self.name)
