"""One row per target x precision x route: status, size, conversion time, parity, 1-thread latency.

    python benchmarks/export_matrix.py --from runs/RUN [\\
        [--calib calibration/300w_train_128.yaml --data-root ../shared/data]
    python benchmarks/export_matrix.py            # a freshly initialized kp_hvit_s (says so)

Latency: batch 1, one thread, median and p90 of --runs calls after --warmup calls, time.perf_counter.
Status follows ultralytics' benchmark: passed / exported but parity failed / export failed / skipped.
The host's CPU and ISA flags are printed: int8 on an AVX2 CPU without VNNI is not faster than fp32.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

# Fixed threads before any runtime loads; passive OpenMP waiting so an idle pool does not spin on a shared core.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from edgekp.errors import EdgeKPError
from edgekp.host import host_info


def latency(fn, x: np.ndarray, runs: int, warmup: int) -> tuple[float, float]:
    for _ in range(warmup):
        fn(x)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn(x)
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.median(times)), float(np.percentile(times, 90))


def fresh_run(out: Path, name: str, size: int) -> Path:
    import torch

    from edgekp.artifacts import RunDir
    from edgekp.models import create_model
    from edgekp.models.io import save_model

    torch.manual_seed(0)
    model = create_model(name, input_size=size)
    run = RunDir.create(
        out,
        "train",
        recipe={
            "model": {"name": name, "input_size": size, "num_points": model.num_points},
            "note": "freshly initialized for benchmarks/export_matrix.py, not trained",
        },
    )
    save_model(out / "model.pt", model, {"scheme": "ibug68", "untrained": True})
    run.finish("ok")
    return out


def main(argv: list[str] | None = None) -> int:
    from edgekp.config.export import ExportRecipe
    from edgekp.config.loader import default_recipe
    from edgekp.export import get_target, list_targets
    from edgekp.export.pipeline import ExportRequest, export_one

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="from_run", help="train/prune/qat run (default: a fresh kp_hvit_s)")
    parser.add_argument("--model", default="kp_hvit_s", help="variant for the fresh model")
    parser.add_argument("--size", type=int, default=128, help="input size for the fresh model")
    parser.add_argument("--calib", default="calibration/synthetic_64.yaml")
    parser.add_argument("--data-root")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--only", action="append", default=[], help="limit to target[-precision[-route]] (repeatable)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="export recipe override")
    parser.add_argument("--out", help="where to write the exports (default: a temp folder)")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)

    host = host_info(threads=1)
    print(
        f"host: {host['cpu']} | ISA: {' '.join(host['isa']) or '-'} | VNNI: {host['has_vnni']} | cores: "
        f"{host['cores']} | threads: 1"
    )
    work = Path(args.out or tempfile.mkdtemp(prefix="edgekp-matrix-"))
    if args.from_run:
        run = Path(args.from_run)
        print(f"model: {run}")
    else:
        run = fresh_run(work / "fresh", args.model, args.size)
        print(
            f"model: a freshly initialized {args.model} at {args.size} px (no run given): latency is real, NME is not"
        )
    recipe = default_recipe(ExportRecipe, args.overrides)
    x = np.random.default_rng(0).random((1, 3, 1, 1), dtype=np.float32)

    rows = []
    import torch

    from edgekp.export.pipeline import open_parent

    torch.set_num_threads(1)
    model = open_parent(run).loaded.model
    size = model.config.input_size
    x = np.random.default_rng(0).random((1, 3, size, size), dtype=np.float32)
    tx = torch.from_numpy(x)
    with torch.inference_mode():
        med, p90 = latency(lambda _: model(tx), x, args.runs, args.warmup)
    rows.append(
        {
            "target": "torch",
            "precision": "fp32",
            "route": "eager",
            "status": "reference",
            "size_kb": None,
            "convert_s": None,
            "max_abs": 0.0,
            "nme_delta": 0.0,
            "ms_median": med,
            "ms_p90": p90,
        }
    )
    for name in list_targets():
        target = get_target(name)
        for route in target.capabilities.routes:
            for precision in route.precisions:
                key = f"{name}-{precision}-{route.name}"
                if args.only and not any(key.startswith(o) for o in args.only):
                    continue
                row = {
                    "target": name,
                    "precision": precision,
                    "route": route.name,
                    "status": "",
                    "size_kb": None,
                    "convert_s": None,
                    "max_abs": None,
                    "nme_delta": None,
                    "ms_median": None,
                    "ms_p90": None,
                }
                try:
                    target.check_available(route.name)
                    r = export_one(
                        ExportRequest(name, precision, route.name),
                        from_run=run,
                        recipe=recipe,
                        out=work / key,
                        calib=args.calib,
                        data_root=args.data_root,
                    )
                    p = r["parity"]
                    row.update(
                        status="passed" + (" (estimated)" if p["estimated"] else ""),
                        size_kb=r["size_bytes"] / 1024,
                        convert_s=r["convert_seconds"],
                        max_abs=p["max_abs"],
                        nme_delta=p["nme_delta_rel"],
                    )
                    if target.runs_here():
                        runner = target.load_runner(Path(r["artifact"]), threads=1)
                        row["ms_median"], row["ms_p90"] = latency(runner, x, args.runs, args.warmup)
                except EdgeKPError as exc:
                    failed = work / key / "failed" / "parity_report.json"
                    row["status"] = (
                        "parity failed" if failed.is_file() and "conversion failed" not in str(exc) else "export failed"
                    )
                    if failed.is_file():
                        report = json.loads(failed.read_text())
                        parity = report.get("parity", report)
                        row.update(max_abs=parity.get("max_abs"), nme_delta=parity.get("nme_delta_rel"))
                    row["error"] = str(exc)[:300]
                rows.append(row)
                print(_fmt(row), flush=True)
    print()
    print(_table(rows))
    if any(r["target"] == "coreml" for r in rows) and sys.platform != "darwin":
        print(
            "\nCoreML accuracy and latency need a macOS host: rows above are structural checks and torch-fp16 "
            "estimates."
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"host": host, "run": str(run), "rows": rows}, indent=2, default=str))
    return 0


def _num(v: float | None, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def _fmt(r: dict) -> str:
    return (
        f"{r['target']:<9} {r['precision']:<5} {r['route']:<7} {r['status']:<22} {_num(r['size_kb'], '9.0f')} "
        f"{_num(r['convert_s'], '8.1f')} {_num(r['max_abs'], '10.2e')} {_num(r['nme_delta'], '+9.2%')} "
        f"{_num(r['ms_median'], '7.2f')} {_num(r['ms_p90'], '7.2f')}"
    )


def _table(rows: list[dict]) -> str:
    head = (
        f"{'target':<9} {'prec':<5} {'route':<7} {'status':<22} {'size KB':>9} {'conv s':>8} {'max abs':>10} "
        f"{'NME d':>9} {'ms med':>7} {'ms p90':>7}"
    )
    return "\n".join([head, "-" * len(head), *(_fmt(r) for r in rows)])


if __name__ == "__main__":
    raise SystemExit(main())
