"""benchmarks/qat_vs_ptq.py's figures: which face sets it scores and how (the reference report's list,
read as the parent's recipe reads each set), and each export's change against its target's fp32
export, the 1 % flags, and the markdown table per target (edgekp.report.qat_vs_ptq runs it)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from edgekp.report.reference import FACE_SETS

TARGETS = ("openvino", "onnx", "tflite")
QAT_RECIPES = {"openvino": "openvino_int8", "onnx": "onnx_int8", "tflite": "tflite_int8"}
TOLERANCE = 0.01  # the target: QAT int8 within 1 % relative of fp32 on every face set
NORM_LABEL = {"inter_ocular": "io", "inter_pupil": "ip", "box": "box"}
# A set the parent's recipe does not name is scored as the reference report's headline reads it:
# MERL-RAV box-normalized (profiles collapse the inter-ocular distance), the others inter-ocular.
REPORT_NORMS = {"merlrav_test": "box"}


@dataclass(frozen=True)
class FaceSetSpec:
    """One face set of the reference report, with how the parent's recipe reads and scores it."""

    name: str
    datasets: tuple[tuple[str, str], ...]  # (path relative to the data root, reader format)
    holdout: bool  # keep only the faces the parent's training held out
    norm: str


def reference_face_sets() -> dict[str, tuple[list[str], bool, str]]:
    """edgekp.report.reference.FACE_SETS: the benchmark scores exactly the report's face sets."""
    return FACE_SETS


def face_set_specs(data: Any, face_sets: dict[str, tuple[list[str], bool, str]]) -> list[FaceSetSpec]:
    """Format and normalization of each face set from the recipe's data section (``data``, a DataSpec):
    a data.val entry on that path gives both (MERL-RAV test: coco, box); a held-out set takes the
    val_split's normalization and its training entry's format; anything else is read as 'auto' and
    scored as the report's headline reads it (REPORT_NORMS, else inter-ocular)."""
    val = {s.path: s for s in data.val}
    train = {s.path: s for s in data.train}
    out = []
    for name, (paths, holdout, _) in face_sets.items():
        datasets, norms = [], set()
        for path in paths:
            if path in val:
                datasets.append((path, str(val[path].format)))
                norms.add(str(val[path].norm))
            elif path in train:
                datasets.append((path, str(train[path].format)))
                split = data.val_split
                norms.add(str(split.norm) if holdout and split is not None else "inter_ocular")
            else:
                datasets.append((path, "auto"))
                norms.add(REPORT_NORMS.get(name, "inter_ocular"))
        if len(norms) != 1:
            raise ValueError(f"face set {name!r}: its datasets are scored under different norms {sorted(norms)}")
        out.append(FaceSetSpec(name, tuple(datasets), holdout, norms.pop()))
    return out


def relative(value: float | None, ref: float | None) -> float | None:
    """value / ref - 1, or None where either is missing (an empty bin, a failed fp32 row)."""
    if value is None or ref is None or ref == 0 or math.isnan(value) or math.isnan(ref):
        return None
    return value / ref - 1.0


def compare(row: dict[str, Any], ref: dict[str, Any] | None) -> tuple[dict[str, float | None], list[str]]:
    """Relative change of every figure of ``row`` against the fp32 row ``ref``: {'<set>' or '<set> <bin>': d},
    and the figures whose |d| exceeds TOLERANCE."""
    deltas: dict[str, float | None] = {}
    for name, figs in row["sets"].items():
        base = (ref or {}).get("sets", {}).get(name, {})
        deltas[name] = relative(figs["nme"], base.get("nme"))
        for b, cell in figs.get("bins", {}).items():
            deltas[f"{name} {b}"] = relative(cell["nme"], base.get("bins", {}).get(b, {}).get("nme"))
    flagged = [k for k, d in deltas.items() if d is not None and abs(d) > TOLERANCE]
    return deltas, flagged


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def _d(value: float | None) -> str:
    return "" if value is None else f"{100 * value:+.1f} %" + (" !" if abs(value) > TOLERANCE else "")


def table(target: str, rows: list[dict[str, Any]], specs: list[FaceSetSpec]) -> list[str]:
    """A markdown table of one target's rows: each set's NME and d (bins of box-normalized sets with
    their d in the cell), size, latency, and the figures beyond the tolerance."""
    head = ["precision"]
    for s in specs:
        head += [f"{s.name} % {NORM_LABEL.get(s.norm, s.norm)}", "d"]
        if s.norm == "box":
            head += [f"\\|yaw\\| {b} (n={n})" for b, n in bins_of(rows, s.name).items()]
    head += ["size KB", "p50 ms", f"\\|d\\| > {100 * TOLERANCE:g} %"]
    rule = ["---"] * len(head)
    lines = [f"### {target}", "", "| " + " | ".join(head) + " |", "|" + "|".join(rule) + "|"]
    for r in rows:
        if r["status"] != "ok":
            lines.append("| " + " | ".join([r["precision"], *[""] * (len(head) - 2), r["status"]]) + " |")
            continue
        cells = [r["precision"]]
        for s in specs:
            figs = r["sets"][s.name]
            cells += [_pct(figs["nme"]), _d(r["d"].get(s.name))]
            if s.norm == "box":
                for b in bins_of(rows, s.name):
                    d = r["d"].get(f"{s.name} {b}")
                    cells.append(_pct(figs["bins"][b]["nme"]) + (f" ({_d(d)})" if d is not None else ""))
        cells += [
            f"{r['size_kb']:.0f}",
            f"{r['latency_ms']:.2f}",
            "fp32 reference"
            if r["precision"] == "fp32"
            else "none"
            if not r["flags"]
            else ", ".join(f"{k} {_d(r['d'][k])}" for k in r["flags"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines + [""]


def bins_of(rows: list[dict[str, Any]], name: str) -> dict[str, int]:
    """The |yaw| bins of a set with their face counts (the same faces in every row of a target)."""
    for r in rows:
        if r["status"] == "ok":
            return {b: cell["n"] for b, cell in r["sets"][name].get("bins", {}).items()}
    return {}
