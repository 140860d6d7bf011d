"""A report opens with its verdict; rows name their parent and the change against it; QAT runs' fake-quantized
PyTorch rows are labelled and kept off the Pareto front; plots keep their ticks, labels and legends readable."""

from __future__ import annotations

import copy
from pathlib import Path

from edgekp.bench.schema import BenchResult
from edgekp.cli import main
from edgekp.lineage.run_dir import RunDir
from edgekp.report.lineage import link_parents
from edgekp.report.plots import _measured, accuracy_latency_figure, ced_rows
from edgekp.report.tables import build_rows
from edgekp.report.verdict import SYNTHETIC_TEXT, build_verdict

from .conftest import fixture_result, make_benched_run


def _child(path: Path, parent: Path, kind: str, nme_shift: float, speed: float) -> Path:
    """A benched run made from ``parent``: the fixture's rows, NME shifted and latency scaled."""
    run = RunDir.create(path, kind, recipe={"model": {"name": "kp_hvit_test"}}, parent=RunDir.open(parent))
    (path / "model.pt").write_bytes(b"stand-in weights")
    run.finish("ok")
    data = copy.deepcopy(fixture_result(kind=kind))
    for row in data["rows"]:
        if row["variant"] == "peer":
            continue
        row["variant"] = kind
        if row.get("accuracy"):
            row["accuracy"]["nme"] += nme_shift
        for lat in row.get("latency", []):
            lat["p50_ms"] *= speed
            lat["p90_ms"] *= speed
    (path / "bench").mkdir(parents=True, exist_ok=True)
    data["run_name"] = path.name
    (path / "bench" / "bench.json").write_text(__import__("json").dumps(data))
    return path


def _reports(*paths: Path):
    results = [(p, BenchResult.model_validate_json((p / "bench" / "bench.json").read_text())) for p in paths]
    reports = build_rows(results)
    link_parents(reports)
    return reports


def test_rows_name_their_parent_and_the_change(tmp_path: Path) -> None:
    train = make_benched_run(tmp_path / "train")
    prune = _child(tmp_path / "prune", train, "prune", nme_shift=0.001, speed=0.5)
    reports = _reports(train, prune)
    assert reports[1].parent == "train" and reports[0].parent is None
    tflite = next(rr for rr in reports[1].rows if rr.row.target == "tflite")
    assert tflite.parent == "train"
    assert tflite.vs_parent == "prune, NME +0.10 pts, p50 x0.50"
    alone = _reports(prune)  # the parent left out of the report: named by its folder
    assert alone[0].parent == "train (not in this report)"


def test_report_markdown_opens_with_the_verdict_and_shows_parents(tmp_path: Path) -> None:
    train = make_benched_run(tmp_path / "train")
    prune = _child(tmp_path / "prune", train, "prune", nme_shift=-0.002, speed=0.8)
    out = tmp_path / "rep"
    assert main(["report", str(train), str(prune), "--out", str(out)]) == 0
    md = (out / "report.md").read_text()
    lines = md.splitlines()
    assert lines[2] == "## Verdict"
    assert md.index("### Best model per target and precision") < md.index("## Results")
    assert "Most accurate deployable model: **prune onnx fp32 (torch)**" in md
    assert "| prune | train | prune, NME -0.20 pts, p50 x0.80 | onnx |" in md
    html = (out / "report.html").read_text()
    assert html.index("<h2>Verdict</h2>") < html.index("<h2>Results</h2>")


def test_fake_quant_rows_are_labelled_and_kept_off_the_front(tmp_path: Path) -> None:
    train = make_benched_run(tmp_path / "train")
    # The fake-quantized model: the best NME of all and far slower, as the QAT run's PyTorch row was.
    qat = _child(tmp_path / "qat", train, "qat", nme_shift=-0.02, speed=7.0)
    reports = _reports(train, qat)
    fake = next(rr for rr in reports[1].rows if rr.row.target == "pytorch")
    assert fake.fake_quant and "fake-quant" in fake.label
    assert fake.vs_parent.startswith("qat, NME -2.00 pts, p50 x7.00")  # against the parent's real fp32 model
    rows = [rr for rep in reports for rr in rep.rows]
    assert fake not in _measured(rows)
    verdict = build_verdict(reports)
    named = " ".join(" ".join(r) for r in verdict.best + verdict.front)
    assert "qat pytorch" not in named
    assert any("fake-quant" in line for line in verdict.headline)


def test_synthetic_faces_get_the_expected_nme_note(tmp_path: Path) -> None:
    run = make_benched_run(tmp_path / "train", fixture_result(data="runs/quickstart/data/synthetic_val"))
    out = tmp_path / "rep"
    assert main(["report", str(run), "--out", str(out)]) == 0
    assert SYNTHETIC_TEXT in (out / "report.md").read_text()
    real = make_benched_run(tmp_path / "real")
    assert main(["report", str(real), "--out", str(tmp_path / "rep2")]) == 0
    assert SYNTHETIC_TEXT not in (tmp_path / "rep2" / "report.md").read_text()


def test_plot_title_names_peers_only_when_there_are_some(tmp_path: Path) -> None:
    data = fixture_result()
    data["rows"] = [r for r in data["rows"] if r["variant"] != "peer"]
    reports = _reports(make_benched_run(tmp_path / "train", data))
    fig, ax = accuracy_latency_figure([rr for rep in reports for rr in rep.rows])
    assert "peers" not in ax.get_title() and "Pareto front" in ax.get_title()
    legend = ax.get_legend().get_window_extent(fig.canvas.get_renderer())
    assert legend.x0 >= ax.get_window_extent().x1  # the legend sits outside the data


def test_log_axis_ticks_do_not_run_together(tmp_path: Path) -> None:
    data = fixture_result()
    spread = [0.45, 0.6, 0.75, 0.9, 3.0, 40.0, 120.0]
    ok_rows = [r for r in data["rows"] if r["status"] == "ok" and r.get("accuracy") and r.get("latency")]
    rows = []
    for i, ms in enumerate(spread):  # one row per latency, so the x axis spans 0.45-120 ms (log scale)
        row = copy.deepcopy(ok_rows[i % len(ok_rows)])
        row["target"], row["route"] = "onnx", f"r{i}"
        row["accuracy"]["nme"] = 0.05 + 0.001 * i
        for lat in row["latency"]:
            lat["p50_ms"] = ms
        rows.append(row)
    data["rows"] = rows
    reports = _reports(make_benched_run(tmp_path / "train", data))
    fig, ax = accuracy_latency_figure([rr for rep in reports for rr in rep.rows])
    assert ax.get_xscale() == "log"
    renderer = fig.canvas.get_renderer()
    labels = [
        t
        for t in ax.get_xticklabels(minor=False) + ax.get_xticklabels(minor=True)
        if t.get_text() and ax.get_xlim()[0] <= t.get_position()[0] <= ax.get_xlim()[1]
    ]
    boxes = sorted((t.get_window_extent(renderer) for t in labels), key=lambda b: b.x0)
    assert len(boxes) >= 3
    for left, right in zip(boxes, boxes[1:]):
        assert left.x1 < right.x0, "x tick labels overlap"


def test_ced_draws_one_curve_per_run_and_peer(tmp_path: Path) -> None:
    train = make_benched_run(tmp_path / "train")
    prune = _child(tmp_path / "prune", train, "prune", nme_shift=0.0, speed=1.0)
    rows = [rr for rep in _reports(train, prune) for rr in rep.rows]
    chosen = ced_rows(rows)
    runs = [rr.run_label for rr in chosen if rr.row.variant != "peer"]
    assert sorted(runs) == ["prune", "train"]
