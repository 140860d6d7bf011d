"""Pruned runs against their same-budget control: NME on each validation set (chosen epoch, the
set's own normalization) and TFLite fp32 / int8 latency, timed round robin in one process.

    edgekp prune --recipe recipes/prune/control.yaml --from runs/kp_hvit_s_merlrav --out runs/prune5/control \
        --set finetune.max_epochs=2
    edgekp prune --recipe recipes/prune/heads_50.yaml --from runs/kp_hvit_s_merlrav --out runs/prune5/heads_50 \
        --set finetune.max_epochs=2
    python -m benchmarks.prune_vs_control --control runs/prune5/control runs/prune5/heads_50 runs/prune5/blocks3_mlp30

The control is a prune run that removed nothing (recipes/prune/control.yaml) with the same
fine-tuning as the others: a pruned run's NME rise and latency cut are read against it, so the
fine-tuning's own effect is not credited to the removal. Issue 14's pruning targets: >= 30 % of heads
(or of an equivalent structure) removed, <= 1 % relative NME rise against the control, >= 15 % TFLite
latency cut. int8 is PT2E static post-training quantization with synthetic calibration faces (latency
does not depend on the calibration). cut % = median over rounds of 1 - pruned / control, each ratio
taken within one round. The host's ISA is printed with the figures. The command behind
benchmarks/prune_vs_control.py.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

TARGET_NME_RISE_PCT, TARGET_CUT_PCT = 1.0, 15.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--control", required=True, help="the prune run that removed nothing (same fine-tuning)")
    p.add_argument("runs", nargs="+", help="pruned runs to compare with it")
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--calib", type=int, default=16, help="synthetic calibration faces for the int8 exports")
    p.add_argument("--no-latency", action="store_true", help="NME and cost only (no exports)")
    p.add_argument("--out", default=None, help="folder for the TFLite artifacts (default: a temp folder)")
    p.add_argument("--json", default=None, help="also write the rows here")
    return p.parse_args(argv)


def describe(run: Path) -> dict[str, Any]:
    """What the run removed, its cost and its validation NME per set: after its last fine-tuning epoch (the
    same budget for every run, which the comparison uses) and at its chosen epoch (-1: before fine-tuning)."""
    from edgekp.train.summary import read_history, summarize_run, validation_set_norms

    manifest = json.loads((run / "manifest.json").read_text())
    comp = manifest.get("compression") or {}
    summary = summarize_run(run, with_cost=False)
    history = read_history(run)
    last = history[-1] if history else {}
    # The named validation sets the fine-tuning scored; a run with one unnamed set has only the pooled NME.
    norms = {n: v for n, v in validation_set_norms(manifest).items() if f"val_nme[{n}]" in last}
    norms = norms or {"val": str(last.get("val_norm") or "inter_ocular")}
    before, after = comp.get("before") or {}, comp.get("after") or {}
    structures = comp.get("structures") or {}
    widths = (
        sum((structures.get("mlp_widths_before") or {}).values()),
        sum((structures.get("mlp_widths_after") or {}).values()),
    )
    return {
        "run": str(run),
        "removed_heads": comp.get("removed_total", 0),
        "heads_before": before.get("heads"),
        "blocks": structures.get("blocks") or {},
        "mlp_ratio": structures.get("mlp_ratio", 0.0),
        "mlp_channels_removed_pct": 100 * (1 - widths[1] / widths[0]) if widths[0] else 0.0,
        "params": after.get("params"),
        "flops": after.get("flops"),
        "epochs": len(history),
        "best_epoch": summary.best_epoch,
        "nme": {
            name: {
                "norm": norm,
                "nme": last.get(f"val_nme[{name}]", last.get("val_nme") if name == "val" else None),
                "chosen": summary.nme(name),
            }
            for name, norm in norms.items()
        },
    }


def latencies(runs: list[Path], rounds: int, calib_n: int, out: Path) -> dict[str, dict[str, list[float]]]:
    """Per run, per precision: the per-round median TFLite ms (all artifacts timed in the same rounds)."""
    from edgekp.checkpoints import load_run_model
    from edgekp.compress.int8_screen import export_variant, synthetic_calibration, time_round_robin

    torch.set_num_threads(1)
    arts = []
    for i, run in enumerate(runs):
        model = load_run_model(str(run)).model.eval()
        calib = synthetic_calibration(calib_n, int(model.config.input_size))
        arts += export_variant(
            f"{i}_{run.name}", model, calib, out, ("tflite",), log=lambda m: print(m, file=sys.stderr)
        )
    timings = time_round_robin(arts, calib[:1], rounds=rounds)
    per_run: dict[str, dict[str, list[float]]] = {}
    for (variant, _, precision), timing in timings.items():
        run = str(runs[int(variant.split("_", 1)[0])])
        per_run.setdefault(run, {})[precision] = timing.rounds
    return per_run


def compare(
    control: dict[str, Any], row: dict[str, Any], times: dict[str, dict[str, list[float]]] | None
) -> dict[str, Any]:
    out = dict(row)
    out["nme_rise_pct"] = {
        name: (
            None
            if s["nme"] is None or (control["nme"].get(name) or {}).get("nme") is None
            else 100 * (s["nme"] / control["nme"][name]["nme"] - 1)
        )
        for name, s in row["nme"].items()
    }
    if row["epochs"] != control["epochs"]:
        out["note"] = f"fine-tuned {row['epochs']} epochs, the control {control['epochs']}: not the same budget"
    if times:
        for precision in ("fp32", "int8"):
            mine, ref = times[row["run"]][precision], times[control["run"]][precision]
            out[f"{precision}_ms"] = statistics.median(mine)
            out[f"{precision}_cut_pct"] = 100 * (1 - statistics.median(m / c for m, c in zip(mine, ref, strict=True)))
    return out


def _pct(value: float | None, signed: bool = False) -> str:
    return "-" if value is None else (f"{value:+.1f}" if signed else f"{value:.2f}")


def print_table(rows: list[dict[str, Any]], host: dict[str, Any] | None) -> None:
    sets = list(rows[0]["nme"])
    head = [
        "run",
        "heads removed",
        "modules removed",
        "MLP channels removed % (with removed modules)",
        "params",
        "MFLOPs",
    ]
    head += [f"{name} % ({rows[0]['nme'][name]['norm']}) last / chosen" for name in sets] + [
        f"{name} d % vs control" for name in sets
    ]
    head += ["TFLite fp32 ms", "cut %", "TFLite int8 ms", "cut %"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        cells = [
            Path(r["run"]).name,
            f"{r['removed_heads']} of {r['heads_before']}",
            str(sum(r["blocks"].values())),
            f"{r['mlp_channels_removed_pct']:.0f}",
            f"{r['params']:,}" if r["params"] else "-",
            f"{r['flops'] / 1e6:.1f}" if r["flops"] else "-",
        ]
        cells += [
            " / ".join(_pct(None if v is None else 100 * v) for v in (r["nme"][n]["nme"], r["nme"][n]["chosen"]))
            for n in sets
        ]
        cells += [_pct((r.get("nme_rise_pct") or {}).get(n), signed=True) for n in sets]
        for precision in ("fp32", "int8"):
            ms, cut = r.get(f"{precision}_ms"), r.get(f"{precision}_cut_pct")
            cells += ["-" if ms is None else f"{ms:.3f}", "-" if cut is None else f"{cut:.1f}"]
        print("| " + " | ".join(cells) + " |")
    for r in rows:
        if r.get("note"):
            print(f"{Path(r['run']).name}: {r['note']}")
    print(
        f"\nTargets (issue 14): NME rise <= {TARGET_NME_RISE_PCT:g} % against the control on every set, TFLite cut >= "
        f"{TARGET_CUT_PCT:g} %. NME after the last fine-tuning epoch (the same budget for every run; d compares these) "
        f"and at the chosen epoch ('-': the model from before fine-tuning, not scored per set by older runs)."
    )
    if host:
        print(
            f"Latency: 1 thread, TFLite (LiteRT) per-round medians of 30 calls, round robin in one process. "
            f"Host: {host['cpu']}, ISA {' '.join(host['isa'])}"
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from edgekp.host import host_info

    runs = [Path(args.control), *(Path(r) for r in args.runs)]
    missing = [str(r) for r in runs if not (r / "manifest.json").is_file()]
    if missing:
        print(f"edgekp: error: not a run directory (no manifest.json): {', '.join(missing)}", file=sys.stderr)
        return 2
    described = [describe(r) for r in runs]
    times = None
    if not args.no_latency:
        times = latencies(runs, args.rounds, args.calib, Path(args.out or tempfile.mkdtemp(prefix="prune_vs_control_")))
    rows = [compare(described[0], d, times) for d in described]
    host = host_info(threads=1)
    print_table(rows, host if times else None)
    if args.json:
        Path(args.json).write_text(json.dumps({"host": host, "rows": rows}, indent=2, default=str))
    return 0
