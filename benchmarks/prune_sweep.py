"""Head-pruning sweep: 0 / 25 / 50 / 75 % of heads removed, Taylor importance vs random.

For a trained run it prints, per variant: heads left, parameters, FLOPs, validation NME of the parent,
right after removal and after fine-tuning, and 1-thread latency in onnxruntime and TFLite (LiteRT).

    python -m benchmarks.prune_sweep --from runs/kp_hvit_s_merlrav --data-root ../shared/data

    # which structures cut latency at all (MLP channels, whole blocks, heads; TFLite fp32 and int8)
    python -m benchmarks.prune_sweep --from edgekp-out/kp_hvit_s_merlrav --structures

Every budget is an option (fine-tuning epochs and minutes, faces used), so a short smoke run and the
full run on the shipped model use the same script. Prune runs land in ``--out/<importance>_<pct>`` and
are reused on a rerun with the same settings (``--resume`` semantics of ``edgekp prune``).

NME is inter-ocular, on the parent's validation split (real faces when the parent trained on real
data). Fine-tuning keeps the epoch with the best validation NME, so the "FT best" column is chosen on
the same faces it reports (optimistic); "FT last" is the last epoch's, free of that selection.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # busy cores: OpenMP spin-waits distort timings

import numpy as np
import torch

from edgekp.compress.heads import head_counts, prune
from edgekp.compress.lifecycle import finetune_recipe, parent_train_recipe
from edgekp.config.prune import PruneRecipe
from edgekp.lineage.checkpoints import load_run_model
from edgekp.lineage.run_dir import RunDir
from edgekp.measure.timing import round_robin
from edgekp.models import count_flops, count_parameters
from edgekp.train.data import build_training_data
from edgekp.train.evaluate import predict_arrays, score


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--from", dest="from_run", required=True, help="the trained run to prune")
    p.add_argument("--data-root", default=None, help="data.root for the parent's datasets (e.g. ../shared/data)")
    p.add_argument("--out", default=None, help="where the prune runs go (default: <from>-prune_sweep)")
    p.add_argument("--ratios", default="0,0.25,0.5,0.75", help="comma-separated fractions of heads to remove")
    p.add_argument("--importance", default="taylor", choices=("taylor", "magnitude", "random"))
    p.add_argument(
        "--no-control",
        dest="control",
        action="store_false",
        help="skip the control: the unpruned parent fine-tuned with the same budget (what fine-tuning alone gives)",
    )
    p.add_argument("--random-at", default="0.5", help="ratios also pruned with random importance ('' for none)")
    p.add_argument("--schedule", default="one_shot", choices=("one_shot", "iterative"))
    p.add_argument("--steps", type=int, default=3, help="iterative rounds")
    p.add_argument("--epochs", type=int, default=6, help="fine-tuning epochs after removal")
    p.add_argument("--minutes", type=float, default=20.0, help="fine-tuning time budget per variant")
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--patience", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=None, help="default: the parent's")
    p.add_argument("--max-train-faces", type=int, default=None, help="cap each training dataset (smoke runs)")
    p.add_argument("--scoring-faces", type=int, default=512)
    p.add_argument("--threads", type=int, default=None, help="torch threads for fine-tuning (default: all)")
    p.add_argument("--repeats", type=int, default=100, help="timed runs per latency measurement (median)")
    p.add_argument("--no-tflite", action="store_true", help="skip the TFLite latency (litert-torch conversion)")
    p.add_argument("--json", dest="json_out", default=None, help="also write the rows to this JSON file")
    p.add_argument(
        "--structures",
        action="store_true",
        help="instead: which structures cut TFLite latency (MLP channels, whole blocks, heads), no fine-tuning",
    )
    return p.parse_args(argv)


# -- latency --------------------------------------------------------------------------------------
def _round_robin(runners: list[Any], x: np.ndarray, repeats: int) -> list[dict[str, float]]:
    """Time every runner in turn, one call per turn, ``repeats`` rounds after 10 warm-up calls each: on a
    shared, drifting machine each variant sees the same load, so the ratios between variants hold even
    when absolute times wander."""
    turns = round_robin({i: (lambda run=run: run(x)) for i, run in enumerate(runners)}, repeats, 1, warmup=10)
    return [
        {"p50": 1000 * statistics.median(t.pooled), "p90": 1000 * float(np.percentile(t.pooled, 90))}
        for t in turns.values()
    ]


def onnx_runner(model: torch.nn.Module, size: int, work: Path) -> tuple[Any, str]:
    """A 1-thread onnxruntime runner of the model as edgekp's ONNX export writes it."""
    from edgekp.export.onnx import export_onnx
    from edgekp.export.onnx_runtime import OrtRunner

    path = work / "model.onnx"
    export_onnx(model, size, path, dynamic_batch=False, exporter="legacy")
    return OrtRunner(path, 1), "edgekp.export.onnx (legacy exporter, opset 20)"


def tflite_runner(model: torch.nn.Module, size: int, work: Path) -> tuple[Any | None, str]:
    try:
        from edgekp.export.tflite import convert_litert
        from edgekp.export.tflite_runtime import LiteRTRunner
    except ImportError as exc:
        return None, f"skipped: edgekp.export.tflite unavailable ({exc})"
    path = work / "model.tflite"
    try:
        convert_litert(model.eval(), size, "fp32", "static", None, path)
        runner = LiteRTRunner(path, 1)
    except Exception as exc:
        return None, f"failed: {str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__}"
    return runner, "litert-torch fp32 + ai-edge-litert interpreter"


# -- the sweep ------------------------------------------------------------------------------------
def prune_overrides(args: argparse.Namespace, parent: RunDir) -> dict[str, Any]:
    """Recipe fields shared by every variant: data root / caps, fine-tuning budget."""
    train = parent_train_recipe(parent)
    data = train.data.model_dump(mode="json")
    if args.data_root:
        data["root"] = args.data_root
    if args.max_train_faces:
        for spec in data["train"]:
            spec["max_faces"] = min(spec.get("max_faces") or args.max_train_faces, args.max_train_faces)
    finetune = {
        **train.optim.model_dump(mode="json"),
        "lr": args.lr,
        "warmup_epochs": 0.2,
        "max_epochs": args.epochs,
        "patience": args.patience,
        "time_budget_min": args.minutes,
    }
    if args.batch_size:
        finetune["batch_size"] = args.batch_size
    return {
        "data": data,
        "finetune": finetune,
        "threads": args.threads,
        "schedule": args.schedule,
        "steps": args.steps,
        "scoring": {"faces": args.scoring_faces, "batch_size": 32},
    }


def measure(model: torch.nn.Module, data: Any) -> dict[str, Any]:
    pred = predict_arrays(model, data.val.images)
    return {
        "heads": sum(head_counts(model).values()),
        "params": count_parameters(model),
        "flops": count_flops(model),
        "val_nme": float(score(pred, data.val.points, data.scheme)["nme"]),
    }


def measure_latency(
    models: list[torch.nn.Module], rows: list[dict[str, Any]], args: argparse.Namespace, notes: dict[str, str]
) -> None:
    """Convert every variant first, then time them interleaved (see _round_robin)."""
    size = models[0].config.input_size
    x = np.random.default_rng(0).random((1, 3, size, size), dtype=np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        ort_runners, tfl_runners = [], []
        for i, model in enumerate(models):
            work = Path(tmp) / str(i)
            work.mkdir()
            runner, notes["onnxruntime"] = onnx_runner(model, size, work)
            ort_runners.append(runner)
            if not args.no_tflite:
                runner, notes["tflite"] = tflite_runner(model, size, work)
                tfl_runners.append(runner)
        for row, t in zip(rows, _round_robin(ort_runners, x, args.repeats), strict=True):
            row["ort_ms"] = t
        if tfl_runners and all(r is not None for r in tfl_runners):
            for row, t in zip(rows, _round_robin(tfl_runners, x, args.repeats), strict=True):
                row["tflite_ms"] = t


def run_sweep(args: argparse.Namespace) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    parent_dir = Path(args.from_run)
    parent = RunDir.open(parent_dir, expect_kinds=("train", "prune"))
    out = Path(args.out or f"{parent_dir}-prune_sweep")
    overrides = prune_overrides(args, parent)
    base = PruneRecipe.model_validate({**overrides, "ratio": 0.0})
    data = build_training_data(finetune_recipe(parent_train_recipe(parent), base))  # read once, shared by all
    model = load_run_model(parent_dir).model
    notes: dict[str, str] = {}
    rows = [
        {
            "variant": "parent",
            "importance": "-",
            "ratio": 0.0,
            "nme_pruned": None,
            "nme_ft_last": None,
            **measure(model, data),
        }
    ]
    models = [model]
    parent_nme = rows[0]["val_nme"]
    ratios = [float(r) for r in args.ratios.split(",") if r.strip()]
    random_at = {float(r) for r in args.random_at.split(",") if r.strip()}
    plan = [(r, args.importance) for r in ratios if r > 0] + [
        (r, "random") for r in ratios if r in random_at and r > 0 and args.importance != "random"
    ]
    if args.control:  # ratio 0: no head removed, the same fine-tuning; separates pruning from extra training
        plan.insert(0, (0.0, args.importance))
    for ratio, importance in plan:
        recipe = PruneRecipe.model_validate({**overrides, "ratio": ratio, "importance": importance})
        run_dir = out / (f"{importance}_{round(100 * ratio)}" if ratio > 0 else "control_0")
        resume = (run_dir / "manifest.json").is_file()
        label = f"{importance} {100 * ratio:.0f}%" if ratio > 0 else "0% + FT"
        print(f"[sweep] {label} -> {run_dir}{' (resuming)' if resume else ''}", flush=True)
        summary = prune(recipe, parent_dir, run_dir, resume=resume, data=data)
        pruned = load_run_model(run_dir).model
        result = json.loads((run_dir / "manifest.json").read_text()).get("result", {})
        row = {
            "variant": label,
            "importance": importance if ratio > 0 else "-",
            "ratio": ratio,
            "nme_pruned": summary["val_nme_before_finetune"],
            **measure(pruned, data),
            "epochs": result.get("epochs"),
        }
        row["nme_ft_last"] = _last_val_nme(run_dir)
        rows.append(row)
        models.append(pruned)
    torch.set_num_threads(1)
    measure_latency(models, rows, args, notes)
    control = next((r["val_nme"] for r in rows if r["variant"] == "0% + FT"), None)
    for row in rows:
        row["nme_rise_pct"] = 100 * (row["val_nme"] / parent_nme - 1)
        row["nme_rise_vs_control_pct"] = None if control is None else 100 * (row["val_nme"] / control - 1)
        row["ort_cut_pct"] = 100 * (1 - row["ort_ms"]["p50"] / rows[0]["ort_ms"]["p50"])
        if row.get("tflite_ms") and rows[0].get("tflite_ms"):
            row["tflite_cut_pct"] = 100 * (1 - row["tflite_ms"]["p50"] / rows[0]["tflite_ms"]["p50"])
    context = {
        "parent": str(parent_dir),
        "val_faces": len(data.val),
        "train_faces": len(data.train),
        "normalization": "inter_ocular",
        "cpu": platform.processor() or platform.machine(),
        "threads_latency": 1,
        "repeats": args.repeats,
        "torch": torch.__version__,
        "latency_via": notes,
        "out": str(out),
    }
    return rows, context


def _last_val_nme(run_dir: Path) -> float | None:
    import csv

    path = run_dir / "history.csv"
    if not path.is_file():
        return None
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return float(rows[-1]["val_nme"]) if rows else None


def print_table(rows: list[dict[str, Any]], context: dict[str, Any]) -> None:
    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.2f}"

    def ms(v: dict[str, float] | None) -> str:
        return "-" if not v else f"{v['p50']:.2f}"

    head = (
        f"{'variant':<14} {'heads':>5} {'params':>9} {'MFLOPs':>7} {'NME pruned':>10} {'FT best':>8} {'FT last':>8} "
        f"{'rise %':>7} {'vs ctl':>7} {'ORT ms':>7} {'cut %':>6} {'TFL ms':>7} {'cut %':>6}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        tfl_cut = f"{r['tflite_cut_pct']:.1f}" if "tflite_cut_pct" in r else "-"
        ctl = "-" if r.get("nme_rise_vs_control_pct") is None else f"{r['nme_rise_vs_control_pct']:.2f}"
        print(
            f"{r['variant']:<14} {r['heads']:>5} {r['params']:>9,} {r['flops'] / 1e6:>7.1f} {pct(r['nme_pruned']):>10} "
            f"{pct(r['val_nme']):>8} {pct(r['nme_ft_last']):>8} {r['nme_rise_pct']:>7.2f} {ctl:>7} "
            f"{ms(r['ort_ms']):>7} "
            f"{r['ort_cut_pct']:>6.1f} {ms(r.get('tflite_ms')):>7} {tfl_cut:>6}"
        )
    print(
        f"\nNME: {context['normalization']} % on {context['val_faces']} validation faces of the parent's split "
        "(FT best = best fine-tuning epoch, chosen on these faces; rise % is FT best vs the parent; vs ctl: vs the "
        "parent fine-tuned the same way with no head removed)."
    )
    print(
        f"Latency: 1 thread, median of {context['repeats']} runs timed round-robin across variants, {context['cpu']}, "
        f"torch {context['torch']}; via " + "; ".join(f"{k}: {v}" for k, v in context["latency_via"].items())
    )


STRUCTURES: dict[str, dict[str, Any]] = {
    "control": {},
    "heads_50": {"heads": 0.5},
    "mlp_50": {"mlp": 0.5},
    "blocks_3": {"blocks": {"ref2": 1, "ref3": 1, "level2": 1}},
    "blocks_3+mlp_30": {"blocks": {"ref2": 1, "ref3": 1, "level2": 1}, "mlp": 0.3},
}


def _structure(model: Any, spec: dict[str, Any]) -> Any:
    from edgekp.compress.channels import remove_blocks, remove_mlp_channels
    from edgekp.compress.heads import remove_heads

    if "blocks" in spec:
        model = remove_blocks(model, spec["blocks"])
    if "mlp" in spec:
        model = remove_mlp_channels(model, spec["mlp"])
    if "heads" in spec:  # magnitude of each head's q/k/v rows, half of every block's heads
        removal = {}
        for name, attn in model.attention_modules():
            norms = torch.stack([attn.qkv.weight[attn.head_slices(h)[0]].norm() for h in range(attn.num_heads)])
            removal[name] = sorted(int(i) for i in torch.argsort(norms)[: int(attn.num_heads * spec["heads"])])
        model = remove_heads(model, removal)
    return model.eval()


def structure_sweep(args: argparse.Namespace) -> int:
    """Latency-cutting structures: each removal applied to the parent, exported to TFLite fp32 and int8
    (PTQ, synthetic calibration), timed round robin in one process against the unpruned control."""
    from edgekp.bench.int8_speedup import export_variant, synthetic_calibration, time_round_robin
    from edgekp.lineage.checkpoints import load_run_model
    from edgekp.measure.host import host_info
    from edgekp.models.cost import count_flops, count_parameters

    torch.set_num_threads(1)
    parent = load_run_model(args.from_run).model.eval()
    calib = synthetic_calibration(16, int(parent.config.input_size))
    work = Path(args.out or tempfile.mkdtemp(prefix="structures_"))
    models = {name: _structure(parent, spec) for name, spec in STRUCTURES.items()}
    arts = [a for name, m in models.items() for a in export_variant(name, m, calib, work, ("tflite",))]
    timings = time_round_robin(arts, calib[:1], rounds=9)
    host = host_info(threads=1)
    print(
        f"{'structure':<17} {'heads':>5} {'params':>9} {'MFLOPs':>7} {'TFL fp32 ms':>11} {'cut %':>6} "
        f"{'TFL int8 ms':>11} {'cut %':>6}"
    )
    rows = []
    for name, m in models.items():
        row = {
            "structure": name,
            "heads": sum(a.num_heads for _, a in m.attention_modules()),
            "params": count_parameters(m),
            "flops": count_flops(m),
        }
        for prec in ("fp32", "int8"):
            rounds = timings[(name, "tflite", prec)].rounds
            control = timings[("control", "tflite", prec)].rounds
            row[f"{prec}_ms"] = statistics.median(rounds)
            row[f"{prec}_cut_pct"] = 100 * (1 - statistics.median(r / c for r, c in zip(rounds, control, strict=True)))
        rows.append(row)
        print(
            f"{name:<17} {row['heads']:>5} {row['params']:>9,} {row['flops'] / 1e6:>7.1f} {row['fp32_ms']:>11.3f} "
            f"{row['fp32_cut_pct']:>6.1f} {row['int8_ms']:>11.3f} {row['int8_cut_pct']:>6.1f}"
        )
    print(
        f"1 thread, TFLite (LiteRT) per-round medians of 30 calls, 9 rounds round robin; cut % = median within-round "
        f"saving vs control; no fine-tuning (latency does not depend on it). Host: {host['cpu']}, ISA "
        f"{' '.join(host['isa'])}"
    )
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"host": host, "rows": rows}, indent=2, default=str))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.structures:
        return structure_sweep(args)
    rows, context = run_sweep(args)
    print_table(rows, context)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"context": context, "rows": rows}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
