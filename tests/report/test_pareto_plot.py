"""The accuracy-vs-latency plot stays readable at 25 rows: Pareto points and peers labelled without
overlap, the rest grouped in the legend, log-x only when latencies span a decade."""

from __future__ import annotations

import numpy as np
import pytest

from edgekp.bench.schema import Accuracy, BenchRow, Latency
from edgekp.report.pareto import pareto_front
from edgekp.report.plots import (
    accuracy_latency_figure,
    accuracy_vs_latency,
    spread_labels,
    use_log_x,
)
from edgekp.report.tables import ReportRow

TARGETS = ("pytorch", "onnx", "tflite", "openvino", "coreml")
PRECISIONS = ("fp32", "fp16", "int8")


def _row(i: int, ms: float, nme: float, target: str, precision: str, variant: str = "train") -> ReportRow:
    acc = Accuracy(data="faces", data_hash="h", n=10, nme=nme, fr=0.0, auc=0.5)
    lat = Latency(threads=1, p50_ms=ms, p90_ms=ms * 1.1, runs=10)
    row = BenchRow(
        run=f"run{i % 4}", variant=variant, target=target, precision=precision, status="ok", accuracy=acc, latency=[lat]
    )
    return ReportRow(row, f"run{i % 4}", latency=lat)


def rows_25(spread: float) -> list[ReportRow]:
    rng = np.random.default_rng(0)
    rows = [
        _row(
            i,
            float(2 + spread * rng.random()),
            float(0.05 + 0.02 * rng.random()),
            TARGETS[i % len(TARGETS)],
            PRECISIONS[i % len(PRECISIONS)],
        )
        for i in range(23)
    ]
    rows.append(_row(23, 3.0, 0.07, "dlib", "fp64", variant="peer"))
    rows.append(_row(24, 9.0, 0.08, "mediapipe", "fp32", variant="peer"))
    return rows


def test_labels_only_pareto_points_and_peers_and_they_do_not_overlap() -> None:
    rows = rows_25(spread=400.0)
    fig, ax = accuracy_latency_figure(rows)
    try:
        texts = [t for t in ax.texts if t.get_text()]
        # The front is edgekp's exports' (PyTorch rows are references, peers are labelled beside it); a label is
        # drawn only where it fits, and the title counts the ones left out.
        ours = [r for r in rows if r.row.variant != "peer" and r.row.target != "pytorch"]
        pts = [(r.latency.p50_ms, 100 * r.row.accuracy.nme) for r in ours]
        expected = {ours[i].label for i in pareto_front(pts)} | {r.label for r in rows if r.row.variant == "peer"}
        drawn = {t.get_text() for t in texts}
        assert drawn <= expected and len(drawn) >= len(expected) / 2
        if drawn != expected:
            assert f"{len(expected) - len(drawn)} without room for a label" in ax.get_title()
        assert len(texts) < len(rows)  # the rest are not labelled
        fig.canvas.draw()
        boxes = [t.get_window_extent() for t in texts]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert not a.overlaps(b), "two labels overlap"
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert {"peers", "tflite", "int8"} <= set(legend)  # grouped by target and precision, not one entry per row
        assert len(legend) < len(rows) / 2
        assert ax.get_xscale() == "log"  # 2 ms to 400 ms: more than a decade
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_linear_axis_when_latencies_span_less_than_a_decade(tmp_path) -> None:
    rows = rows_25(spread=5.0)  # 2 to 7 ms (peers at 3 and 9 ms)
    fig, ax = accuracy_latency_figure(rows)
    assert ax.get_xscale() == "linear"
    import matplotlib.pyplot as plt

    plt.close(fig)
    assert accuracy_vs_latency(rows, tmp_path / "p.png").is_file()


@pytest.mark.parametrize(
    ("values", "log"), [([1.0, 9.9], False), ([1.0, 10.0], True), ([0.5, 30.0], True), ([], False)]
)
def test_log_scale_rule(values, log) -> None:
    assert use_log_x(values) is log


def test_spread_labels_keeps_the_gap_and_the_order() -> None:
    ys = [10.0, 10.5, 11.0, 50.0]
    out = spread_labels(ys, min_gap=5.0)
    ordered = sorted(out)
    assert all(b - a >= 5.0 - 1e-9 for a, b in zip(ordered, ordered[1:]))
    assert np.argsort(out).tolist() == np.argsort(ys).tolist()
