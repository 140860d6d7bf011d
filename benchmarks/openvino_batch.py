"""What the OpenVINO IR's batch dimension costs: dynamic (any batch) against static 1, fp32 and int8.

For a trained run (or the shipped model) it converts the model to OpenVINO fp32 and PTQ int8 twice,
with ``openvino.batch`` None (a dynamic first dimension, what edgekp exported until session 8) and 1
(the default now), and times the four IRs round robin in one process (1 thread, per-round medians;
every ratio is taken within a round against the dynamic fp32 IR). The host's ISA is printed with the
table. Latency does not depend on the calibration, so the download-free synthetic faces are used.

    python -m benchmarks.openvino_batch --from training/kp_hvit_b_q_merlrav --out runs/openvino_batch_bq
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # busy cores: OpenMP spin-waits distort timings

import numpy as np

FORMS = {"dynamic batch": None, "static batch 1": 1}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--from", dest="from_run", default="shipped", help="trained run, snapshot or 'shipped'")
    p.add_argument("--out", default="runs/openvino_batch", help="artifact folder (reused on a rerun)")
    p.add_argument("--rounds", type=int, default=11)
    p.add_argument("--calls", type=int, default=40)
    p.add_argument("--json", default=None, help="also write the table here")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from edgekp.checkpoints import load_run_model
    from edgekp.compress.int8_screen import Artifact, synthetic_calibration, time_round_robin
    from edgekp.export.base import ExportSpec
    from edgekp.export.openvino import OpenVINOTarget
    from edgekp.host import host_info
    from edgekp.sources import resolve_source

    args = parse_args(argv)
    loaded = load_run_model(resolve_source(args.from_run).run_dir)
    model = loaded.model.eval().inference_form()
    size, points = int(model.config.input_size), int(model.config.num_points)
    calib = synthetic_calibration(64, size)
    out = Path(args.out)
    target, arts = OpenVINOTarget(), []
    for form, batch in FORMS.items():
        for precision in ("fp32", "int8"):
            where = out / f"{form.replace(' ', '_')}-{precision}"
            path = where / "model.xml"
            if not path.exists():  # a rerun into the same --out re-times, it does not re-convert
                spec = ExportSpec(size, points, precision, "torch", options={"batch": batch, "overflow_fix": "auto"})  # type: ignore[arg-type]
                path = target.convert(model, spec, calib if precision == "int8" else None, where)
            arts.append(Artifact(form, "openvino", precision, path, 0.0))
    image = calib[:1]
    timings = time_round_robin(arts, image, rounds=args.rounds, calls=args.calls)
    base = timings[("dynamic batch", "openvino", "fp32")].rounds
    host = host_info(threads=1)
    rows = []
    print(f"{'IR batch':<16} {'precision':<9} {'ms':>7} {'vs dynamic fp32':>16} {'int8 / fp32':>12}")
    for (form, _, precision), t in timings.items():
        ratio = statistics.median(a / b for a, b in zip(t.rounds, base, strict=True))
        fp = timings[(form, "openvino", "fp32")].rounds
        own = statistics.median(a / b for a, b in zip(t.rounds, fp, strict=True)) if precision == "int8" else None
        rows.append(
            {"batch": form, "precision": precision, "ms": t.ms, "vs_dynamic_fp32": ratio, "int8_over_fp32": own}
        )
        print(f"{form:<16} {precision:<9} {t.ms:>7.3f} {ratio:>16.2f} {'' if own is None else f'{own:.2f}':>12}")
    same = max(
        float(np.abs(target.load_runner(arts[i].path)(image) - target.load_runner(arts[i + 2].path)(image)).max())
        for i in range(2)
    )
    print(f"dynamic vs static IR, same precision: max |difference| {same:.2e}")
    print(
        f"{args.from_run}: 1 thread, OpenVINO CPU plugin (f32 hint), {args.rounds} rounds of {args.calls} calls, "
        f"round robin; host {host['cpu']}, ISA {' '.join(host['isa'])}, load {os.getloadavg()[0]:.1f}"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps({"host": host, "run": args.from_run, "rows": rows}, indent=2, default=str)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
