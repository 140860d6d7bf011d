"""Params, FLOPs/MACs and torch (and onnxruntime) CPU latency of every registered model variant.

    python -m benchmarks.model_cost [--size 128] [--runs 100] [--json]

FLOPs are counted by torch.utils.flop_counter.FlopCounterMode: a multiply-add counts as 2 FLOPs and
only matmul/conv-like ops are counted (MACs = FLOPs / 2). Latency: torch eager, 1 thread, batch 1,
warm-up then ``--runs`` timed calls (edgekp.measure.timing); median and p90. onnxruntime: the model
exported by edgekp's ONNX export (legacy exporter), run by its 1-thread runner. Set
OMP_WAIT_POLICY=PASSIVE on a shared host (this script does it before torch is imported).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import warnings
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch

from edgekp.measure.host import host_info
from edgekp.measure.timing import LatencySettings, time_call
from edgekp.models import count_flops, count_parameters, create_model, list_models
from edgekp.models.cost import torch_latency


def ort_latency(model: torch.nn.Module, size: int, runs: int, warmup: int) -> dict[str, float | int] | None:
    """The same timing through onnxruntime (1 thread), when edgekp's ONNX export and onnxruntime are installed."""
    try:
        from edgekp.export.onnx import export_onnx
        from edgekp.export.onnx_runtime import OrtRunner
    except ImportError:
        return None
    x = torch.rand(1, 3, size, size).numpy()
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        path = Path(tmp) / "model.onnx"
        export_onnx(model, size, path, dynamic_batch=False, exporter="legacy")
        runner = OrtRunner(path, 1)
    return time_call(lambda: runner(x), LatencySettings.fixed(runs, warmup))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=None, help="input size (default: each variant's own)")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--pattern", default="*")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    host = host_info(threads=1)
    rows = []
    for name in list_models(args.pattern):
        model = create_model(name, **({"input_size": args.size} if args.size else {})).eval()
        size = model.config.input_size
        flops = count_flops(model, size)
        eager = torch_latency(model, size, args.runs, args.warmup, threads=1)
        ort = ort_latency(model, size, args.runs, args.warmup)
        c = model.config
        rows.append(
            {
                "model": name,
                "input": size,
                "params": count_parameters(model),
                "flops": flops,
                "macs": flops // 2,
                "torch_ms_p50": round(eager["p50_ms"], 3),
                "torch_ms_p90": round(eager["p90_ms"], 3),
                "ort_ms_p50": None if ort is None else round(ort["p50_ms"], 3),
                "ort_ms_p90": None if ort is None else round(ort["p90_ms"], 3),
                "dims": [c.ref1.dim, c.ref2.dim, c.ref3.dim, c.level2.dim],
                "heads": [list(c.ref1.heads), list(c.ref2.heads), list(c.ref3.heads), list(c.level2.heads)],
                "grids": list(c.grids.values()),
            }
        )
    if args.json:
        print(json.dumps({"host": host, "threads": 1, "rows": rows}, indent=2))
        return
    print(
        f"host: {host.get('cpu')} ({', '.join(host.get('isa', []))}); torch {torch.__version__}; 1 thread, batch 1, "
        f"{args.runs} runs after {args.warmup} warm-up; FLOPs = 2 x MACs (FlopCounterMode)"
    )
    print(
        f"{'model':<14}{'input':>6}{'params':>11}{'MFLOPs':>9}{'MMACs':>8}{'p50 ms':>9}{'p90 ms':>9}"
        f"{'ORT p50':>9}{'ORT p90':>9}  dims / heads / grids"
    )
    for r in rows:
        print(
            f"{r['model']:<14}{r['input']:>6}{r['params']:>11,}{r['flops'] / 1e6:>9.1f}{r['macs'] / 1e6:>8.1f}"
            f"{r['torch_ms_p50']:>9.2f}{r['torch_ms_p90']:>9.2f}"
            f"{_ms(r['ort_ms_p50']):>9}{_ms(r['ort_ms_p90']):>9}  {r['dims']} / {r['heads']} / {r['grids']}"
        )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


if __name__ == "__main__":
    main()
