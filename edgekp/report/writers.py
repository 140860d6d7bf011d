"""JSON and CSV forms of the report rows (the Markdown and HTML forms live in their own modules)."""

from __future__ import annotations

import csv
import io
from typing import Any

from edgekp.data.pose import YAW_BIN_NAMES
from edgekp.report.compare import peer_latency_ratios
from edgekp.report.markdown import ReportDoc
from edgekp.report.profile_tables import profile_records
from edgekp.report.tables import ReportRow


def _box_bin(a: Any, name: str) -> float | None:
    bin_ = (a.by_yaw.get("box") or {}).get(name) if a is not None else None
    return bin_.nme if bin_ is not None else None


def row_record(rr: ReportRow) -> dict[str, Any]:
    """One flat record per row: what the CSV holds, and the JSON's ``rows``."""
    r, a, lat = rr.row, rr.row.accuracy, rr.latency
    return {
        "run": rr.run_label,
        "variant": r.variant,
        "target": r.target,
        "precision": r.precision,
        "route": r.route,
        "status": r.status,
        "status_text": rr.status_text,
        "reason": r.reason,
        "size_bytes": r.size_bytes,
        "params": r.params,
        "flops": r.flops,
        "nme": a.nme if a else None,
        "delta_nme": rr.delta_nme,
        "fr": a.fr if a else None,
        "auc": a.auc if a else None,
        "nme_large": a.nme_large if a else None,
        "nme_small": a.nme_small if a else None,
        "nme_corners": a.nme_corners if a else None,
        "points_scored": a.points if a else None,
        "n_faces": a.n if a else None,
        # Box-normalized NME (labelled points' box) overall and per |yaw| bin: the large-pose figures.
        "nme_box": a.nme_box if a else None,
        "n_unscored": a.n_unscored if a else None,
        "nme_corners_box": a.nme_corners_box if a else None,
        **{f"nme_box_{b}": _box_bin(a, b) for b in YAW_BIN_NAMES},
        "threads": lat.threads if lat else None,
        "p50_ms": lat.p50_ms if lat else None,
        "p90_ms": lat.p90_ms if lat else None,
        "fps": rr.fps,
        "breaches": "; ".join(rr.breaches),
    }


def to_json(doc: ReportDoc) -> dict[str, Any]:
    return {
        "title": doc.title,
        "command": doc.command,
        "generated": doc.generated,
        "summary": doc.summary,
        "rows": [row_record(rr) for run in doc.runs for rr in run.rows],
        "runs": [run.result.model_dump(mode="json", by_alias=True) for run in doc.runs],
        "plots": {k: f"plots/{v.name}" for k, v in doc.plots.items()},
        "peer_latency_ratios": peer_latency_ratios(doc.runs),
        "profiles": profile_records(doc.profiles),  # each run's bench/profile.json, [] when none was profiled
    }


def to_csv(doc: ReportDoc) -> str:
    records = [row_record(rr) for run in doc.runs for rr in run.rows]
    buffer = io.StringIO()
    if records:
        writer = csv.DictWriter(buffer, fieldnames=list(records[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    return buffer.getvalue()
