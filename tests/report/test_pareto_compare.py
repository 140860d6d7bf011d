"""report.pareto (the non-dominated rows) and report.compare (runs side by side), unit by unit."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgekp.bench.schema import BenchResult
from edgekp.report.compare import comparison, peer_latency_ratios
from edgekp.report.pareto import pareto_front
from edgekp.report.tables import build_rows

from .conftest import fixture_result


def test_pareto_front_drops_dominated_points_and_sorts_by_latency() -> None:
    # (latency ms, NME): (3, 0.05) is beaten by (2, 0.04) on both; (4, 0.04) by (2, 0.04) on latency.
    points = [(3.0, 0.05), (1.0, 0.09), (2.0, 0.04), (4.0, 0.04), (5.0, 0.02)]
    assert pareto_front(points) == [1, 2, 4]


def test_pareto_front_keeps_equal_points_and_handles_edges() -> None:
    assert pareto_front([]) == []
    assert pareto_front([(1.0, 1.0)]) == [0]
    assert pareto_front([(1.0, 1.0), (1.0, 1.0), (2.0, 2.0)]) == [0, 1]  # ties are not domination


@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=12))
def test_pareto_front_is_exactly_the_non_dominated_set(raw: list[tuple[int, int]]) -> None:
    points = [(float(x), float(y)) for x, y in raw]
    front = pareto_front(points)
    for i, p in enumerate(points):
        beaten = any(q[0] <= p[0] and q[1] <= p[1] and q != p for q in points)
        assert (i in front) == (not beaten)
    assert [points[i] for i in front] == sorted(points[i] for i in front)


def _runs(*variants: tuple[str, dict | None]) -> list:
    results = []
    for name, change in variants:
        raw = fixture_result()
        if change:
            for row in raw["rows"]:
                if (
                    row["target"] == change["target"]
                    and row["precision"] == change["precision"]
                    and row.get("accuracy")
                ):
                    row["accuracy"]["nme"] = change["nme"]
        raw["run_name"] = name
        results.append((Path(f"/runs/{name}"), BenchResult.model_validate(raw)))
    return build_rows(results, None)


def test_comparison_is_empty_for_one_run() -> None:
    assert comparison(_runs(("train", None))) == ([], [])


def test_comparison_puts_each_artifact_on_one_line_with_each_run_in_a_column() -> None:
    runs = _runs(("fp32", None), ("pruned", {"target": "pytorch", "precision": "fp32", "nme": 0.0777}))
    header, rows = comparison(runs)
    labels = [rep.rows[0].run_label for rep in runs]
    assert header == ["target", "precision", "route", *[f"{label} NME % / p50 ms" for label in labels]]
    keys = [tuple(r[:3]) for r in rows]
    assert len(keys) == len(set(keys))  # one line per (target, precision, route)
    assert not any(k[0] in ("dlib", "mediapipe") for k in keys)  # peers are not edgekp artifacts
    pytorch = next(r for r in rows if r[0] == "pytorch")
    assert pytorch[4].startswith("7.77") and pytorch[3] != pytorch[4]  # the second run's own NME, in its column


def test_comparison_marks_an_artifact_a_run_lacks() -> None:
    raw = fixture_result()
    raw["rows"] = [r for r in raw["rows"] if r["target"] != "openvino"]
    runs = build_rows(
        [
            (Path("/runs/a"), BenchResult.model_validate(fixture_result())),
            (Path("/runs/b"), BenchResult.model_validate(raw)),
        ],
        None,
    )
    _, rows = comparison(runs)
    openvino = [r for r in rows if r[0] == "openvino"]
    assert openvino and all(r[4] == "-" for r in openvino)


def test_peer_ratios_only_compare_the_same_thread_count() -> None:
    raw = fixture_result()
    int8 = next(r for r in raw["rows"] if r["target"] == "tflite" and r["precision"] == "int8")
    raw["rows"].append({**int8, "precision": "fp32", "latency": [{**int8["latency"][0], "p50_ms": 2.2, "threads": 2}]})
    runs = build_rows([(Path("/runs/train"), BenchResult.model_validate(raw))], None)
    peer_threads = {rr.latency.threads for rep in runs for rr in rep.rows if rr.row.variant == "peer" and rr.latency}
    assert 2 not in peer_threads  # the fixture's peers ran at 1 thread: no like-for-like pair
    assert peer_latency_ratios(runs) == []


@pytest.mark.parametrize("p50", [1.1, 8.8])
def test_peer_ratio_is_ours_over_theirs(p50: float) -> None:
    raw = fixture_result()
    int8 = next(r for r in raw["rows"] if r["target"] == "tflite" and r["precision"] == "int8")
    raw["rows"].append({**int8, "precision": "fp32", "latency": [{**int8["latency"][0], "p50_ms": p50}]})
    runs = build_rows([(Path("/runs/train"), BenchResult.model_validate(raw))], None)
    (ratio,) = peer_latency_ratios(runs)
    assert ratio["edgekp_p50_ms"] == p50 and ratio["ratio"] == pytest.approx(p50 / ratio["peer_p50_ms"])
