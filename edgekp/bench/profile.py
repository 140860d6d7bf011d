"""Where the time goes: a per-operator breakdown of one artifact in its own runtime (``edgekp bench --profile``).

- OpenVINO: the CPU plugin's per-layer performance counters (``PERF_COUNT``): real time per executed
  layer, and the kernel it ran (``exec_type``, e.g. ``jit_avx512_I8`` or ``..._FP32``), which says
  whether that layer computed in int8.
- onnxruntime: its own profiler (``enable_profiling``): a JSON trace with one event per node run.
  A node computes in int8 when its type is an integer kernel (QLinear*, *Integer, ...).
- LiteRT: the Python interpreter has no op profiler and the benchmark binary is not in the wheel, so
  each operator is cut out into a one-op model (its own tensors and weights, XNNPACK as in the full
  model) and timed alone, round robin with the full model. (Timing prefixes of the graph was tried
  first: XNNPACK partitions each prefix differently and the differences were noise.) An operator
  computes in int8 when its first input is an int8 tensor.

Every report gives: total time, time share and count per op kind, how many ops stay float in an
int8 model, and the count of quantize/dequantize operators.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

QDQ_KINDS = frozenset({"QUANTIZE", "DEQUANTIZE", "QuantizeLinear", "DequantizeLinear", "FakeQuantize"})
_ORT_INT_KINDS = ("QLinear", "Integer", "QGemm", "QAttention", "DynamicQuantize")


@dataclass
class OpTime:
    kind: str
    ms: float
    int8: bool


@dataclass
class Profile:
    runtime: str
    artifact: str
    method: str
    total_ms: float
    ops: list[OpTime] = field(default_factory=list)
    # Which export of a run this is (set by profile_run), so a reader pairs fp32 with int8 without parsing text.
    target: str = ""
    precision: str = ""
    route: str = ""

    def by_kind(self) -> list[dict[str, Any]]:
        """One row per (op kind, int8 or float): count, ms per call, share of the summed op time."""
        rows: dict[tuple[str, bool], dict[str, Any]] = {}
        for op in self.ops:
            row = rows.setdefault((op.kind, op.int8), {"kind": op.kind, "int8": op.int8, "count": 0, "ms": 0.0})
            row["count"] += 1
            row["ms"] += op.ms
        total = sum(max(0.0, r["ms"]) for r in rows.values()) or 1.0
        for row in rows.values():
            row["share"] = max(0.0, row["ms"]) / total
        return sorted(rows.values(), key=lambda r: -r["ms"])

    def summary(self) -> dict[str, Any]:
        compute = [op for op in self.ops if op.kind not in QDQ_KINDS]
        return {
            "runtime": self.runtime,
            "artifact": self.artifact,
            "method": self.method,
            "total_ms": self.total_ms,
            "target": self.target,
            "precision": self.precision,
            "route": self.route,
            "ops": len(self.ops),
            "int8_ops": sum(op.int8 for op in compute),
            "float_ops": sum(not op.int8 for op in compute),
            "qdq_ops": sum(op.kind in QDQ_KINDS for op in self.ops),
            "float_kinds": sorted({op.kind for op in compute if not op.int8}),
            "by_kind": self.by_kind(),
        }


# -- OpenVINO ---------------------------------------------------------------------------------------
def profile_openvino(path: Path, image: np.ndarray, threads: int = 1, calls: int = 50) -> Profile:
    import openvino as ov

    config = {"INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": "f32", "NUM_STREAMS": 1, "PERF_COUNT": True}
    compiled = ov.Core().compile_model(str(path), "CPU", config)
    request = compiled.create_infer_request()
    x = _as_openvino_input(image, compiled.input(0))
    for _ in range(5):
        request.infer({0: x})
    per_layer: dict[str, list[float]] = {}
    kinds: dict[str, tuple[str, bool]] = {}
    walls = []
    for _ in range(calls):
        t0 = time.perf_counter()
        request.infer({0: x})
        walls.append(time.perf_counter() - t0)
        for info in request.get_profiling_info():
            if str(info.status).endswith("EXECUTED"):
                per_layer.setdefault(info.node_name, []).append(info.real_time.total_seconds() * 1000.0)
                kinds[info.node_name] = (info.node_type, _ov_int8(info.exec_type) and not _input_conversion(info))
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


# -- onnxruntime ------------------------------------------------------------------------------------
def profile_onnx(path: Path, image: np.ndarray, threads: int = 1, calls: int = 50) -> Profile:
    import onnxruntime as ort

    with tempfile.TemporaryDirectory(prefix="edgekp_ortprof_") as tmp:
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.enable_profiling = True
        so.profile_file_prefix = str(Path(tmp) / "ort")
        session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        feed = {session.get_inputs()[0].name: np.ascontiguousarray(image, dtype=np.float32)}
        for _ in range(5):
            session.run(None, feed)
        walls = []
        for _ in range(calls):
            t0 = time.perf_counter()
            session.run(None, feed)
            walls.append(time.perf_counter() - t0)
        trace = json.loads(Path(session.end_profiling()).read_text())
    per_node: dict[str, list[float]] = {}
    kinds: dict[str, str] = {}
    for event in trace:
        args = event.get("args", {})
        if event.get("cat") == "Node" and str(event.get("name", "")).endswith("_kernel_time") and "op_name" in args:
            per_node.setdefault(event["name"], []).append(float(event["dur"]) / 1000.0)
            kinds[event["name"]] = str(args["op_name"])
    # The first runs (warm-up) are in the trace too; the median per node is robust to them.
    ops = [
        OpTime(kinds[n], float(np.median(t)), any(tag in kinds[n] for tag in _ORT_INT_KINDS))
        for n, t in per_node.items()
    ]
    return Profile(
        "onnxruntime",
        str(path),
        "onnxruntime profiler (median kernel time per node)",
        float(np.median(walls)) * 1000.0,
        ops,
    )


# -- LiteRT -----------------------------------------------------------------------------------------
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
    times = np.zeros((rounds, len(everything)))
    for interp in everything:
        for _ in range(3):
            interp.invoke()
    for r in range(rounds):
        for k, interp in enumerate(everything):
            samples = []
            for _ in range(calls):
                t0 = time.perf_counter()
                interp.invoke()
                samples.append(time.perf_counter() - t0)
            times[r, k] = np.median(samples) * 1000.0
    per_op = np.median(times, axis=0)
    return Profile(
        "tflite",
        str(path),
        "each op alone (one-op model, XNNPACK), round robin medians; total = full model",
        float(per_op[-1]),
        [OpTime(kind, float(ms), int8) for (kind, int8), ms in zip(ops, per_op[:-1], strict=True)],
    )


def profile_artifact(path: Path, image: np.ndarray, threads: int = 1) -> Profile:
    suffix = path.suffix.lower()
    if suffix == ".tflite":
        return profile_tflite(path, image, threads)
    if suffix == ".xml":
        return profile_openvino(path, image, threads)
    if suffix == ".onnx":
        return profile_onnx(path, image, threads)
    from edgekp.errors import ConfigError

    raise ConfigError(f"--profile covers .tflite, .xml (OpenVINO) and .onnx artifacts, not {path.name!r}")


def format_profile(profile: Profile, top: int = 12) -> str:
    s = profile.summary()
    lines = [
        f"{s['runtime']}: {Path(s['artifact']).name}  total {s['total_ms']:.3f} ms  ({s['method']})",
        f"  ops {s['ops']}: int8 {s['int8_ops']}, float {s['float_ops']}, quantize/dequantize {s['qdq_ops']}",
    ]
    if s["int8_ops"]:
        lines.append(f"  float op kinds in the int8 model: {', '.join(s['float_kinds']) or 'none'}")
    lines.append(f"  {'op kind':<28} {'int8':>5} {'count':>5} {'ms':>8} {'share':>6}")
    for row in s["by_kind"][:top]:
        lines.append(
            f"  {row['kind']:<28} {'yes' if row['int8'] else 'no':>5} {row['count']:>5} {row['ms']:>8.3f} "
            f"{row['share']:>6.1%}"
        )
    return "\n".join(lines)


def _input_size(path: Path) -> int:
    """The artifact's square input side (NCHW or NHWC), read from the file itself."""
    suffix = path.suffix.lower()
    if suffix == ".tflite":
        from ai_edge_litert import interpreter as litert

        shape = list(litert.Interpreter(model_path=str(path)).get_input_details()[0]["shape"])
    elif suffix == ".xml":
        import openvino as ov

        shape = [
            d.get_length() if d.is_static else -1 for d in ov.Core().read_model(str(path)).inputs[0].get_partial_shape()
        ]
    else:
        import onnx

        dims = onnx.load(str(path), load_external_data=False).graph.input[0].type.tensor_type.shape.dim
        shape = [d.dim_value or -1 for d in dims]
    return int(shape[2] if shape[1] in (1, 3) else shape[1])


PROFILED_SUFFIXES = (".tflite", ".xml", ".onnx")
PROFILE_FILE = "profile.json"  # what `edgekp bench --profile` writes into <run>/bench/, beside bench.json


def profile_run(run_dir: str | Path, targets: tuple[str, ...] | None = None, threads: int = 1) -> list[Profile]:
    """A profile of every finished TFLite / OpenVINO / ONNX artifact under a run (``edgekp bench --profile``)."""
    from edgekp.bench.runs import find_artifacts

    _, refs = find_artifacts(run_dir)
    profiles = []
    for ref in refs:
        if ref.status != "ok" or ref.path is None or ref.path.suffix.lower() not in PROFILED_SUFFIXES:
            continue
        if targets and ref.target not in targets:
            continue
        size = _input_size(ref.path)
        image = np.random.default_rng(0).random((1, 3, size, size), dtype=np.float32)
        profile = profile_artifact(ref.path, image, threads)
        profile.artifact = f"{ref.target} {ref.precision} ({ref.route}): {ref.path}"
        profile.target, profile.precision, profile.route = ref.target, ref.precision, ref.route
        profiles.append(profile)
    return profiles
