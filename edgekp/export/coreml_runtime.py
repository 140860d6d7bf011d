"""CoreML, the CoreML target's runtime (macOS only): ``MLModel.predict`` behind the Runner interface."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgekp.export.contract import OUTPUT_NAME
from edgekp.export.runner import Runner, pixels


class CoreMLRunner(Runner):
    """``MLModel.predict`` face by face (macOS only)."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        import coremltools as ct

        self.model = ct.models.MLModel(str(path), compute_units=ct.ComputeUnit.CPU_ONLY)
        desc = self.model.get_spec().description
        self.image = desc.input[0].type.WhichOneof("Type") == "imageType"
        self.input = desc.input[0].name
        self.outputs = [o.name for o in desc.output]
        self.name, self.threads, self.runtime_version = "coreml-cpu", threads, ct.__version__

    def _feed(self, x: np.ndarray) -> Any:
        if not self.image:
            return x
        from PIL import Image  # an ImageType input takes a PIL image (a CVPixelBuffer in the app)

        return Image.fromarray(pixels(x[0].transpose(1, 2, 0)), "RGB")

    def __call__(self, images: np.ndarray) -> np.ndarray:
        x = np.asarray(images, dtype=np.float32)
        name = OUTPUT_NAME if OUTPUT_NAME in self.outputs else self.outputs[0]
        return np.concatenate(
            [
                np.asarray(self.model.predict({self.input: self._feed(x[i : i + 1])})[name]).reshape(1, -1, 2)
                for i in range(len(x))
            ]
        )
