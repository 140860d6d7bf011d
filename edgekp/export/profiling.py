"""What a per-operator profile is (``edgekp bench --profile``): each target's profiler returns a Profile.

The profilers live with their runtimes (onnx_runtime, tflite_runtime, openvino_runtime), reached through
``Target.profile``; edgekp.bench.profile runs them over a run's exports and formats the result. Every
report gives: total time, time share and count per op kind, how many ops stay float in an int8 model,
and the count of quantize/dequantize operators.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

QDQ_KINDS = frozenset({"QUANTIZE", "DEQUANTIZE", "QuantizeLinear", "DequantizeLinear", "FakeQuantize"})


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
