"""One Runner per runtime, all here: float32 N x 3 x S x S in [0, 1] -> N x K x 2 normalized (x, y).

Every runner takes NCHW and converts inside (the TFLite TF route is NHWC). Thread counts are fixed
per runner: onnxruntime, ai-edge-litert and OpenVINO take theirs at load time; torch's is
process-wide, so TorchRunner sets its count only inside ``session()`` (or around each call) and
puts the caller's back (edgekp.threads.torch_threads). Backends are imported when a runner is built.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from edgekp.threads import torch_threads

INPUT_NAME = "images"  # the artifact's input and output tensor names, on every target
OUTPUT_NAME = "points"
PRESENCE_NAME = "presence"  # second output (N x 1 face-presence logit) of a model with a presence head


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
            if self.half:
                return self.model(x.half()).float().numpy()
            return self.model(x).numpy()


class OrtRunner(Runner):
    def __init__(self, path: Path, threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        # One fixed thread count: latency numbers mean nothing if ORT sizes its pool to the host.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.ort_session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input = self.ort_session.get_inputs()[0].name
        self.batch_fixed = isinstance(self.ort_session.get_inputs()[0].shape[0], int)
        self.name, self.threads, self.runtime_version = "onnxruntime", threads, ort.__version__

    def __call__(self, images: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(images, dtype=np.float32)
        if not self.batch_fixed:
            return self.ort_session.run(None, {self.input: x})[0]
        return np.concatenate([self.ort_session.run(None, {self.input: x[i:i + 1]})[0] for i in range(len(x))])


class LiteRTRunner(Runner):
    """ai-edge-litert interpreter; batch 1 graphs are run face by face, int8 I/O (de)quantized here."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        from ai_edge_litert import interpreter as litert

        self.interpreter = litert.Interpreter(model_path=str(path), num_threads=threads)
        self.interpreter.allocate_tensors()
        self.inp = self.interpreter.get_input_details()[0]
        # The landmarks are the largest output: a model with a presence head has a second, N x 1 one,
        # and converters do not all keep the outputs' order.
        self.out = max(self.interpreter.get_output_details(), key=lambda d: int(np.prod(d["shape"])))
        shape = list(self.inp["shape"])
        self.layout = "NHWC" if shape[-1] == 3 and shape[1] != 3 else "NCHW"
        self.name, self.threads = "ai-edge-litert", threads
        try:
            import importlib.metadata

            self.runtime_version = importlib.metadata.version("ai-edge-litert")
        except importlib.metadata.PackageNotFoundError:
            self.runtime_version = "unknown"

    def _one(self, x: np.ndarray) -> np.ndarray:
        if self.layout == "NHWC":
            x = x.transpose(0, 2, 3, 1)
        dtype = self.inp["dtype"]
        if dtype != np.float32:  # fully integer model: quantize the input with its own scale
            scale, zero = self.inp["quantization"]
            info = np.iinfo(dtype)
            x = np.clip(np.round(x / scale + zero), info.min, info.max)
        self.interpreter.set_tensor(self.inp["index"], np.ascontiguousarray(x, dtype=dtype))
        self.interpreter.invoke()
        y = self.interpreter.get_tensor(self.out["index"])
        if y.dtype != np.float32:
            scale, zero = self.out["quantization"]
            y = (y.astype(np.float32) - zero) * scale
        return y.reshape(len(x), -1, 2)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        x = np.asarray(images, dtype=np.float32)
        return np.concatenate([self._one(x[i:i + 1]) for i in range(len(x))])


class OpenVINORunner(Runner):
    def __init__(self, path: Path, threads: int = 1) -> None:
        import openvino as ov

        core = ov.Core()
        # f32 inference hint: the CPU plugin may otherwise pick bf16 on hosts that have it, and the
        # artifact's precision (not the plugin's) is what we measure.
        config = {"INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": "f32", "NUM_STREAMS": 1}
        self.compiled = core.compile_model(str(path), "CPU", config)
        first = self.compiled.inputs[0].get_partial_shape()[0]
        self.batch = first.get_length() if first.is_static else None  # None: the IR takes any batch
        self.name, self.threads, self.runtime_version = "openvino-cpu", threads, ov.__version__

    def __call__(self, images: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(images, dtype=np.float32)
        if self.batch is None or len(x) == self.batch:
            return np.asarray(self.compiled(x)[0])
        n, b = len(x), self.batch
        padded = np.concatenate([x, np.zeros((-n % b, *x.shape[1:]), np.float32)]) if n % b else x
        return np.concatenate([np.asarray(self.compiled(padded[i:i + b])[0]) for i in range(0, len(padded), b)])[:n]


class CoreMLRunner(Runner):
    """``MLModel.predict`` face by face (macOS only)."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        import coremltools as ct

        self.model = ct.models.MLModel(str(path), compute_units=ct.ComputeUnit.CPU_ONLY)
        self.name, self.threads, self.runtime_version = "coreml-cpu", threads, ct.__version__

    def __call__(self, images: np.ndarray) -> np.ndarray:
        x = np.asarray(images, dtype=np.float32)
        return np.concatenate([np.asarray(self.model.predict({INPUT_NAME: x[i:i + 1]})[OUTPUT_NAME]) for i in range(len(x))])
