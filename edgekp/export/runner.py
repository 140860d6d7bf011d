"""The Runner interface every runtime implements, and TorchRunner, the reference every export is compared with.

One signature for every runtime: float32 N x 3 x S x S in [0, 1] -> N x K x 2 normalized (x, y). Each
target's own runner lives in its runtime module (onnx_runtime, tflite_runtime, openvino_runtime,
coreml_runtime) and is reached through ``Target.load_runner``. Every runner takes NCHW float and converts
inside to what the artifact's input tensor takes (NHWC, uint8 pixels 0-255 rounded from the same [0, 1]
values, or a CoreML image), read from the file itself. Thread counts are fixed per runner: onnxruntime,
ai-edge-litert and OpenVINO take theirs at load time; torch's is process-wide, so TorchRunner sets its
count only inside ``session()`` (or around each call) and puts the caller's back
(edgekp.measure.threads.torch_threads). Backends are imported when a runner is built.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from edgekp.measure.threads import torch_threads


class Runner(ABC):
    """One signature for every runtime: float32 N x 3 x S x S in [0, 1] -> N x K x 2 normalized (x, y)."""

    name: str = ""
    threads: int | None = 1
    runtime_version: str = ""

    @abstractmethod
    def __call__(self, images: np.ndarray) -> np.ndarray: ...

    def session(self) -> contextlib.AbstractContextManager[Any]:
        """A context for many calls in a row (a latency loop): holds the runner's thread setting."""
        return contextlib.nullcontext()

    def describe(self) -> dict[str, Any]:
        return {"runtime": self.name, "runtime_version": self.runtime_version, "threads": self.threads}

    def presence(self, images: np.ndarray) -> np.ndarray | None:
        """N x 1 presence logits where the artifact has a presence output; None otherwise."""
        return None

    def input_shape(self) -> list[int] | None:
        """The artifact's input tensor shape as the runtime reports it (None where it cannot tell)."""
        return None


def pixels(x: np.ndarray) -> np.ndarray:
    """[0, 1] float -> uint8 0-255: exact for images that came from uint8 (x = k / 255)."""
    return np.clip(np.round(np.asarray(x, np.float64) * 255.0), 0, 255).astype(np.uint8)


def is_presence(shape: Any) -> bool:
    """A 1-element output: the presence logit beside the landmarks."""
    return int(np.prod([int(d) for d in shape])) == 1


class TorchRunner(Runner):
    """The PyTorch model (the reference every export is compared with), optionally in fp16 as the
    stand-in for a runtime this host lacks. ``threads=None`` runs at the process's current setting."""

    def __init__(self, model: Any, threads: int | None = None, half: bool = False) -> None:
        import copy

        import torch

        self.model = copy.deepcopy(model).half().eval() if half else model.eval()
        self.half = half
        self.threads = threads
        self.name = "torch-fp16" if half else "torch"
        self.runtime_version = torch.__version__

    def session(self) -> contextlib.AbstractContextManager[Any]:
        return torch_threads(self.threads)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        import torch

        x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
        with torch_threads(self.threads), torch.inference_mode():
            y = self.model(x.half()) if self.half else self.model(x)
            return (y[0] if isinstance(y, tuple) else y).float().numpy()

    def presence(self, images: np.ndarray) -> np.ndarray | None:
        import torch

        if not getattr(self.model, "has_presence", False):
            return None
        x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))
        with torch_threads(self.threads), torch.inference_mode():
            return self.model.forward_with_presence(x.half() if self.half else x)[1].float().numpy().reshape(-1, 1)
