"""Delegate readiness of a .tflite file, measured here: XNNPACK coverage and TensorFlow's static GPU check.

- XNNPACK (LiteRT's default CPU delegate): the interpreter applies it on load; the nodes it took are
  found by walking back from each DELEGATE node's outputs to its inputs through the original graph
  (a partition is a convex subgraph). Ops delegated / total, and the op types left to the interpreter.
- GPU: ``tf.lite.experimental.Analyzer.analyze(..., gpu_compatibility=True)``, when TensorFlow is
  installed; its verdict and the op types it flags. A static check, not a run on a phone's GPU.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any


def xnnpack_coverage(path: Path) -> dict[str, Any]:
    from ai_edge_litert import interpreter as litert

    it = litert.Interpreter(model_path=str(path), num_threads=1)
    it.allocate_tensors()
    raw = it._interpreter
    nodes = [(raw.NodeName(i), list(raw.NodeInputs(i)), list(raw.NodeOutputs(i))) for i in range(raw.NumNodes())]
    original = [n for n in nodes if n[0] != "DELEGATE"]
    producer = {t: i for i, (_, _, outs) in enumerate(original) for t in outs}
    taken: set[int] = set()
    for name, ins, outs in nodes:
        if name != "DELEGATE":
            continue
        stop, stack = set(ins), list(outs)
        while stack:
            t = stack.pop()
            p = producer.get(t)
            if t in stop or p is None or p in taken:
                continue
            taken.add(p)
            stack.extend(original[p][1])
    left: dict[str, int] = {}
    for i, (name, _, _) in enumerate(original):
        if i not in taken:
            left[name] = left.get(name, 0) + 1
    return {
        "delegated": len(taken),
        "total": len(original),
        "partitions": sum(1 for n in nodes if n[0] == "DELEGATE"),
        "not_delegated": dict(sorted(left.items())),
    }


def gpu_compatibility(path: Path) -> dict[str, Any]:
    try:
        import tensorflow as tf
    except ImportError:
        return {
            "checked": False,
            "why": "TensorFlow is not installed (pip install tensorflow for the static GPU check)",
        }
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tf.lite.experimental.Analyzer.analyze(model_path=str(path), gpu_compatibility=True)
    text = out.getvalue()
    flagged = sorted(set(re.findall(r"GPU COMPATIBILITY WARNING: [^\n]*?'?([A-Z_0-9]+)'? ?[^\n]*", text)))
    failing = sorted(set(re.findall(r"Op(?:eration)? ([A-Z_0-9]+)[^\n]*(?:not supported|unsupported)", text)))
    compatible = "Your model looks compatible with GPU delegate" in text
    warnings = [line.strip() for line in text.splitlines() if "GPU COMPATIBILITY WARNING" in line]
    return {
        "checked": True,
        "compatible": compatible,
        "failing_ops": sorted(set(failing) | set(flagged)) if not compatible else [],
        "warnings": warnings[:20],
        "n_warnings": len(warnings),
    }


def delegate_readiness(path: Path) -> dict[str, Any]:
    return {"xnnpack": xnnpack_coverage(path), "gpu": gpu_compatibility(path)}
