"""The comparison view: several runs side by side, one line per (target, precision, route).

Each cell shows the run's NME (%) and host p50 latency (ms) for that artifact, so fp32 vs QAT vs
pruned (or two recipes) read across one line.
"""

from __future__ import annotations

from edgekp.report.tables import RunReport, fmt


def comparison(runs: list[RunReport]) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the side-by-side table; empty when there is a single run."""
    if len(runs) < 2:
        return [], []
    labels = [rep.rows[0].run_label if rep.rows else rep.path.name for rep in runs]
    keys: list[tuple[str, str, str]] = []
    cells: dict[tuple[tuple[str, str, str], int], str] = {}
    for i, rep in enumerate(runs):
        for rr in rep.rows:
            if rr.row.variant == "peer":
                continue
            key = (rr.row.target, rr.precision_text, rr.row.route)  # a fake-quant row gets a line of its own
            if key not in keys:
                keys.append(key)
            a = rr.row.accuracy
            if a is not None:
                text = f"{fmt(a.nme, 'pct')} / {fmt(rr.latency.p50_ms if rr.latency else None, 'ms')}"
            else:
                text = rr.status_text.split(":")[0]
            cells[(key, i)] = text
    header = ["target", "precision", "route", *[f"{label} NME % / p50 ms" for label in labels]]
    rows = [[*key, *[cells.get((key, i), "-") for i in range(len(runs))]] for key in keys]
    return header, rows


def peer_latency_ratios(runs: list[RunReport]) -> list[dict[str, object]]:
    """Host p50 of each run's default TFLite fp32 model over each peer's, measured in the same bench.

    The ratio is what "as fast as MediaPipe" claims rest on: the same host, thread count and crops."""
    peers = [rr for rep in runs for rr in rep.rows if rr.row.variant == "peer" and rr.row.status == "ok" and rr.latency]
    ours = [
        rr
        for rep in runs
        for rr in rep.rows
        if (rr.row.target, rr.row.precision, rr.row.route) == ("tflite", "fp32", "litert")
        and rr.row.status == "ok"
        and rr.latency
    ]
    out = []
    for mine in ours:
        for peer in peers:
            if peer.latency.threads != mine.latency.threads:
                continue
            out.append(
                {
                    "run": mine.run_label,
                    "peer": f"{peer.row.target} {peer.row.route}",
                    "threads": mine.latency.threads,
                    "edgekp_p50_ms": mine.latency.p50_ms,
                    "peer_p50_ms": peer.latency.p50_ms,
                    "ratio": mine.latency.p50_ms / peer.latency.p50_ms,
                }
            )
    return out
