"""The one timing loop and round robin (edgekp.measure.timing), thread settings that restore, data hashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgekp.measure.hashes import data_hash
from edgekp.measure.timing import LatencySettings, round_robin, time_call, timed_calls


def test_data_hash_follows_annotations(tmp_path: Path) -> None:
    (tmp_path / "a.pts").write_text("1 2")
    before = data_hash(tmp_path)
    assert data_hash(tmp_path) == before
    (tmp_path / "a.pts").write_text("1 3")
    assert data_hash(tmp_path) != before


def test_latency_statistics() -> None:
    calls = []
    out = time_call(lambda: calls.append(1), LatencySettings(warmup=3, min_runs=20, min_seconds=10.0))
    assert out["runs"] == 20 and len(calls) == 23
    assert 0 <= out["p50_ms"] <= out["p90_ms"]


def test_thread_count_is_restored_after_the_block() -> None:
    import torch

    from edgekp.measure.threads import thread_count

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        with thread_count(2):
            assert torch.get_num_threads() == 2
        assert torch.get_num_threads() == 1
        with pytest.raises(RuntimeError), thread_count(2):
            raise RuntimeError("a failing timed call")
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_round_robin_gives_every_thread_count_its_runs() -> None:
    from edgekp.measure.timing import time_thread_counts

    calls = {1: lambda: sum(range(200)), 2: lambda: sum(range(200))}
    result = time_thread_counts(calls, LatencySettings(warmup=1, min_runs=20, min_seconds=10.0, floor_runs=5), rounds=4)
    assert set(result) == {1, 2}
    for stats in result.values():
        assert stats["runs"] == 20 and 0 < stats["p50_ms"] <= stats["p90_ms"]


def test_fixed_settings_time_exactly_that_many_calls_after_the_warm_up() -> None:
    calls = []
    out = time_call(lambda: calls.append(1), LatencySettings.fixed(runs=7, warmup=2))
    assert out["runs"] == 7 and out["warmup"] == 2 and len(calls) == 9


def test_the_loop_stops_at_min_seconds_but_not_before_the_floor() -> None:
    times, elapsed = timed_calls(lambda: None, min_runs=10**9, min_seconds=0.0, floor_runs=4)
    assert len(times) == 4 and elapsed >= sum(times)


def test_after_runs_outside_each_timed_call() -> None:
    seen: list[str] = []
    times, _ = timed_calls(lambda: seen.append("call"), min_runs=3, after=lambda: seen.append("after"))
    assert len(times) == 3 and seen == ["call", "after"] * 3


def test_round_robin_takes_turns_and_keeps_each_turns_times() -> None:
    order: list[str] = []
    turns = round_robin(
        {"a": lambda: order.append("a"), "b": lambda: order.append("b")}, rounds=3, runs_per_turn=2, warmup=1, rewarm=1
    )
    # warm-up of each, then per round: a's re-warm and 2 timed calls, then b's
    assert order == ["a", "b"] + (["a"] * 3 + ["b"] * 3) * 3
    assert all(len(t.turns) == 3 and len(t.pooled) == 6 for t in turns.values())
    assert all(len(t.turn_medians_ms()) == 3 and t.seconds > 0 for t in turns.values())
