"""onnxruntime, the ONNX target's runtime: its Runner, and its profiler for ``edgekp bench --profile``
(onnxruntime's own profiler, ``enable_profiling``: a JSON trace with one event per node run; a node
computes in int8 when its type is an integer kernel: QLinear*, *Integer, ...)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from edgekp.export.profiling import OpTime, Profile
from edgekp.export.runner import Runner
from edgekp.measure.timing import timed_calls, warm_up

_ORT_INT_KINDS = ("QLinear", "Integer", "QGemm", "QAttention", "DynamicQuantize")


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
        warm_up(lambda: session.run(None, feed), 5)
        walls, _ = timed_calls(lambda: session.run(None, feed), calls)
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


def onnx_input_shape(path: Path) -> list[int]:
    """The graph input's shape as the file declares it (-1: a dynamic dimension)."""
    import onnx

    dims = onnx.load(str(path), load_external_data=False).graph.input[0].type.tensor_type.shape.dim
    return [d.dim_value or -1 for d in dims]
