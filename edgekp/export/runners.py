"""One Runner per runtime, all here: float32 N x 3 x S x S in [0, 1] -> N x K x 2 normalized (x, y).

Every runner takes NCHW float and converts inside to what the artifact's input tensor takes (NHWC,
uint8 pixels 0-255 rounded from the same [0, 1] values, or a CoreML image), read from the file itself. Thread counts
are fixed
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

from edgekp.export.contract import INPUT_NAME, OUTPUT_NAME  # noqa: F401  (the tensor names, on every target)
from edgekp.threads import torch_threads


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


def _is_presence(shape: Any) -> bool:
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


class OrtRunner(Runner):
    def __init__(self, path: Path, threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        # One fixed thread count: latency numbers mean nothing if ORT sizes its pool to the host.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.ort_session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input = self.ort_session.get_inputs()[0].name
        outs = self.ort_session.get_outputs()
        self.outputs = [o.name for o in outs]
        self.presence_name = next((o.name for o in outs if o.name == "presence"), None)
        self.batch_fixed = isinstance(self.ort_session.get_inputs()[0].shape[0], int)
        self.name, self.threads, self.runtime_version = "onnxruntime", threads, ort.__version__

    def input_shape(self) -> list[int] | None:
        return [d if isinstance(d, int) else -1 for d in self.ort_session.get_inputs()[0].shape]

    def _run(self, images: np.ndarray, name: str) -> np.ndarray:
        x = np.ascontiguousarray(images, dtype=np.float32)
        if not self.batch_fixed:
            return self.ort_session.run([name], {self.input: x})[0]
        return np.concatenate([self.ort_session.run([name], {self.input: x[i : i + 1]})[0] for i in range(len(x))])

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return self._run(images, self.outputs[0])

    def presence(self, images: np.ndarray) -> np.ndarray | None:
        return None if self.presence_name is None else self._run(images, self.presence_name).reshape(-1, 1)


class LiteRTRunner(Runner):
    """ai-edge-litert interpreter; batch 1 graphs are run face by face, int8 I/O (de)quantized here."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        from ai_edge_litert import interpreter as litert

        self.interpreter = litert.Interpreter(model_path=str(path), num_threads=threads)
        self.interpreter.allocate_tensors()
        self.inp = self.interpreter.get_input_details()[0]
        # A model with a presence head has a second, N x 1 output, and converters do not all keep the
        # outputs' order: the landmarks are the output that is not N x 1.
        outs = self.interpreter.get_output_details()
        self.out = next((o for o in outs if not _is_presence(o["shape"])), outs[0])
        self.presence_out = next((o for o in outs if o is not self.out and _is_presence(o["shape"])), None)
        shape = list(self.inp["shape"])
        self.layout = "NHWC" if shape[-1] == 3 and shape[1] != 3 else "NCHW"
        self.name, self.threads = "ai-edge-litert", threads
        try:
            import importlib.metadata

            self.runtime_version = importlib.metadata.version("ai-edge-litert")
        except importlib.metadata.PackageNotFoundError:
            self.runtime_version = "unknown"

    def input_shape(self) -> list[int] | None:
        return [int(v) for v in self.inp["shape"]]

    def native(self, x: np.ndarray) -> np.ndarray:
        """NCHW float [0, 1] -> exactly what the input tensor takes (what an app hands the runtime)."""
        if self.layout == "NHWC":
            x = x.transpose(0, 2, 3, 1)
        dtype = self.inp["dtype"]
        scale, zero = self.inp["quantization"]
        if dtype == np.uint8 and scale == 0:  # image input: raw pixels, normalization inside the graph
            x = pixels(x)
        elif dtype != np.float32:  # int I/O with its own scale (onnx2tf's integer models)
            info = np.iinfo(dtype)
            x = np.clip(np.round(x / scale + zero), info.min, info.max)
        return np.ascontiguousarray(x, dtype=dtype)

    def native_call(self, image: np.ndarray) -> Any:
        """A call on a tensor already in the artifact's own form: the runtime alone, for latency."""
        x = self.native(np.asarray(image, np.float32)[:1])

        def call(_: Any = None) -> np.ndarray:
            self.interpreter.set_tensor(self.inp["index"], x)
            self.interpreter.invoke()
            return self.interpreter.get_tensor(self.out["index"])

        return call

    def _invoke(self, x: np.ndarray) -> None:
        self.interpreter.set_tensor(self.inp["index"], self.native(x))
        self.interpreter.invoke()

    def _get(self, out: dict[str, Any]) -> np.ndarray:
        y = self.interpreter.get_tensor(out["index"])
        if y.dtype != np.float32:
            scale, zero = out["quantization"]
            y = (y.astype(np.float32) - zero) * scale
        return y

    def _one(self, x: np.ndarray) -> np.ndarray:
        self._invoke(x)
        return self._get(self.out).reshape(len(x), -1, 2)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        x = np.asarray(images, dtype=np.float32)
        return np.concatenate([self._one(x[i : i + 1]) for i in range(len(x))])

    def presence(self, images: np.ndarray) -> np.ndarray | None:
        if self.presence_out is None:
            return None
        x = np.asarray(images, dtype=np.float32)
        out = []
        for i in range(len(x)):
            self._invoke(x[i : i + 1])
            out.append(self._get(self.presence_out).reshape(1, 1))
        return np.concatenate(out)


class OpenVINORunner(Runner):
    def __init__(self, path: Path, threads: int = 1) -> None:
        import openvino as ov

        core = ov.Core()
        # f32 inference hint: the CPU plugin may otherwise pick bf16 on hosts that have it, and the
        # artifact's precision (not the plugin's) is what we measure.
        config = {"INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": "f32", "NUM_STREAMS": 1}
        self.compiled = core.compile_model(str(path), "CPU", config)
        port = self.compiled.inputs[0]
        self.shape = port.get_partial_shape()
        first = self.shape[0]
        self.batch = first.get_length() if first.is_static else None  # None: the IR takes any batch
        # Image input (PrePostProcessor): u8 NHWC; the [0, 1] floats become the same pixels.
        self.u8 = port.get_element_type() == ov.Type.u8
        self.nhwc = self.shape.rank.get_length() == 4 and self.shape[3].is_static and self.shape[3].get_length() == 3
        outs = self.compiled.outputs
        self.out = next(
            (o for o in outs if not (o.get_partial_shape().is_static and _is_presence(o.get_shape()))), outs[0]
        )
        self.presence_out = next((o for o in outs if o is not self.out), None)
        self.name, self.threads, self.runtime_version = "openvino-cpu", threads, ov.__version__

    def input_shape(self) -> list[int] | None:
        return [d.get_length() if d.is_static else -1 for d in self.shape]

    def _feed(self, images: np.ndarray) -> np.ndarray:
        x = np.asarray(images, dtype=np.float32)
        if self.nhwc:
            x = x.transpose(0, 2, 3, 1)
        return np.ascontiguousarray(pixels(x) if self.u8 else x)

    def _run(self, images: np.ndarray, out: Any) -> np.ndarray:
        x = self._feed(images)
        if self.batch is None or len(x) == self.batch:
            return np.asarray(self.compiled(x)[out])
        n, b = len(x), self.batch
        padded = np.concatenate([x, np.zeros((-n % b, *x.shape[1:]), x.dtype)]) if n % b else x
        return np.concatenate([np.asarray(self.compiled(padded[i : i + b])[out]) for i in range(0, len(padded), b)])[:n]

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return self._run(images, self.out)

    def native_call(self, image: np.ndarray) -> Any:
        """A call on a tensor already in the IR's own form (u8 NHWC for an image input), for latency."""
        x = self._feed(np.asarray(image, np.float32)[: self.batch or 1])
        request = self.compiled.create_infer_request()

        def call(_: Any = None) -> Any:
            return request.infer({0: x})

        return call

    def presence(self, images: np.ndarray) -> np.ndarray | None:
        return None if self.presence_out is None else self._run(images, self.presence_out).reshape(-1, 1)


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
