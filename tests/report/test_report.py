"""Report rendering (golden Markdown), failed rows with reasons, --strict, bad inputs, manual latencies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgekp.bench.schema import BenchResult
from edgekp.cli import main
from edgekp.report.markdown import ReportDoc, render_markdown
from edgekp.report.tables import Floors, build_rows

from .conftest import GENERATED, GOLDEN, fixture_result, make_benched_run


def _doc(floors: Floors | None = None) -> ReportDoc:
    result = BenchResult.model_validate(fixture_result())
    runs = build_rows([(Path("/runs/train"), result)], floors)
    rows = [rr for run in runs for rr in run.rows]
    summary = {
        "rows": len(rows),
        "ok": sum(r.row.status == "ok" for r in rows),
        "failed": sum(r.failed for r in rows),
        "skipped": sum(r.row.status == "skipped" for r in rows),
        "breached": sum(bool(r.breaches) for r in rows),
    }
    return ReportDoc(
        "edgekp report: fixture", "edgekp report /runs/train --out reports/fixture", GENERATED, runs, summary=summary
    )


def test_markdown_matches_golden() -> None:
    text = render_markdown(_doc())
    golden = GOLDEN / "report.md"
    assert text == golden.read_text(), (
        "report.md differs from tests/report/golden/report.md (regenerate only on purpose)"
    )


def test_failed_rows_show_their_reason() -> None:
    text = render_markdown(_doc())
    assert "| export failed: openvino int8 (torch) conversion failed: RuntimeError: boom |" in text
    assert "| parity failed: max abs 3.1e-03 > 1e-03 |" in text
    assert "ok (structural; needs macOS)" in text
    assert "skipped: peer not available" in text


def test_delta_nme_is_against_pytorch_fp32() -> None:
    doc = _doc()
    int8 = next(rr for rr in doc.runs[0].rows if rr.row.target == "tflite" and rr.row.precision == "int8")
    assert int8.delta_nme == pytest.approx(0.0025)


def test_floors_mark_breaches_and_exempt_peers() -> None:
    doc = _doc(Floors(nme_max=0.051))
    breached = [rr.label for run in doc.runs for rr in run.rows if rr.breaches]
    assert breached == ["train tflite int8 (litert)"]


def test_report_cli_writes_every_form(benched_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "rep"
    assert main(["report", str(benched_run), "--out", str(out)]) == 0
    for name in ("report.md", "report.html", "report.json", "report.csv", "manifest.json"):
        assert (out / name).is_file(), name
    md = (out / "report.md").read_text()
    assert md.splitlines()[2] == "## Verdict"  # the report opens with its answer
    assert "\nMade by: `edgekp report " in md
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "src='plots/" not in html  # self-contained
    rows = json.loads((out / "report.json").read_text())["rows"]
    assert {r["status"] for r in rows} == {"ok", "parity failed", "export failed", "skipped"}


def test_strict_fails_on_failed_rows(benched_run: Path, tmp_path: Path) -> None:
    assert main(["report", str(benched_run), "--out", str(tmp_path / "a"), "--strict"]) == 1
    assert (tmp_path / "a" / "report.md").is_file()  # written before failing


def test_strict_passes_without_failures(tmp_path: Path) -> None:
    data = fixture_result()
    data["rows"] = [r for r in data["rows"] if r["status"] not in ("parity failed", "export failed")]
    run = make_benched_run(tmp_path / "good", data)
    assert main(["report", str(run), "--out", str(tmp_path / "b"), "--strict"]) == 0


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("edgekp: error: "), err
    return err[0]


def test_run_without_artifacts_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from edgekp.lineage.run_dir import RunDir

    RunDir.create(tmp_path / "empty", "train").finish("ok")
    assert main(["report", str(tmp_path / "empty"), "--out", str(tmp_path / "r")]) == 2
    assert "holds no artifacts" in _one_line_error(capsys)


def test_not_benched_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = make_benched_run(tmp_path / "raw")
    (run / "bench" / "bench.json").unlink()
    assert main(["report", str(run), "--out", str(tmp_path / "r")]) == 2
    assert "edgekp bench --from" in _one_line_error(capsys)


def test_mixed_schemes_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = make_benched_run(tmp_path / "a")
    data = fixture_result()
    for row in data["rows"]:
        if row.get("variant") != "peer":
            row["scheme"], row["num_points"] = "wflw98", 98
    b = make_benched_run(tmp_path / "b", data)
    assert main(["report", str(a), str(b), "--out", str(tmp_path / "r")]) == 2
    assert "different landmark schemes" in _one_line_error(capsys)


def test_comparison_report_puts_runs_side_by_side(tmp_path: Path) -> None:
    a, b = make_benched_run(tmp_path / "fp32"), make_benched_run(tmp_path / "pruned", kind="prune")
    assert main(["report", str(a), str(b), "--out", str(tmp_path / "r")]) == 0
    md = (tmp_path / "r" / "report.md").read_text()
    assert "## Runs side by side" in md and "fp32 NME % / p50 ms" in md and "pruned NME % / p50 ms" in md


def test_manual_phone_latency_appears(benched_run: Path, tmp_path: Path) -> None:
    manual = {
        "schema": "edgekp-bench-manual/1",
        "entries": [
            {
                "target": "tflite",
                "precision": "int8",
                "route": "litert",
                "latency": [
                    {"threads": 4, "p50_ms": 3.1, "p90_ms": 3.6, "runs": 200, "device": "Pixel 7", "source": "manual"}
                ],
            }
        ],
    }
    (benched_run / "bench" / "manual.json").write_text(json.dumps(manual))
    assert main(["report", str(benched_run), "--out", str(tmp_path / "r")]) == 0
    assert "| train | tflite | int8 | litert | Pixel 7 | 4 |" in (tmp_path / "r" / "report.md").read_text()


def test_bad_manual_file_is_one_line_exit_2(
    benched_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (benched_run / "bench" / "manual.json").write_text(
        json.dumps({"schema": "edgekp-bench-manual/1", "entries": [{"target": "x"}]})
    )
    assert main(["report", str(benched_run), "--out", str(tmp_path / "r")]) == 2
    assert "manual latency schema" in _one_line_error(capsys)


def test_tflite_fp32_latency_is_put_against_each_peer() -> None:
    from edgekp.report.compare import peer_latency_ratios

    raw = fixture_result()
    int8 = next(r for r in raw["rows"] if r["target"] == "tflite" and r["precision"] == "int8")
    raw["rows"].append({**int8, "precision": "fp32", "latency": [{**int8["latency"][0], "p50_ms": 2.2}]})
    runs = build_rows([(Path("/runs/train"), BenchResult.model_validate(raw))], None)
    (ratio,) = peer_latency_ratios(runs)  # the mediapipe row; the skipped dlib row has no latency
    assert ratio["peer"].startswith("mediapipe") and ratio["ratio"] == pytest.approx(2.2 / 4.4)
    doc = ReportDoc("t", "edgekp report", GENERATED, runs)
    assert "## Latency against the peers" in render_markdown(doc) and "| 0.50 |" in render_markdown(doc)


def test_a_rebuild_leaves_no_plot_of_an_earlier_build(benched_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "rep"
    (out / "plots").mkdir(parents=True)
    (out / "plots" / "head_scores_old_label.png").write_bytes(b"\x89PNG")  # written by an earlier build
    assert main(["report", str(benched_run), "--out", str(out), "--no-samples"]) == 0
    plots = {p.name for p in (out / "plots").glob("*.png")}
    assert "head_scores_old_label.png" not in plots and "ced.png" in plots
