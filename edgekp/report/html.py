"""The self-contained HTML report: the Markdown report's sections, plots embedded as base64 PNG."""

from __future__ import annotations

import base64
import html

from edgekp.report.compare import comparison
from edgekp.report.host_notes import int8_expectation
from edgekp.report.markdown import (
    PEER_RATIO_COLUMNS,
    PEER_RATIO_TEXT,
    PLOT_TITLES,
    YAW_TEXT,
    ReportDoc,
    host_lines,
    notes,
    peer_ratio_rows,
)
from edgekp.report.profile_tables import PROFILE_TEXT, runtime_tables, section_title
from edgekp.report.profile_tables import host_lines as profile_host_lines
from edgekp.report.tables import (
    LATENCY_COLUMNS,
    MAIN_COLUMNS,
    YAW_COLUMNS,
    has_large_poses,
    latency_cells,
    main_cells,
    yaw_cells,
)
from edgekp.report.verdict import BEST_COLUMNS, FRONT_COLUMNS, SYNTHETIC_TEXT, build_verdict

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1500px;color:#222}
table{border-collapse:collapse;font-size:12px;margin:1em 0}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}
th{background:#f0f0f0;text-align:left}div.scroll{overflow-x:auto}td:nth-child(-n+7){text-align:left}
tr.failed td{background:#fde8e8}tr.skipped td{color:#777}tr.peer td{background:#f4f8ff}
code{background:#f4f4f4;padding:2px 4px}img{max-width:100%}
p.note{background:#fff8e1;border-left:4px solid #f0c36d;padding:.5em 1em}
"""


def _table(header, rows, classes=None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes and classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>")
    # Wide tables scroll inside their own box instead of running off the page.
    return f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"


def _bold(text: str) -> str:
    """Markdown **bold** of the verdict lines as <b>, the rest escaped."""
    pieces = html.escape(text).split("**")
    return "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(pieces))


def _verdict_html(doc: ReportDoc) -> list[str]:
    v = build_verdict(doc.runs, doc.title)
    parts = ["<h2>Verdict</h2>", "<ul>" + "".join(f"<li>{_bold(line)}</li>" for line in v.headline) + "</ul>"]
    if v.synthetic:
        parts.append(f"<p class='note'>{html.escape(SYNTHETIC_TEXT)}</p>")
    if v.best:
        parts += ["<h3>Best model per target and precision</h3>", _table(BEST_COLUMNS, v.best)]
    if v.front:
        parts += ["<h3>Pareto front</h3>", _table(FRONT_COLUMNS, v.front)]
    return parts


def render_html(doc: ReportDoc) -> str:
    e = html.escape
    rows = [rr for run in doc.runs for rr in run.rows]
    classes = [
        "failed"
        if rr.failed
        else "skipped"
        if rr.row.status == "skipped"
        else "peer"
        if rr.row.variant == "peer"
        else ""
        for rr in rows
    ]
    parts = [
        "<!doctype html><html><head><meta "
        f"charset='utf-8'><title>{e(doc.title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{e(doc.title)}</h1>",
        *_verdict_html(doc),
        "<h2>How this was measured</h2>",
        f"<p>Made by: <code>{e(doc.command)}</code></p>",
        f"<p>Generated {e(doc.generated)}.</p>",
        "<ul>" + "".join(f"<li>{e(line[2:])}</li>" for line in host_lines(doc)) + "</ul>",
        "<p>NME, FR@0.10 and AUC@0.10 are fractions of the inter-ocular distance, in %; dNME is against the same run's "
        "PyTorch fp32 model. Latency: one face, perf_counter after a warm-up, median and p90. "
        f"{e(int8_expectation([run.result.host for run in doc.runs]))}</p>",
        "<h2>Results</h2>",
        "<p>Every row: its run, the run it was made from (parent) and the change against the "
        "parent's row of the same target, precision and route (NME in points of %, p50 latency as a ratio).</p>",
        _table(MAIN_COLUMNS, [main_cells(rr) for rr in rows], classes),
    ]
    if has_large_poses(rows):
        parts += [
            "<h2>Accuracy by |yaw| bin</h2>",
            f"<p>{e(YAW_TEXT)}</p>",
            _table(YAW_COLUMNS, [yaw_cells(rr) for rr in rows], classes),
        ]
    header, cmp_rows = comparison(doc.runs)
    if cmp_rows:
        parts += ["<h2>Runs side by side</h2>", _table(header, cmp_rows)]
    ratio_rows = peer_ratio_rows(doc)
    if ratio_rows:
        parts += [
            "<h2>Latency against the peers</h2>",
            f"<p>{e(PEER_RATIO_TEXT)}</p>",
            _table(PEER_RATIO_COLUMNS, ratio_rows),
        ]
    lat = [cells for rr in rows for cells in latency_cells(rr)]
    if lat:
        parts += ["<h2>Latency by device and thread count</h2>", _table(LATENCY_COLUMNS, lat)]
    if doc.profiles:
        parts += [
            f"<h2>{e(section_title(doc.profiles))}</h2>",
            f"<p>{e(PROFILE_TEXT.replace('`', ''))}</p>",
            *(f"<p>{e(line)}</p>" for line in profile_host_lines(doc.profiles)),
        ]
        for rp in doc.profiles:
            for heading, header, prof_rows, method in runtime_tables(rp):
                parts += [f"<h3>{e(heading)}</h3>", _table(header, prof_rows)] + (
                    [f"<p>Measured by: {e(method)}.</p>"] if method else []
                )
    for name, path in doc.plots.items():
        kind, _, which = name.partition(":")
        title = PLOT_TITLES.get(kind, kind) + (f": {which}" if which else "")
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        parts += [f"<h2>{e(title)}</h2>", f"<img alt='{e(title)}' src='data:image/png;base64,{data}'>"]
    extra = notes(doc)
    if extra:
        parts += ["<h2>Notes</h2><ul>" + "".join(f"<li>{e(n[2:])}</li>" for n in extra) + "</ul>"]
    parts.append("</body></html>")
    return "\n".join(parts)
