"""ai-edge-litert, the TFLite target's runtime: its Runner, and its profiler for ``edgekp bench --profile``.

The Python interpreter has no op profiler and the benchmark binary is not in the wheel, so each operator
is cut out into a one-op model (its own tensors and weights, XNNPACK as in the full model) and timed
alone, round robin with the full model. (Timing prefixes of the graph was tried first: XNNPACK
partitions each prefix differently and the differences were noise.) An operator computes in int8 when
its first input is an int8 tensor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgekp.export.profiling import OpTime, Profile
from edgekp.export.runner import Runner, is_presence, pixels
from edgekp.measure.timing import round_robin


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
        self.out = next((o for o in outs if not is_presence(o["shape"])), outs[0])
        self.presence_out = next((o for o in outs if o is not self.out and is_presence(o["shape"])), None)
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


def _tflite_ops(model: Any) -> list[tuple[str, bool]]:
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils as fbu

    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    graph = model.subgraphs[0]
    out = []
    for op in graph.operators:
        name = names.get(fbu.get_builtin_code_from_operator_code(model.operatorCodes[op.opcodeIndex]), "CUSTOM")
        first = next((i for i in op.inputs if i >= 0), None)
        int8 = first is not None and graph.tensors[first].type == schema.TensorType.INT8
        out.append((name, bool(int8)))
    return out


def _single_op(model: Any, index: int) -> bytes:
    """A model holding operator ``index`` alone: its non-constant inputs become graph inputs, and only
    the tensors and weight buffers it touches are kept (so hundreds of these stay small)."""
    import copy

    from ai_edge_litert.tools import flatbuffer_utils as fbu

    graph = model.subgraphs[0]
    op = copy.copy(graph.operators[index])
    used = [i for i in [*op.inputs, *op.outputs] if i >= 0]
    remap = {old: new for new, old in enumerate(dict.fromkeys(used))}
    buffers = [model.buffers[0]]  # buffer 0 is the empty one by convention
    tensors = []
    for old in remap:
        tensor = copy.copy(graph.tensors[old])
        data = model.buffers[tensor.buffer] if tensor.buffer < len(model.buffers) else None
        if data is not None and data.data is not None and len(data.data):
            buffers.append(data)
            tensor.buffer = len(buffers) - 1
        else:
            tensor.buffer = 0
        tensors.append(tensor)
    op.inputs = [remap[i] if i >= 0 else -1 for i in op.inputs]
    op.outputs = [remap[i] for i in op.outputs]
    one = copy.copy(graph)
    one.tensors, one.operators = tensors, [op]
    one.inputs = [i for i in dict.fromkeys(op.inputs) if i >= 0 and tensors[i].buffer == 0]
    one.outputs = list(op.outputs)
    cut = copy.copy(model)
    cut.subgraphs, cut.buffers, cut.signatureDefs, cut.metadata = [one], buffers, [], []
    return bytes(fbu.convert_object_to_bytearray(cut))


def _random_inputs(interp: Any, rng: np.random.Generator) -> None:
    for detail in interp.get_input_details():
        dtype, shape = detail["dtype"], detail["shape"]
        if np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            value = rng.integers(max(info.min, -128), min(info.max, 127) + 1, size=shape).astype(dtype)
        else:
            value = rng.random(shape, dtype=np.float32).astype(dtype)
        interp.set_tensor(detail["index"], value)


def profile_tflite(path: Path, image: np.ndarray, threads: int = 1, rounds: int = 5, calls: int = 20) -> Profile:
    """Each operator timed alone (a one-op model, XNNPACK as in the full model), round robin.

    The sum of the parts exceeds the whole by what XNNPACK fuses across ops and by per-invoke
    overhead; shares between op kinds are what this is for. The full model is timed alongside."""
    from ai_edge_litert import interpreter as litert
    from ai_edge_litert.tools import flatbuffer_utils as fbu

    model = fbu.read_model(str(path))
    ops = _tflite_ops(model)
    rng = np.random.default_rng(0)
    interpreters = []
    for k in range(len(ops)):
        interp = litert.Interpreter(model_content=_single_op(model, k), num_threads=threads)
        interp.allocate_tensors()
        _random_inputs(interp, rng)
        interpreters.append(interp)
    full = litert.Interpreter(model_path=str(path), num_threads=threads)
    full.allocate_tensors()
    _random_inputs(full, rng)
    everything = [*interpreters, full]
    turns = round_robin({k: interp.invoke for k, interp in enumerate(everything)}, rounds, calls, warmup=3)
    times = np.array([turns[k].turn_medians_ms() for k in range(len(everything))]).T  # rounds x models
    per_op = np.median(times, axis=0)
    return Profile(
        "tflite",
        str(path),
        "each op alone (one-op model, XNNPACK), round robin medians; total = full model",
        float(per_op[-1]),
        [OpTime(kind, float(ms), int8) for (kind, int8), ms in zip(ops, per_op[:-1], strict=True)],
    )


def tflite_input_shape(path: Path) -> list[int]:
    from ai_edge_litert import interpreter as litert

    return [int(v) for v in litert.Interpreter(model_path=str(path)).get_input_details()[0]["shape"]]
