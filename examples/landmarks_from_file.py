"""Reference consumer: a photo and a face box -> 68 landmarks, from an exported file and its contract alone.

It imports numpy, OpenCV and the runtime (ai-edge-litert for .tflite, openvino for .xml), never edgekp:
everything it needs (the input tensor, the crop, the refinement, the output's coordinates) is read
from the ``edgekp-model/2`` contract embedded in the file (docs/deploy.md). An app on a phone does the
same steps in Kotlin or Swift.

    python examples/landmarks_from_file.py model.tflite photo.jpg --box X,Y,W,H
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np


# -- the contract, from the file -----------------------------------------------------------------
def read_contract(path: Path) -> dict:
    """The JSON held by the file's ``edgekp`` metadata entry (TFLite) or ``rt_info["edgekp"]`` (OpenVINO)."""
    if path.suffix == ".tflite":
        from ai_edge_litert.tools import flatbuffer_utils

        model = flatbuffer_utils.read_model(str(path))
        for entry in model.metadata or []:
            name = entry.name.decode() if isinstance(entry.name, bytes) else entry.name
            if name == "edgekp":
                return json.loads(bytes(np.asarray(model.buffers[entry.buffer].data, np.uint8)).decode())
        raise SystemExit(f"{path}: no 'edgekp' metadata entry")
    if path.suffix == ".xml":
        import openvino as ov

        return json.loads(ov.Core().read_model(str(path)).get_rt_info(["edgekp"]).astype(str))
    raise SystemExit(f"{path}: expected a .tflite or OpenVINO .xml file")


# -- the runtime: one square crop (H x W x 3 uint8 RGB) -> K x 2 in crop units ---------------------
class Model:
    def __init__(self, path: Path, contract: dict) -> None:
        self.input = contract["input"]
        self.output = contract["output"]["landmarks"]
        if path.suffix == ".tflite":
            from ai_edge_litert.interpreter import Interpreter

            self.interpreter = Interpreter(model_path=str(path), num_threads=1)
            self.interpreter.allocate_tensors()
            self.run = self._tflite
        else:
            import openvino as ov

            self.compiled = ov.Core().compile_model(str(path), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
            self.run = self._openvino

    def tensor(self, crop: np.ndarray) -> np.ndarray:
        """Exactly what the contract's input says: layout, dtype and range."""
        x = crop if self.input["dtype"] == "uint8" else crop.astype(np.float32) / 255.0
        if self.input["layout"] == "NCHW":
            x = x.transpose(2, 0, 1)
        return np.ascontiguousarray(x[None])

    def _tflite(self, crop: np.ndarray) -> np.ndarray:
        it = self.interpreter
        inp = next(d for d in it.get_input_details() if d["name"] == self.input["name"])
        out = next(d for d in it.get_output_details() if d["name"] == self.output["name"])
        it.set_tensor(inp["index"], self.tensor(crop))
        it.invoke()
        y = it.get_tensor(out["index"]).astype(np.float32)
        q = self.output.get("quantization")
        if q:  # an integer output: its scale and zero point are in the contract
            y = (y - q["zero_point"]) * q["scale"]
        return y.reshape(-1, 2)

    def _openvino(self, crop: np.ndarray) -> np.ndarray:
        result = self.compiled(self.tensor(crop))
        return np.asarray(result[self.compiled.output(self.output["name"])], np.float32).reshape(-1, 2)


# -- the crop, as the contract's "crop" describes it ---------------------------------------------
def square(cx: float, cy: float, w: float, h: float, side_scale: float) -> tuple[float, float, float]:
    side = max(max(w, h) * side_scale, 1.0)
    return cx - side / 2, cy - side / 2, side


def cut(image: np.ndarray, x: float, y: float, side: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(crop, 2x3 matrix image pixel -> crop pixel): bilinear, black outside; a crop that shrinks the
    image below 0.5x is cut from an INTER_AREA-resized copy (factor min(1, 2 * size / side))."""
    s = size / side
    matrix = np.array([[s, 0.0, -x * s - 0.5], [0.0, s, -y * s - 0.5]])
    warp, src = matrix, image
    if s < 0.5:
        f = min(1.0, 2.0 * s)
        src = cv2.resize(image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        fx, fy = src.shape[1] / image.shape[1], src.shape[0] / image.shape[0]
        to_small = np.array([[fx, 0, 0.5 * fx - 0.5], [0, fy, 0.5 * fy - 0.5], [0, 0, 1]])
        warp = (np.vstack([matrix, [0, 0, 1]]) @ np.linalg.inv(to_small))[:2]
    crop = cv2.warpAffine(
        src, warp, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0)
    )
    return crop, matrix


def landmarks(model: Model, contract: dict, image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """K x 2 image pixels (0-based x, y) for one face box (x, y, w, h) in an RGB uint8 image."""
    size, crop_spec = contract["input"]["height"], contract["crop"]
    x, y, w, h = box
    sq = square(x + w / 2, y + h / 2, w, h, crop_spec["side_scale"])
    for _ in range(crop_spec["refine"] + 1):
        crop, matrix = cut(image, *sq, size)
        u = model.run(crop)  # crop units: crop pixel = u * size - 0.5
        inv = cv2.invertAffineTransform(matrix)
        # Image pixels, kept as float32 between passes (as edgekp predict and a Float-based app keep them).
        points = ((u.astype(np.float64) * size - 0.5) @ inv[:, :2].T + inv[:, 2]).astype(np.float32)
        lo, hi = points.astype(np.float64).min(axis=0), points.astype(np.float64).max(axis=0)
        sq = square((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, hi[0] - lo[0], hi[1] - lo[1], crop_spec["side_scale"])
    return points


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("image", type=Path)
    parser.add_argument("--box", required=True, help="face box X,Y,W,H in pixels")
    args = parser.parse_args(argv)
    contract = read_contract(args.model)
    bgr = cv2.imread(str(args.image), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"cannot read {args.image}")
    box = tuple(float(v) for v in args.box.split(","))
    points = landmarks(Model(args.model, contract), contract, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), box)  # type: ignore[arg-type]
    json.dump({"landmarks": points.round(4).tolist()}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
