"""Test-time flip averaging as an accuracy lever (issue 26): each model scored on the validation face sets
with one pass and with flip averaging (the crop and its mirror image, averaged), by |yaw| bin, and the
cost of each in ms per face (PyTorch, 1 thread, timed in alternating turns in one process, medians).

    python -m benchmarks.flip_tta --data-root ../shared/data [--sizes t,s,b] [--model runs/RUN ...] [--json F]

Flip averaging doubles the inference cost, so edgekp reports it apart (``edgekp eval --flip``); the
shipped exports stay single-pass. Face sets and normalizations: ``edgekp.bench.face_sets``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from edgekp.bench.face_sets import YAW_BINS, score_face_sets
from edgekp.bench.flip_average import flip_averaged
from edgekp.bench.predictor import load_predictor
from edgekp.lineage.shipped import SHIPPED_SIZES
from edgekp.measure.host import host_info
from edgekp.measure.timing import round_robin

SETS = ("300w_holdout", "lfpw_train", "merlrav_test")


def cost_ms(predictor: Any, rounds: int = 5) -> dict[str, float]:
    """Median ms per face of one pass and of flip averaging, timed round robin in one process."""
    face = np.random.default_rng(0).random((1, 3, predictor.input_size, predictor.input_size), dtype=np.float32)
    single, flipped = predictor.runner, flip_averaged(predictor).runner
    turns = round_robin(
        {"single": lambda: single(face), "flip": lambda: flipped(face)},
        rounds,
        runs_per_turn=20,
        seconds_per_turn=0.3,
        warmup=3,
    )
    return {k: float(np.median(t.pooled)) * 1000.0 for k, t in turns.items()}


def model_rows(source: str, data_root: Path, threads: int, holdout_of: str) -> dict[str, Any]:
    predictor = load_predictor(source, threads=threads)
    return {
        "model": source,
        "single": score_face_sets(predictor, holdout_of, data_root, SETS),
        "flip": score_face_sets(flip_averaged(predictor), holdout_of, data_root, SETS),
        "ms": cost_ms(predictor),
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def render(rows: list[dict[str, Any]]) -> str:
    names = list(rows[0]["single"])
    norms = {n: rows[0]["single"][n]["norm"].replace("_", "-") for n in names}
    head = "| model | pass | ms/face |" + "".join(f" {n} ({norms[n]}) all / 0-30 / 30-60 / 60-90 |" for n in names)
    lines = [head, "|---|---|---|" + "---|" * len(names)]
    for r in rows:
        for mode in ("single", "flip"):
            cells = [
                " / ".join([_pct(s["nme"])] + [_pct(s["by_yaw"][b]["nme"]) for b in YAW_BINS]) for s in r[mode].values()
            ]
            lines.append(f"| {r['model']} | {mode} | {r['ms'][mode]:.2f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", type=Path, default=Path("../shared/data"))
    parser.add_argument("--sizes", default=",".join(SHIPPED_SIZES), help="shipped sizes (default: t,s,b); '' for none")
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        help="also a run directory (scored on its own run's held-out 300W faces)",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    sources = [(f"shipped:{s}", f"shipped:{s}") for s in args.sizes.split(",") if s]
    sources += [(m, m) for m in args.model]
    rows = [model_rows(src, args.data_root, args.threads, holdout_of) for src, holdout_of in sources]
    host = host_info(args.threads)
    print(f"host: {host.get('cpu')} ({', '.join(host.get('isa') or [])}), {args.threads} thread(s)")
    print("NME in %; 300W sets inter-ocular, MERL-RAV box-normalized (sqrt(w*h)); by |yaw| bin in degrees")
    print(render(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"host": host, "rows": rows}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
