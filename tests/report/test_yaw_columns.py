"""The report's |yaw|-bin table: shown with box NME wherever a face set has large poses, absent otherwise."""

from __future__ import annotations

from pathlib import Path

from edgekp.bench.schema import BenchResult
from edgekp.report.markdown import ReportDoc, render_markdown
from edgekp.report.tables import build_rows, has_large_poses, yaw_cells

from .conftest import GENERATED, fixture_result


def _bins(norm: str, values: dict[str, tuple[int, float | None]]) -> dict:
    return {name: {"n": n, "nme": nme, "norm": norm} for name, (n, nme) in values.items()}


def _result(large: bool) -> BenchResult:
    data = fixture_result()
    for row in data["rows"]:
        acc = row.get("accuracy")
        if acc:
            high = (40, 0.1193) if large else (0, None)
            acc.update(
                n=20,
                n_unscored=30 if large else 0,
                nme_box=0.0609,
                by_yaw={
                    "box": _bins(
                        "box",
                        {
                            "0-30": (10, 0.0417),
                            "30-60": (0 if not large else 10, 0.0666 if large else None),
                            "60-90": high,
                        },
                    ),
                    "inter_ocular": _bins(
                        "inter_ocular",
                        {
                            "0-30": (10, 0.0658),
                            "30-60": (10 if large else 0, 0.0939 if large else None),
                            "60-90": (0, None),
                        },
                    ),
                },
                pose_source="label",
            )
    return BenchResult.model_validate(data)


def _markdown(result: BenchResult) -> str:
    runs = build_rows([(Path("/runs/train"), result)])
    return render_markdown(ReportDoc("t", "edgekp report", GENERATED, runs))


def test_large_pose_face_set_gets_box_and_yaw_bin_columns() -> None:
    result = _result(large=True)
    rows = [rr for run in build_rows([(Path("/runs/train"), result)]) for rr in run.rows]
    assert has_large_poses(rows)
    cells = yaw_cells(next(rr for rr in rows if rr.row.accuracy is not None))
    assert cells[4:] == [
        "50",
        "6.09",
        "4.17 (10)",
        "6.66 (10)",
        "11.93 (40)",
        "20",
        "6.58 (10)",
        "9.39 (10)",
        "-",
        "label",
    ]
    text = _markdown(result)
    assert "## Accuracy by |yaw| bin" in text and "box 30-60 %" in text and "sqrt(w * h)" in text


def test_frontal_face_set_has_no_yaw_bin_table() -> None:
    assert "## Accuracy by |yaw| bin" not in _markdown(_result(large=False))


def test_html_report_carries_the_yaw_bin_table() -> None:
    from edgekp.report.html import render_html

    runs = build_rows([(Path("/runs/train"), _result(large=True))])
    text = render_html(ReportDoc("t", "edgekp report", GENERATED, runs))
    assert "<h2>Accuracy by |yaw| bin</h2>" in text and "11.93 (40)" in text
