"""Does int8 buy speed, by model width and by x86 ISA? int8/fp32 latency of the quantization-friendly
variants t_qf, s_qf and b_q (same blocks, widths 32-128, 48-192 and 64-256 channels) per runtime.

Each row comes from ``benchmarks/int8_speed.py --screen`` (untrained weights: dense kernels' latency does
not depend on them; PTQ on the synthetic calibration faces; 1 thread, round robin, within-round
medians). OpenVINO is timed again with its oneDNN kernels capped by ``ONEDNN_MAX_CPU_ISA`` (AVX512_CORE_VNNI:
no AMX; AVX2: an AVX2-only host's kernels, without VNNI). LiteRT's XNNPACK has no such cap, so its
AVX2-only figure needs an AVX2-only host.

    python benchmarks/int8_width.py --out runs/int8_width

Measured (Intel Xeon with AVX-512 + VNNI + AMX, one training job on the other core): TFLite int8/fp32
t_qf 0.87, s_qf 0.69, b_q 0.43; OpenVINO 1.13 / 1.02 / 0.78 (see the README for the latest table).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CAPS = (None, "AVX512_CORE_VNNI", "AVX2")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--variants", default="t_qf,s_qf,b_q", help="int8_speed.py screen variants")
    p.add_argument("--out", default="runs/int8_width", help="artifact folder (reused: a rerun only re-times)")
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--caps", default="none,AVX512_CORE_VNNI,AVX2", help="OpenVINO ISA caps to time (none: the host's)")
    p.add_argument("--json", default=None)
    return p.parse_args(argv)


def _screen(args: argparse.Namespace, runtimes: str, cap: str | None) -> dict:
    env = dict(os.environ)
    env.pop("ONEDNN_MAX_CPU_ISA", None)
    if cap:
        env["ONEDNN_MAX_CPU_ISA"] = cap
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "t.json"
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.int8_speed",
            "--screen",
            args.variants,
            "--runtimes",
            runtimes,
            "--rounds",
            str(args.rounds),
            "--out",
            args.out,
            "--json",
            str(table),
        ]
        # from the checkout root, where benchmarks/ is importable
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, cwd=HERE.parent)
        return json.loads(table.read_text())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    caps = [None if c.strip().lower() == "none" else c.strip() for c in args.caps.split(",") if c.strip()]
    results = []
    for cap in caps:
        runtimes = "tflite,openvino" if cap is None else "openvino"
        table = _screen(args, runtimes, cap)
        for row in table["rows"]:
            results.append({**row, "isa_cap": cap or "host"})
        host = table["host"]
    print(f"host: {host['cpu']}; ISA {' '.join(host['isa'])}; VNNI {host['has_vnni']}; 1 thread, untrained weights")
    print(f"{'variant':<8} {'runtime':<9} {'kernels':<17} {'fp32 ms':>8} {'int8 ms':>8} {'int8/fp32':>9}")
    for row in results:
        print(
            f"{row['variant']:<8} {row['runtime']:<9} {row['isa_cap']:<17} {row['fp32_ms']:>8.3f} "
            f"{row['int8_ms']:>8.3f} "
            f"{row['ratio']:>9.2f}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"host": host, "rows": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
