"""Which modules to keep in float in a TFLite int8 model, and what folding the input normalization buys.

For a trained run (default: the committed kp_hvit_t_q snapshot) it exports TFLite fp32 and PTQ int8
with several float scopes, each for the model as trained and with its input normalization folded
into the first convolution (models/reparam.py, no fine-tuning: latency does not depend on it), and
times them round robin in one process (1 thread, per-round medians; ratios within a round against the
unfolded fp32 model). The host's ISA is printed with the table.

    python -m benchmarks.tflite_int8_scopes --from training/kp_hvit_t_q_merlrav --out runs/tflite_int8_scopes

Measured on kp_hvit_t_q (Intel Xeon, AVX-512 + VNNI, load about 2.5): int8 with the head float 1.10x
fp32; + the first convolution float 1.20x (the int8 normalization MUL then feeds a float conv);
folded, head float 0.93x; folded, head and first convolution float 0.81x. Making more op kinds int8
(tflite.int8_ops, folded form) did not help: int8 matmuls 1.97x (TFLite's own int8 BATCH_MATMUL
kernel, not XNNPACK's), int8 adds 0.86x, int8 relu/gelu/mean/sigmoid/mul 1.63x.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # busy cores: OpenMP spin-waits distort timings

import numpy as np
import torch

DEFAULT_SCOPE = ("normalize", "stem.0", "head")
SCOPES = {"int8 (all)": (), "int8, head float": ("head",), "int8, head + first conv float": DEFAULT_SCOPE}
# tflite.int8_ops on top of the default scope, folded form only: op kinds LiteRT leaves in float.
INT8_OPS = {
    "default + int8 matmuls": ("matmul",),
    "default + int8 adds": ("add",),
    "default + int8 relu/gelu/mean/...": ("relu", "gelu", "mean", "sigmoid", "mul"),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--from", dest="from_run", default="training/kp_hvit_t_q_merlrav", help="trained run or model file")
    p.add_argument("--out", default="runs/tflite_int8_scopes", help="artifact folder (reused on a rerun)")
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--calls", type=int, default=40)
    p.add_argument("--json", default=None, help="also write the table here")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from ai_edge_litert.interpreter import Interpreter

    from edgekp.checkpoints import load_run_model
    from edgekp.compress.int8_screen import synthetic_calibration
    from edgekp.export.tflite import convert_litert
    from edgekp.host import host_info
    from edgekp.models.reparam import fold_input_normalization

    args = parse_args(argv)
    torch.set_num_threads(1)
    trained = load_run_model(args.from_run).model.eval()
    models = {"as trained": trained, "folded": fold_input_normalization(trained).eval()}
    size = int(trained.config.input_size)
    calib = synthetic_calibration(16, size)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    interpreters = {}
    for form, model in models.items():
        plans = {label: (scope, ()) for label, scope in {"fp32": None, **SCOPES}.items()}
        if form == "folded":
            plans |= {label: (DEFAULT_SCOPE, ops) for label, ops in INT8_OPS.items()}
        for label, (scope, ops) in plans.items():
            stem = label.replace(" ", "_").replace(",", "").replace("+", "and").replace("/", "_").replace(".", "")
            path = out / f"{form.replace(' ', '_')}-{stem}.tflite"
            if not path.exists():
                convert_litert(
                    model.inference_form(),
                    size,
                    "fp32" if scope is None else "int8",
                    "static",
                    None if scope is None else calib,
                    path,
                    scope or (),
                    ops,
                )
            it = Interpreter(model_path=str(path), num_threads=1)
            it.allocate_tensors()
            inp = it.get_input_details()[0]
            it.set_tensor(inp["index"], np.random.default_rng(0).random(inp["shape"]).astype(inp["dtype"]))
            interpreters[(form, label)] = it
    times: dict[tuple[str, str], list[float]] = {k: [] for k in interpreters}
    for _ in range(args.rounds):
        for key, it in interpreters.items():
            for _ in range(5):
                it.invoke()
            calls = []
            for _ in range(args.calls):
                t0 = time.perf_counter()
                it.invoke()
                calls.append(time.perf_counter() - t0)
            times[key].append(1e3 * statistics.median(calls))
    base = times[("as trained", "fp32")]
    host = host_info(threads=1)
    rows = []
    print(f"{'input normalization':<20} {'precision / float scope':<32} {'ms':>7} {'vs fp32 as trained':>19}")
    for (form, label), t in times.items():
        ratio = statistics.median(a / b for a, b in zip(t, base, strict=True))
        rows.append({"input_norm": form, "variant": label, "ms": statistics.median(t), "ratio": ratio})
        print(f"{form:<20} {label:<32} {statistics.median(t):>7.3f} {ratio:>19.2f}")
    print(
        f"1 thread, LiteRT (XNNPACK), {args.rounds} rounds of {args.calls} calls, round robin; host {host['cpu']}, "
        f"ISA {' '.join(host['isa'])}, load {os.getloadavg()[0]:.1f}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"host": host, "rows": rows}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
