"""The lever commands (edgekp.train.lever_command, edgekp.report.balance_ablation: benchmarks/train_levers.py
and balance_ablation.py) on a tiny synthetic recipe (kp_hvit_test, seconds):
one run per lever, --reuse keeps finished runs and resumes interrupted ones, the table reads the runs back."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from edgekp.errors import ConfigError
from edgekp.report import balance_ablation
from edgekp.train.lever_command import levers_main
from edgekp.train.levers import load_lever_file
from edgekp.train.summary import BIN_NAMES, summarize_run

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"

TINY = """kind: train
version: 1
seed: 0
device: cpu
threads: 1
model: {{name: kp_hvit_test, input_size: 64, num_points: 68}}
data:
  root: {root}
  train: [{{path: train, format: synthetic, n: 32, seed: 1, render_size: 80}}]
  val: [{{path: val, format: synthetic, n: 12, seed: 2, render_size: 80, name: synth_val, norm: box}}]
  val_split: null
  select: synth_val
balance: {{yaw_threshold: 30, strategy: oversample, delta: 0.25}}
optim: {{batch_size: 16, max_epochs: 2, patience: 3, warmup_epochs: 0.5}}
"""

LEVERS = """base: tiny.yaml
levers:
  - {name: baseline, what: as is}
  - {name: loss_l1, what: L1, set: {loss.type: l1}}
  - {name: loss_rle, what: RLE, optional: true, set: {loss.type: rle}}
  - {name: balance_off, what: no balance, set: {balance.enabled: false}}
"""


@pytest.fixture()
def lever_file(tmp_path: Path) -> Path:
    (tmp_path / "tiny.yaml").write_text(TINY.format(root=tmp_path / "data"))
    path = tmp_path / "levers.yaml"
    path.write_text(LEVERS)
    return path


def test_levers_train_resume_and_table(lever_file, tmp_path, capsys):
    out = tmp_path / "sweep"
    # First leg: a budget so small that each run stops after one of its two epochs.
    common = ["--levers", str(lever_file), "--out", str(out), "--only", "baseline,loss_l1,loss_rle"]
    assert levers_main([*common, "--budget-min", "0.00001", "--json"]) == 0
    first = {r["lever"]: r for r in json.loads(capsys.readouterr().out)}
    assert first["baseline"]["epochs"] == 1 and first["baseline"]["stop_reason"] == "time_budget"
    assert first["loss_rle"]["action"] == "unavailable" and "rle" in first["loss_rle"]["note"]
    assert json.loads((out / "loss_l1" / "manifest.json").read_text())["recipe"]["loss"]["type"] == "l1"
    # Without --reuse an existing lever folder is refused before anything trains.
    assert levers_main(common) == 2
    assert "--reuse" in capsys.readouterr().err
    # Second leg: a longer budget (run control) resumes both to their second epoch.
    assert levers_main([*common, "--budget-min", "10", "--reuse"]) == 0
    table = capsys.readouterr().out
    for lever in ("baseline", "loss_l1"):
        summary = summarize_run(out / lever)
        assert summary.epochs == 2 and summary.stop_reason == "max_epochs", lever
        assert summary.sets["synth_val"].norm == "box" and 0 < summary.nme("synth_val") < 1
        assert any(summary.nme("synth_val", b) is not None for b in BIN_NAMES)  # history carries the |yaw| bins
        resumes = json.loads((out / lever / "manifest.json").read_text())["resumes"]
        assert resumes[-1]["control"]["optim.time_budget_min"] == 10
    row = next(line for line in table.splitlines() if line.startswith("| baseline |"))
    assert "| 2 |" in row and "max_epochs" in row
    # A third call reuses both finished runs: nothing trains, the epochs stay at 2.
    assert levers_main([*common, "--budget-min", "10", "--reuse", "--json"]) == 0
    assert {r["lever"]: r["action"] for r in json.loads(capsys.readouterr().out)} == {
        "baseline": "done",
        "loss_l1": "done",
        "loss_rle": "unavailable",
    }
    # A lever redefined after its run: refused, not mixed into the old run.
    lever_file.write_text(LEVERS.replace("loss.type: l1", "loss.type: smooth_l1"))
    assert levers_main([*common, "--reuse"]) == 2
    assert "recipe differs" in capsys.readouterr().err


def test_levers_in_parallel_subprocesses(lever_file, tmp_path, capsys):
    out = tmp_path / "sweep"
    assert (
        levers_main(
            [
                "--levers",
                str(lever_file),
                "--out",
                str(out),
                "--only",
                "baseline,loss_l1",
                "--jobs",
                "2",
                "--set",
                "optim.max_epochs=1",
                "--set",
                "threads=null",
                "--json",
            ]
        )
        == 0
    )
    rows = {r["lever"]: r for r in json.loads(capsys.readouterr().out)}
    for lever in ("baseline", "loss_l1"):
        assert rows[lever]["status"] == "ok" and rows[lever]["epochs"] == 1, lever
        assert (out / f"{lever}.log").is_file()
        # each process got its share of the CPU threads (run control: a later --reuse still resumes it)
        assert json.loads((out / lever / "manifest.json").read_text())["recipe"]["threads"] == max(
            1, (os.cpu_count() or 1) // 2
        )
    assert json.loads((out / "loss_l1" / "manifest.json").read_text())["recipe"]["loss"]["type"] == "l1"


def test_balance_ablation_prints_bins_difference_and_verdict(lever_file, tmp_path, capsys):
    out = tmp_path / "sweep"
    assert (
        balance_ablation.main(
            ["--levers", str(lever_file), "--out", str(out), "--budget-min", "10", "--set", "optim.max_epochs=1"]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "balance off" in text and "balance on" in text and "0-30" in text
    assert "Pose balancing" in text  # the verdict sentence, derived from the two runs' figures
    on, off = summarize_run(out / "baseline"), summarize_run(out / "balance_off")
    assert json.loads((out / "balance_off" / "manifest.json").read_text())["recipe"]["balance"]["enabled"] is False
    assert f"{100 * off.nme('synth_val'):.2f}" in text and f"{100 * on.nme('synth_val'):.2f}" in text
    # --paired re-scores both models face by face: the same means as their validation, plus 95 % intervals.
    assert (
        balance_ablation.main(
            [
                "--levers",
                str(lever_file),
                "--out",
                str(out),
                "--set",
                "optim.max_epochs=1",
                "--table",
                "--paired",
                "--json",
            ]
        )
        == 0
    )
    paired = {r["bin"]: r for r in json.loads(capsys.readouterr().out)["rows"]}
    assert paired["all"]["n"] == 12 and paired["all"]["ci95"] is not None
    assert paired["all"]["on"] == pytest.approx(on.nme("synth_val"), rel=1e-4)
    assert paired["all"]["off"] == pytest.approx(off.nme("synth_val"), rel=1e-4)


def test_lever_file_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("base: x.yaml\nlevers:\n  - {name: a}\n  - {name: a}\n")
    with pytest.raises(ConfigError, match="repeats"):
        load_lever_file(bad)
    bad.write_text("base: x.yaml\nlevers:\n  - {name: a, sett: {}}\n")
    with pytest.raises(ConfigError, match="unknown keys"):
        load_lever_file(bad)


def test_committed_lever_file_validates(repo_root, tmp_path):
    """Every non-optional lever of benchmarks/train_levers.yaml builds a valid recipe and architecture."""
    from edgekp.train.levers import SweepSettings, plan_sweep

    lever_file = load_lever_file(BENCH / "train_levers.yaml")
    plan = plan_sweep(lever_file, lever_file.levers, SweepSettings(tmp_path, ("data.root=/nowhere",)))
    actions = {p.lever.name: p.action for p in plan}
    assert actions["baseline"] == "train" and actions["balance_off"] == "train"
    assert all(
        a == "train" for n, a in actions.items() if not next(lv for lv in lever_file.levers if lv.name == n).optional
    )
    assert next(p for p in plan if p.lever.name == "ema_off").recipe.optim.ema_decay is None
    assert next(p for p in plan if p.lever.name == "ytf_0.2").recipe.data.train[3].weight == 0.2


def test_unknown_lever_is_one_error_line(lever_file, tmp_path, capsys):
    assert levers_main(["--levers", str(lever_file), "--out", str(tmp_path / "s"), "--only", "baseline,nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["edgekp: error: unknown lever(s): nope (declared: baseline, loss_l1, loss_rle, balance_off)"]
    assert not (tmp_path / "s").exists()  # refused before anything trained
