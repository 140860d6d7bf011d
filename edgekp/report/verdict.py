"""The verdict a report opens with: which model to use for which target, and the Pareto front.

Only deployable rows count: measured (accuracy and host latency), status ok, not a peer, and not a QAT
run's fake-quantized PyTorch model (no target runs it). Peers are named beside the front, not on it."""

from __future__ import annotations

from dataclasses import dataclass

from edgekp.report.pareto import pareto_front
from edgekp.report.tables import ReportRow, RunReport, fmt

BEST_COLUMNS = ("target", "precision", "use", "NME %", "p50 ms", "size KB", "parent", "vs parent")
FRONT_COLUMNS = ("model", "NME %", "p50 ms", "size KB")

SYNTHETIC_TEXT = (
    "These faces are edgekp's synthetic set. A model trained for minutes on them (the quickstart: at most 10 "
    "epochs in a 3-minute budget) scores around 14 % NME on a quiet 2-core host, more when fewer epochs "
    "fit: that is expected, and shows the pipeline works, not how accurate a trained model is. The shipped "
    "model scores 4.28 % on real held-out 300W photos."
)


@dataclass
class Verdict:
    headline: list[str]
    best: list[list[str]]  # BEST_COLUMNS
    front: list[list[str]]  # FRONT_COLUMNS
    synthetic: bool


def deployable(rr: ReportRow) -> bool:
    return (
        rr.row.status == "ok"
        and rr.row.variant != "peer"
        and not rr.fake_quant
        and rr.row.accuracy is not None
        and rr.row.target != "pytorch"
    )


def _cells(rr: ReportRow) -> tuple[str, str, str]:
    return (
        fmt(rr.row.accuracy.nme if rr.row.accuracy else None, "pct"),
        fmt(rr.latency.p50_ms if rr.latency else None, "ms"),
        fmt(rr.row.size_bytes, "kb"),
    )


def _name(rr: ReportRow) -> str:
    r = rr.row
    return f"{rr.run_label} {r.target} {r.precision}" + (f" ({r.route})" if r.route else "")


def is_synthetic(runs: list[RunReport], title: str = "") -> bool:
    """Whether the faces are edgekp's synthetic set (the quickstart's), from the bench's data or the title."""
    names = [run.result.data or "" for run in runs] + [title]
    return any("synth" in n.lower() or "quickstart" in n.lower() for n in names)


def _rank(rr: ReportRow) -> tuple[float, float]:
    """Lower NME first; NMEs within 0.01 points of % count as equal (the table's precision), then the faster."""
    return (round(100 * rr.row.accuracy.nme, 2), rr.latency.p50_ms if rr.latency else float("inf"))  # type: ignore[union-attr]


def build_verdict(runs: list[RunReport], title: str = "") -> Verdict:
    rows = [rr for run in runs for rr in run.rows if deployable(rr)]
    best: dict[tuple[str, str], ReportRow] = {}
    for rr in rows:
        key = (rr.row.target, rr.row.precision)
        if key not in best or _rank(rr) < _rank(best[key]):
            best[key] = rr
    best_rows = [[t, p, _name(rr), *_cells(rr), rr.parent, rr.vs_parent] for (t, p), rr in sorted(best.items())]
    timed = [rr for rr in rows if rr.latency is not None]
    front_idx = pareto_front([(rr.latency.p50_ms, rr.row.accuracy.nme) for rr in timed])  # type: ignore[union-attr]
    front = [timed[i] for i in front_idx]
    headline = []
    if front:
        accurate, fastest = min(front, key=_rank), front[0]
        headline.append(
            f"Most accurate deployable model: **{_name(accurate)}**, NME {_cells(accurate)[0]} % at "
            f"{_cells(accurate)[1]} ms per face."
        )
        if fastest is not accurate:
            headline.append(
                f"Fastest on the Pareto front: **{_name(fastest)}**, NME {_cells(fastest)[0]} % at "
                f"{_cells(fastest)[1]} ms."
            )
        headline.append(
            f"{len(front)} of {len(timed)} timed exports are on the Pareto front (no other export is both "
            "more accurate and faster)."
        )
    elif not rows:
        headline.append("No export was measured: nothing to recommend (see the status column below).")
    fake = [rr for run in runs for rr in run.rows if rr.fake_quant]
    if fake:
        headline.append(
            'Rows marked "fake-quant" are QAT runs\' PyTorch models with fake-quantizers: no target runs '
            "them; they are kept off the verdict and the Pareto plot."
        )
    return Verdict(headline, best_rows, [[_name(rr), *_cells(rr)] for rr in front], is_synthetic(runs, title))
