"""Pruned runs against their control (edgekp.compress.prune_vs_control, benchmarks/prune_vs_control.py)
on two tiny prune runs (a control that removed nothing and a pruned run with heads and structures
removed): what each removed, the NME per validation set read back from the runs, and the rise against
the control (latency is left to the benchmark run by hand)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from test_prune_run import _recipe

from edgekp.compress import prune_vs_control as pvc
from edgekp.compress.heads import prune
from edgekp.train.data import TrainingData


def test_pruned_run_against_its_control(
    tmp_path: Path,
    make_parent_run: Callable[..., Path],
    prune_data: TrainingData,
    capsys: pytest.CaptureFixture[str],
) -> None:
    parent = make_parent_run()
    prune(_recipe(ratio=0.0), parent, tmp_path / "control", data=prune_data)
    prune(
        _recipe(ratio=0.5, structures={"blocks": {"ref2": 1}, "mlp_ratio": 0.5}),
        parent,
        tmp_path / "cut",
        data=prune_data,
    )
    out = tmp_path / "rows.json"
    assert (
        pvc.main(["--control", str(tmp_path / "control"), str(tmp_path / "cut"), "--no-latency", "--json", str(out)])
        == 0
    )
    control, cut = json.loads(out.read_text())["rows"]
    assert control["removed_heads"] == 0 and control["mlp_channels_removed_pct"] == 0
    assert cut["removed_heads"] == 6 and cut["blocks"] == {"ref2": 1} and cut["mlp_channels_removed_pct"] > 30
    assert cut["flops"] < control["flops"]
    ((name, score),) = cut["nme"].items()
    expected = 100 * (score["nme"] / control["nme"][name]["nme"] - 1)
    assert cut["nme_rise_pct"][name] == pytest.approx(expected) and control["nme_rise_pct"][name] == pytest.approx(0)
    table = capsys.readouterr().out
    assert "| cut | 6 of 12 | 1 |" in table and f"{expected:+.1f}" in table


def test_a_folder_that_is_not_a_run_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert pvc.main(["--control", str(tmp_path), str(tmp_path / "nope"), "--no-latency"]) == 2
    assert capsys.readouterr().err.startswith("edgekp: error: not a run directory")
