"""Each report row names its parent run and what changed against it.

The parent comes from the run's manifest (``parent.path``, written when the stage ran). When the parent
is in the same report, a row is compared with the parent's row of the same target, precision and route:
NME change in points of % and the latency ratio. A parent outside the report is named by its folder."""

from __future__ import annotations

from pathlib import Path

from edgekp.errors import LineageError
from edgekp.lineage.run_dir import RunDir
from edgekp.report.tables import ReportRow, RunReport, run_labels


def _parent_path(run: Path) -> Path | None:
    try:
        parent = RunDir.open(run).manifest.get("parent")
    except LineageError:  # a report built from bench results alone (no manifest): no lineage to show
        return None
    return Path(parent["path"]).resolve() if isinstance(parent, dict) and parent.get("path") else None


def change_text(rr: ReportRow, base: ReportRow | None, kind: str) -> str:
    """'prune: NME +0.12 pts, p50 x0.81' against the parent's matching row; the kind alone without one."""
    if base is None:
        return f"{kind}; no matching row in the parent"
    parts = [kind]
    a, b = rr.row.accuracy, base.row.accuracy
    if a is not None and b is not None:
        parts.append(f"NME {100 * (a.nme - b.nme):+.2f} pts")
    if rr.latency is not None and base.latency is not None and base.latency.p50_ms > 0:
        parts.append(f"p50 x{rr.latency.p50_ms / base.latency.p50_ms:.2f}")
    return ", ".join(parts)


def _key(rr: ReportRow) -> tuple[str, str, str]:
    return rr.row.target, rr.row.precision, rr.row.route


def link_parents(runs: list[RunReport]) -> None:
    """Fill ``RunReport.parent`` and every row's ``parent`` and ``vs_parent``."""
    labels = run_labels([run.path for run in runs])
    by_path = {run.path.resolve(): (run, label) for run, label in zip(runs, labels, strict=True)}
    for run in runs:
        parent_path = _parent_path(run.path)
        if parent_path is None:
            continue
        parent = by_path.get(parent_path)
        run.parent = parent[1] if parent else f"{parent_path.name} (not in this report)"
        parent_rows = {_key(rr): rr for rr in parent[0].rows if not rr.fake_quant} if parent else {}
        for rr in run.rows:
            if rr.row.variant == "peer":
                continue
            rr.parent = run.parent
            if parent is None:
                rr.vs_parent = run.result.kind
                continue
            base = parent_rows.get(_key(rr))
            if rr.fake_quant:  # compare the fake-quantized model with the parent's real fp32 model
                base = parent_rows.get(("pytorch", "fp32", rr.row.route))
            rr.vs_parent = change_text(rr, base, run.result.kind)
