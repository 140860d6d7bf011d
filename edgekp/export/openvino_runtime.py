"""The OpenVINO CPU plugin, the OpenVINO target's runtime: its Runner, and its profiler for
``edgekp bench --profile``: the plugin's per-layer performance counters (``PERF_COUNT``), real time per
executed layer and the kernel it ran (``exec_type``, e.g. ``jit_avx512_I8`` or ``..._FP32``), which says
whether that layer computed in int8."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgekp.export.profiling import OpTime, Profile
from edgekp.export.runner import Runner, is_presence, pixels
from edgekp.measure.timing import timed_calls, warm_up


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
            (o for o in outs if not (o.get_partial_shape().is_static and is_presence(o.get_shape()))), outs[0]
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


def profile_openvino(path: Path, image: np.ndarray, threads: int = 1, calls: int = 50) -> Profile:
    import openvino as ov

    config = {"INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": "f32", "NUM_STREAMS": 1, "PERF_COUNT": True}
    compiled = ov.Core().compile_model(str(path), "CPU", config)
    request = compiled.create_infer_request()
    x = _as_openvino_input(image, compiled.input(0))
    per_layer: dict[str, list[float]] = {}
    kinds: dict[str, tuple[str, bool]] = {}

    def read_counters() -> None:  # after each timed call, outside its timing
        for info in request.get_profiling_info():
            if str(info.status).endswith("EXECUTED"):
                per_layer.setdefault(info.node_name, []).append(info.real_time.total_seconds() * 1000.0)
                kinds[info.node_name] = (info.node_type, _ov_int8(info.exec_type) and not _input_conversion(info))

    def infer() -> None:
        request.infer({0: x})

    warm_up(infer, 5)
    walls, _ = timed_calls(infer, calls, after=read_counters)
    ops = [OpTime(kinds[n][0], float(np.median(t)), kinds[n][1]) for n, t in per_layer.items()]
    return Profile(
        "openvino",
        str(path),
        "CPU plugin performance counters (median per layer)",
        float(np.median(walls)) * 1000.0,
        ops,
    )


def _as_openvino_input(image: np.ndarray, port: Any) -> np.ndarray:
    """``image`` (N x 3 x S x S float in [0, 1]) in the IR's own input form: an image-shaped IR takes
    u8 NHWC pixels (edgekp.export.deploy), the tensor form NCHW float."""
    shape = list(port.get_partial_shape().get_min_shape())
    x = image.transpose(0, 2, 3, 1) if len(shape) == 4 and shape[-1] == 3 and shape[1] != 3 else image
    if "u8" in str(port.get_element_type()):
        return np.ascontiguousarray(np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8))
    return np.ascontiguousarray(x, dtype=np.float32)


def _input_conversion(info: Any) -> bool:
    """An op that only reads the u8 pixels of an image-shaped IR: the layout transpose and the input
    normalization (u8 in, f32 out). The CPU plugin names their kernels after their u8 input, but they
    are input conversion in a float graph too, not int8 arithmetic."""
    return info.node_type in ("Transpose", "Reorder", "Convert") or "normalize/" in info.node_name


def _ov_int8(exec_type: str) -> bool:
    low = exec_type.lower()
    return any(tag in low for tag in ("_i8", "_u8", "int8", "i8_", "u8_")) or low.endswith(("i8", "u8"))


def openvino_input_shape(path: Path) -> list[int]:
    import openvino as ov

    return [
        d.get_length() if d.is_static else -1 for d in ov.Core().read_model(str(path)).inputs[0].get_partial_shape()
    ]
