"""Report rows: one per (run, target, precision, route), built from the runs' bench results.

Each run's ``bench/bench.json`` (edgekp.bench.schema) is read, latencies added by hand in
``bench/manual.json`` are merged in, and every row gets its status text, delta NME against the
same run's PyTorch fp32 row, the first host latency (lowest thread count) and FPS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from edgekp.bench.schema import BenchResult, BenchRow, Latency, ManualLatencies
from edgekp.config.report import Floors
from edgekp.data.pose import YAW_BIN_NAMES
from edgekp.errors import ConfigError, LineageError

FAILED = ("parity failed", "export failed")


def _runtime_os(target: str) -> str:
    """Where a target's artifacts execute, in words (from its capabilities), '' when anywhere or unknown."""
    from edgekp.export.base import get_target, list_targets

    return get_target(target).capabilities.runtime_os if target in list_targets() else ""


@dataclass
class ReportRow:
    row: BenchRow
    run_label: str
    latency: Latency | None = None  # the row's first host latency, shown in the main table
    delta_nme: float | None = None
    breaches: list[str] = field(default_factory=list)
    parent: str = "-"  # the run this row's run was made from (its label, or its folder name when not in the report)
    vs_parent: str = "-"  # what changed against the parent's row of the same target, precision and route

    @property
    def fake_quant(self) -> bool:
        """A QAT run's PyTorch row: the model with fake-quantizers, which no target runs (and several times
        slower than the real fp32 model); shown for its accuracy, kept off the Pareto front and plot."""
        return self.row.variant == "qat" and self.row.target == "pytorch"

    @property
    def precision_text(self) -> str:
        return f"{self.row.precision} (fake-quant)" if self.fake_quant else self.row.precision

    @property
    def status_text(self) -> str:
        r = self.row
        if r.status == "ok":
            if r.accuracy is None and r.artifact is not None:  # converted and verified, not executable where benched
                return f"ok (structural; needs {_runtime_os(r.target) or 'its runtime'})"
            return "ok" if not self.breaches else "ok, floor breached: " + "; ".join(self.breaches)
        return f"{r.status}: {r.reason}" if r.reason else r.status

    @property
    def failed(self) -> bool:
        return self.row.status in FAILED

    @property
    def label(self) -> str:
        r = self.row
        return f"{self.run_label} {r.target} {self.precision_text}" + (
            f" ({r.route})" if r.route and r.target != "pytorch" else ""
        )

    @property
    def fps(self) -> float | None:
        return 1000.0 / self.latency.p50_ms if self.latency and self.latency.p50_ms > 0 else None


@dataclass
class RunReport:
    result: BenchResult
    rows: list[ReportRow]
    path: Path
    heatmap: Path | None = None
    parent: str | None = None  # the parent run's label (or folder name), None for a run made from nothing


def load_bench(run_dir: str | Path) -> BenchResult:
    """A run's bench result; one-line errors for a missing run, no bench, or a foreign/corrupt file."""
    from edgekp.bench.bench_run import BENCH_DIR, BENCH_FILE
    from edgekp.bench.runs import find_artifacts

    path = Path(run_dir)
    find_artifacts(path)  # LineageError for a missing run or a run with no artifacts at all
    bench = path / BENCH_DIR / BENCH_FILE
    if not bench.is_file():
        raise LineageError(f"{str(path)!r} has not been benched; run 'edgekp bench --from {path}' first")
    try:
        return BenchResult.model_validate(json.loads(bench.read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as exc:
        first = str(exc).strip().splitlines()[0][:160]
        raise LineageError(
            f"{str(bench)!r} is corrupt or not an edgekp bench result ({first}); re-run 'edgekp bench --from {path}'"
        ) from None


def merge_manual(result: BenchResult, run_dir: Path) -> None:
    """Append hand-written latencies (bench/manual.json, schema in edgekp.bench.schema) to their rows."""
    path = run_dir / "bench" / "manual.json"
    if not path.is_file():
        return
    try:
        manual = ManualLatencies.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as exc:
        raise ConfigError(
            f"{str(path)!r} does not follow the manual latency schema: {str(exc).splitlines()[0][:200]}"
        ) from None
    for entry in manual.entries:
        match = next(
            (
                r
                for r in result.rows
                if (r.target, r.precision) == (entry.target, entry.precision)
                and (not entry.route or r.route == entry.route)
            ),
            None,
        )
        if match is None:
            match = BenchRow(
                run=result.run_name,
                variant=result.kind,
                target=entry.target,
                precision=entry.precision,
                route=entry.route,
                status="ok",
                notes=["added by hand (bench/manual.json)"],
            )
            result.rows.append(match)
        match.latency.extend(entry.latency)
        match.notes.extend(entry.notes)


def _host_latency(row: BenchRow) -> Latency | None:
    host = [lat for lat in row.latency if lat.device == "host"]
    return min(host, key=lambda lat: lat.threads) if host else None


def check_floors(rr: ReportRow, floors: Floors | None) -> None:
    a = rr.row.accuracy
    if floors is None or rr.row.variant == "peer" or rr.row.status != "ok":
        return
    checks = [
        (floors.nme_max, a.nme if a else None, lambda v, f: v <= f, "NME {v:.4f} > {f:g}"),
        (floors.fr_max, a.fr if a else None, lambda v, f: v <= f, "FR {v:.4f} > {f:g}"),
        (floors.auc_min, a.auc if a else None, lambda v, f: v >= f, "AUC {v:.4f} < {f:g}"),
        (floors.delta_nme_max, rr.delta_nme, lambda v, f: v <= f, "delta NME {v:+.4f} > {f:g}"),
        (
            floors.p50_ms_max,
            rr.latency.p50_ms if rr.latency else None,
            lambda v, f: v <= f,
            "p50 {v:.2f} ms > {f:g} ms",
        ),
    ]
    for limit, value, ok, text in checks:
        if limit is not None and value is not None and not ok(value, limit):
            rr.breaches.append(text.format(v=value, f=limit))


def build_rows(results: list[tuple[Path, BenchResult]], floors: Floors | None = None) -> list[RunReport]:
    """Rows of every run; ConfigError (one line) when the runs predict different landmark schemes."""
    schemes = {}
    for path, res in results:
        for r in res.rows:
            if r.variant != "peer" and r.scheme:
                schemes.setdefault(r.scheme, path.name)
    if len(schemes) > 1:
        listed = ", ".join(f"{run} ({scheme})" for scheme, run in schemes.items())
        raise ConfigError(f"cannot compare runs with different landmark schemes: {listed}; report them separately")
    labels = run_labels([p for p, _ in results])
    out = []
    for (path, res), label in zip(results, labels, strict=True):
        base = next((r for r in res.rows if r.target == "pytorch" and r.accuracy is not None), None)
        rows = []
        for r in res.rows:
            rr = ReportRow(r, "peer" if r.variant == "peer" else label, _host_latency(r))
            if base is not None and r.accuracy is not None and r.variant != "peer":
                rr.delta_nme = r.accuracy.nme - base.accuracy.nme  # type: ignore[union-attr]
            check_floors(rr, floors)
            rows.append(rr)
        heat = path / "head_scores.png"
        out.append(RunReport(res, rows, path, heat if heat.is_file() else None))
    return out


def run_labels(paths: list[Path]) -> list[str]:
    """Short unique names for the runs (their folder names; parent/name where folder names clash)."""
    names = [p.name for p in paths]
    if len(set(names)) == len(names):
        return names
    return [f"{p.parent.name}/{p.name}" for p in paths]


def fmt(value: Any, kind: str) -> str:
    """Table cell text; '-' for missing values."""
    if value is None:
        return "-"
    if kind == "pct":
        return f"{100 * value:.2f}"
    if kind == "dpct":
        return f"{100 * value:+.2f}"
    if kind == "kb":
        return f"{value / 1024:.0f}" if value >= 10 * 1024 else f"{value / 1024:.1f}"
    if kind == "m":
        return f"{value / 1e6:.2f}"
    if kind == "ms":
        return f"{value:.2f}"
    if kind == "auc":
        return f"{value:.4f}"
    if kind == "fps":
        return f"{value:.0f}"
    return str(value)


MAIN_COLUMNS = (
    "run",
    "parent",
    "vs parent",
    "target",
    "precision",
    "route",
    "status",
    "size KB",
    "params M",
    "MFLOPs",
    "NME %",
    "dNME %",
    "FR %",
    "AUC",
    "large NME %",
    "small NME %",
    "threads",
    "p50 ms",
    "p90 ms",
    "FPS",
)


def main_cells(rr: ReportRow) -> list[str]:
    r, a, lat = rr.row, rr.row.accuracy, rr.latency
    return [
        rr.run_label,
        rr.parent,
        rr.vs_parent,
        r.target,
        rr.precision_text,
        r.route,
        rr.status_text,
        fmt(r.size_bytes, "kb"),
        fmt(r.params, "m"),
        fmt(r.flops / 1e6 if r.flops else None, "ms") if r.flops else "-",
        fmt(a.nme if a else None, "pct"),
        fmt(rr.delta_nme, "dpct"),
        fmt(a.fr if a else None, "pct"),
        fmt(a.auc if a else None, "auc"),
        fmt(a.nme_large if a else None, "pct"),
        fmt(a.nme_small if a else None, "pct"),
        fmt(lat.threads if lat else None, ""),
        fmt(lat.p50_ms if lat else None, "ms"),
        fmt(lat.p90_ms if lat else None, "ms"),
        fmt(rr.fps, "fps"),
    ]


YAW_COLUMNS = (
    "run",
    "target",
    "precision",
    "route",
    "faces",
    "box NME %",
    *(f"box {b} %" for b in YAW_BIN_NAMES),
    "inter-ocular scored",
    *(f"inter-ocular {b} %" for b in YAW_BIN_NAMES),
    "yaw from",
)


def has_large_poses(rows: list[ReportRow]) -> bool:
    """Whether any row's face set holds faces past 30 degrees of |yaw| (then the yaw-bin table is shown)."""
    for rr in rows:
        bins = (rr.row.accuracy.by_yaw.get("box") or {}) if rr.row.accuracy else {}
        if any(bins[b].n > 0 for b in YAW_BIN_NAMES[1:] if b in bins):
            return True
    return False


def _bin_cell(bins: dict[str, Any], name: str) -> str:
    b = bins.get(name)
    return "-" if b is None or b.nme is None else f"{fmt(b.nme, 'pct')} ({b.n})"


def yaw_cells(rr: ReportRow) -> list[str]:
    """Box NME overall and per |yaw| bin, inter-ocular per bin (cells: 'NME (faces)'), where yaw came from."""
    r, a = rr.row, rr.row.accuracy
    box = a.by_yaw.get("box", {}) if a else {}
    io = a.by_yaw.get("inter_ocular", {}) if a else {}
    faces = f"{a.n + a.n_unscored}" if a else "-"
    scored = f"{a.n}" if a else "-"
    return [
        rr.run_label,
        r.target,
        rr.precision_text,
        r.route,
        faces,
        fmt(a.nme_box if a else None, "pct"),
        *(_bin_cell(box, b) for b in YAW_BIN_NAMES),
        scored,
        *(_bin_cell(io, b) for b in YAW_BIN_NAMES),
        (a.pose_source or "-") if a else "-",
    ]


LATENCY_COLUMNS = (
    "run",
    "target",
    "precision",
    "route",
    "device",
    "threads",
    "runtime",
    "p50 ms",
    "p90 ms",
    "runs",
    "source",
)


def latency_cells(rr: ReportRow) -> list[list[str]]:
    r = rr.row
    return [
        [
            rr.run_label,
            r.target,
            r.precision,
            r.route,
            lat.device,
            str(lat.threads),
            f"{lat.runtime} {lat.runtime_version}".strip(),
            fmt(lat.p50_ms, "ms"),
            fmt(lat.p90_ms, "ms"),
            str(lat.runs),
            lat.source,
        ]
        for lat in r.latency
    ]
