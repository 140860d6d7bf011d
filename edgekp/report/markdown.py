"""The Markdown report. Also the source of the HTML report's text (same sections, same tables)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgekp.report.compare import comparison, peer_latency_ratios
from edgekp.report.host_notes import int8_expectation
from edgekp.report.profile_tables import PROFILE_TEXT, RunProfiles, runtime_tables, section_title
from edgekp.report.profile_tables import host_lines as profile_host_lines
from edgekp.report.tables import (
    LATENCY_COLUMNS,
    MAIN_COLUMNS,
    YAW_COLUMNS,
    RunReport,
    has_large_poses,
    latency_cells,
    main_cells,
    yaw_cells,
)
from edgekp.report.verdict import BEST_COLUMNS, FRONT_COLUMNS, SYNTHETIC_TEXT, build_verdict

PLOT_TITLES = {
    "accuracy_vs_latency": "Accuracy vs latency (Pareto front marked)",
    "ced": "Cumulative error distribution, one curve per run and peer",
    "pose": "NME by pose, one group per run and peer",
    "samples": "Sample faces",
    "heads": "Head importance (pruned run)",
}


@dataclass
class ReportDoc:
    """Everything a writer needs, computed once."""

    title: str
    command: str
    generated: str
    runs: list[RunReport]
    plots: dict[str, Path] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    extra_notes: list[str] = field(default_factory=list)  # e.g. pipeline stages that were skipped
    profiles: list[RunProfiles] = field(default_factory=list)  # runs with a bench/profile.json


YAW_TEXT = (
    "The face set holds large poses, where the inter-ocular distance collapses. Box NME divides by "
    "sqrt(w * h) of the box of each face's labelled points and scores every face; inter-ocular NME leaves out "
    "faces whose outer eye corners are not both labelled (scored: how many remain). Both are means over the "
    "labelled points only; cells are NME % (faces). |yaw| bins: 0-30, 30-60, 60-90 degrees (60 and more in "
    "the last); yaw from: the dataset's labels or the landmark-fit estimate."
)


def table(header: list[str] | tuple[str, ...], rows: list[list[str]]) -> str:
    def esc(cell: str) -> str:
        return str(cell).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def host_lines(doc: ReportDoc) -> list[str]:
    seen, lines = set(), []
    for run in doc.runs:
        h = run.result.host
        key = (h.get("cpu"), tuple(h.get("isa", [])))
        if key in seen:
            continue
        seen.add(key)
        libs = h.get("libraries", {})
        runtimes = ", ".join(
            f"{k} {libs[k]}" for k in ("torch", "onnxruntime", "ai-edge-litert", "openvino", "coremltools") if k in libs
        )
        vnni = "with VNNI" if h.get("has_vnni") else "no VNNI: int8 kernels get no speed-up here"
        lines.append(
            f"- Host: {h.get('cpu')}, {h.get('cores')} cores, ISA {', '.join(h.get('isa', [])) or '?'} ({vnni}); "
            f"{h.get('os')}, Python {h.get('python')}; {runtimes}"
        )
    return lines


def notes(doc: ReportDoc) -> list[str]:
    out = [f"- {n}" for n in doc.extra_notes]
    for run in doc.runs:
        for rr in run.rows:
            for note in rr.row.notes:
                text = f"- {rr.label}: {note}"
                if text not in out:
                    out.append(text)
    return out


PEER_RATIO_TEXT = (
    "edgekp's default TFLite fp32 model (litert route) over each peer: host p50 at the same thread "
    "count, measured in the same bench (below 1: edgekp is faster)."
)
PEER_RATIO_COLUMNS = ("run", "peer", "threads", "edgekp p50 ms", "peer p50 ms", "ratio")


def peer_ratio_rows(doc: ReportDoc) -> list[list[str]]:
    return [
        [
            str(r["run"]),
            str(r["peer"]),
            str(r["threads"]),
            f"{r['edgekp_p50_ms']:.2f}",
            f"{r['peer_p50_ms']:.2f}",
            f"{r['ratio']:.2f}",
        ]
        for r in peer_latency_ratios(doc.runs)
    ]


def profile_section(doc: ReportDoc) -> list[str]:
    if not doc.profiles:
        return []
    hosts = profile_host_lines(doc.profiles)
    parts = [f"## {section_title(doc.profiles)}", "", PROFILE_TEXT, "", *hosts, *([""] if hosts else [])]
    for rp in doc.profiles:
        for heading, header, rows, method in runtime_tables(rp):
            parts += [f"### {heading}", "", table(header, rows), ""] + (
                [f"Measured by: {method}.", ""] if method else []
            )
    return parts


def verdict_section(doc: ReportDoc) -> list[str]:
    v = build_verdict(doc.runs, doc.title)
    parts = ["## Verdict", "", *(f"- {line}" for line in v.headline), ""]
    if v.synthetic:
        parts += [SYNTHETIC_TEXT, ""]
    if v.best:
        parts += [
            "### Best model per target and precision",
            "",
            "Lowest NME among the exports of each target and precision (ties: lower latency).",
            "",
            table(BEST_COLUMNS, v.best),
            "",
        ]
    if v.front:
        parts += ["### Pareto front", "", table(FRONT_COLUMNS, v.front), ""]
    return parts


def render_markdown(doc: ReportDoc, plot_prefix: str = "plots/") -> str:
    parts = [
        f"# {doc.title}",
        "",
        *verdict_section(doc),
        "## How this was measured",
        "",
        f"Made by: `{doc.command}`",
        "",
        f"Generated {doc.generated}.",
        "",
    ]
    parts += host_lines(doc)
    data = sorted({run.result.data or "?" for run in doc.runs})
    parts += [
        f"- Faces: {', '.join(data)} (the same crops for every row, peers included)",
        "- NME, FR@0.10 and AUC@0.10 are fractions of the inter-ocular distance (outer eye corners), shown in %; "
        "dNME is the NME change against the same run's PyTorch fp32 model.",
        "- Latency: one face (batch 1), perf_counter after a warm-up, median (p50) and 90th percentile over the timed "
        "calls; FPS = 1000 / p50. " + int8_expectation([run.result.host for run in doc.runs]),
        "",
    ]
    if doc.summary:
        s = doc.summary
        parts += [
            f"Rows: {s['rows']} ({s['ok']} ok, {s['failed']} failed, {s['skipped']} skipped, "
            f"{s['breached']} breaching a floor).",
            "",
        ]
    parts += [
        "## Results",
        "",
        "Every row: its run, the run it was made from (parent) and the change against the parent's "
        "row of the same target, precision and route (NME in points of %, p50 latency as a ratio).",
        "",
        table(MAIN_COLUMNS, [main_cells(rr) for run in doc.runs for rr in run.rows]),
        "",
    ]
    every_row = [rr for run in doc.runs for rr in run.rows]
    if has_large_poses(every_row):
        parts += [
            "## Accuracy by |yaw| bin",
            "",
            YAW_TEXT,
            "",
            table(YAW_COLUMNS, [yaw_cells(rr) for rr in every_row]),
            "",
        ]
    header, rows = comparison(doc.runs)
    if rows:
        parts += ["## Runs side by side", "", table(header, rows), ""]
    ratio_rows = peer_ratio_rows(doc)
    if ratio_rows:
        parts += ["## Latency against the peers", "", PEER_RATIO_TEXT, "", table(PEER_RATIO_COLUMNS, ratio_rows), ""]
    lat_rows = [cells for run in doc.runs for rr in run.rows for cells in latency_cells(rr)]
    if lat_rows:
        parts += ["## Latency by device and thread count", "", table(LATENCY_COLUMNS, lat_rows), ""]
    parts += profile_section(doc)
    for name, path in doc.plots.items():
        kind, _, which = name.partition(":")
        title = PLOT_TITLES.get(kind, kind) + (f": {which}" if which else "")
        parts += [f"## {title}", "", f"![{title}]({plot_prefix}{path.name})", ""]
    extra = notes(doc)
    if extra:
        parts += ["## Notes", "", *extra, ""]
    return "\n".join(parts).rstrip() + "\n"
