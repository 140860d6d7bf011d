"""The shipped family's model card: size, cost and accuracy of shipped:t, shipped:s and shipped:b.

    python benchmarks/model_card.py --data-root ../shared/data [--sizes t,s,b] [--json runs/model_card.json]

Per size: parameters, MFLOPs at the model's input size (a multiply-add is 2 FLOPs), weight bytes at
fp32 and int8, and NME on each validation face set, overall and per |yaw| bin, with the normalization
named. The face sets and their normalizations: ``edgekp.bench.face_sets``.

Latency is not measured here: ``benchmarks/int8_speed.py --from shipped:X --mediapipe`` times TFLite
fp32/int8 against MediaPipe in one bench.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from edgekp.bench.face_sets import YAW_BINS, score_face_sets
from edgekp.bench.predictor import load_predictor
from edgekp.host import host_info
from edgekp.models import count_flops, count_parameters
from edgekp.shipped import SHIPPED_SIZES, shipped_model_path


def card_row(size: str, data_root: Path, threads: int) -> dict[str, Any]:
    predictor = load_predictor(f"shipped:{size}", threads=threads)
    model = predictor.runner.model  # type: ignore[attr-defined]
    params = count_parameters(model)
    row: dict[str, Any] = {
        "size": size,
        "name": SHIPPED_SIZES[size],
        "params": params,
        "mflops": count_flops(model, model.input_size) / 1e6,
        "input_size": model.input_size,
        "weights_mb": {"fp32": 4 * params / 1e6, "int8": params / 1e6},
        "file_mb": shipped_model_path(size).stat().st_size / 1e6,
    }
    row["sets"] = score_face_sets(predictor, f"shipped:{size}", data_root)
    return row


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def render(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| model | params | MFLOPs | weights fp32 / int8 (MB) |"
        + "".join(f" {name} ({rows[0]['sets'][name]['norm']}) |" for name in rows[0]["sets"]),
        "|---|---|---|---|" + "---|" * len(rows[0]["sets"]),
    ]
    for r in rows:
        cells = [
            f"shipped:{r['size']} ({r['name']})",
            f"{r['params'] / 1e6:.2f} M",
            f"{r['mflops']:.0f}",
            f"{r['weights_mb']['fp32']:.1f} / {r['weights_mb']['int8']:.1f}",
        ]
        cells += [f"{_pct(s['nme'])} %" for s in r["sets"].values()]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "NME (%) per |yaw| bin (0-30 / 30-60 / 60-90 deg; n per bin in the JSON):", ""]
    lines += ["| model |" + "".join(f" {name} |" for name in rows[0]["sets"]), "|---|" + "---|" * len(rows[0]["sets"])]
    for r in rows:
        cells = [" / ".join(_pct(s["by_yaw"][b]["nme"]) for b in YAW_BINS) for s in r["sets"].values()]
        lines.append(f"| shipped:{r['size']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", type=Path, default=Path("../shared/data"))
    parser.add_argument(
        "--sizes", default=",".join(SHIPPED_SIZES), help="comma-separated shipped sizes (default: t,s,b)"
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    rows = [card_row(size, args.data_root, args.threads) for size in args.sizes.split(",")]
    host = host_info(args.threads)
    print(f"host: {host.get('cpu')} ({', '.join(host.get('isa') or [])}), {args.threads} thread(s)")
    print(render(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"host": host, "rows": rows}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
