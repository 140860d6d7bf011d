"""``edgekp report``: read the runs' bench results, build rows and plots, write every form.

<out>/report.md, report.html (self-contained), report.json, report.csv, plots/*.png, manifest.json
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

from edgekp.errors import ConfigError
from edgekp.files.atomic import atomic_write_bytes, atomic_write_json
from edgekp.lineage.run_dir import RunDir
from edgekp.report.lineage import link_parents
from edgekp.report.markdown import ReportDoc, render_markdown
from edgekp.report.profile_tables import collect_profiles
from edgekp.report.tables import Floors, build_rows, load_bench, merge_manual


@dataclass(frozen=True)
class ReportOutcome:
    out: Path
    doc: ReportDoc
    failed: list[str]  # labels of rows that failed or breached a floor

    @property
    def ok(self) -> bool:
        return not self.failed


def build_report(
    runs: list[str | Path],
    out: str | Path,
    *,
    command: str,
    title: str | None = None,
    floors: Floors | None = None,
    generated: str | None = None,
    plots: bool = True,
    notes: list[str] | None = None,
    samples: bool = True,
) -> ReportOutcome:
    from edgekp.report.html import render_html
    from edgekp.report.plots import make_plots
    from edgekp.report.writers import to_csv, to_json

    if not runs:
        raise ConfigError("give at least one run directory to report on")
    results = []
    for run in runs:
        path = Path(run)
        result = load_bench(path)
        merge_manual(result, path)
        results.append((path, result))
    reports = build_rows(results, floors)
    link_parents(reports)
    profiles = collect_profiles(reports)  # read before anything is written: a corrupt profile.json fails cleanly
    out = Path(out)
    manifest = RunDir.create(
        out,
        "report",
        recipe={"runs": [str(Path(r).resolve()) for r in runs], "floors": floors.model_dump() if floors else None},
    )
    rows = [rr for rep in reports for rr in rep.rows]
    summary = {
        "rows": len(rows),
        "ok": sum(rr.row.status == "ok" for rr in rows),
        "failed": sum(rr.failed for rr in rows),
        "skipped": sum(rr.row.status == "skipped" for rr in rows),
        "breached": sum(bool(rr.breaches) for rr in rows),
    }
    doc = ReportDoc(
        title=title or "edgekp report: " + ", ".join(p.name for p, _ in results),
        command=command,
        generated=generated or _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        runs=reports,
        summary=summary,
        extra_notes=list(notes or []),
        profiles=profiles,
    )
    doc.plots = make_plots(reports, out / "plots", samples=samples) if plots else {}
    atomic_write_bytes(out / "report.md", render_markdown(doc).encode())
    atomic_write_bytes(out / "report.html", render_html(doc).encode())
    atomic_write_json(out / "report.json", to_json(doc))
    atomic_write_bytes(out / "report.csv", to_csv(doc).encode())
    failed = [rr.label for rr in rows if rr.failed or rr.breaches]
    manifest.finish(
        "ok", artifacts={n: None for n in ("report.md", "report.html", "report.json", "report.csv")}, summary=summary
    )
    return ReportOutcome(out, doc, failed)
