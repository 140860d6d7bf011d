"""The shipped family's model card: size, cost and accuracy of shipped:t, shipped:s and shipped:b.

    python benchmarks/model_card.py --data-root ../shared/data [--sizes t,s,b] [--json runs/model_card.json]

Per size: parameters, MFLOPs at the model's input size (a multiply-add is 2 FLOPs), weight bytes at
fp32 and int8, and NME on each validation face set, overall and per |yaw| bin, with the normalization
named. Crops come from the labelled landmark box (the validation protocol of training), not from a
detector. The face sets:

- ``300w_holdout``: the HELEN/AFW photos every shipped model's training held out (by photo), inter-ocular;
- ``lfpw_train``: 300W LFPW training faces, which no shipped model trained on: near-frontal, inter-ocular;
- ``merlrav_test``: MERL-RAV test (43 % large pose), box-normalized (sqrt(w*h)), the set that chose
  each checkpoint;
- ``ytf_test``: YouTube-Faces frames of people seen in training (a sanity set, noisy labels), inter-ocular.

Latency is not measured here: ``benchmarks/int8_speed.py --from shipped:X --mediapipe`` times TFLite
fp32/int8 against MediaPipe in one bench.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from edgekp.bench.accuracy import evaluate_dataset
from edgekp.bench.holdout import holdout_sources
from edgekp.bench.predictor import load_predictor
from edgekp.host import host_info
from edgekp.lineage.shipped import SHIPPED_SIZES, shipped_model_path
from edgekp.models import count_flops, count_parameters

# name -> (folders under the data root scored as one set, normalization, only the held-out faces)
FACE_SETS: dict[str, tuple[tuple[str, ...], str, bool]] = {
    "300w_holdout": (("300w/helen_train", "300w/afw"), "inter_ocular", True),
    "lfpw_train": (("300w/lfpw_train",), "inter_ocular", False),
    "merlrav_test": (("merlrav/test",), "box", False),
    "ytf_test": (("ytf/test",), "inter_ocular", False),
}
BINS = ("0-30", "30-60", "60-90")


def _pooled(parts: list[dict[str, Any]], norm: str) -> dict[str, Any]:
    """Face-weighted NME over several folders scored apart (each result's mean times its face count)."""

    def mean(pairs: list[tuple[float | None, int]]) -> float | None:
        pairs = [(v, n) for v, n in pairs if v is not None and v == v and n]
        total = sum(n for _, n in pairs)
        return sum(v * n for v, n in pairs) / total if total else None

    out: dict[str, Any] = {
        "n": sum(p["n"] for p in parts),
        "nme": mean([(p["nme"], p["n"]) for p in parts]),
        "by_yaw": {},
    }
    for name in BINS:
        cells = [
            (p["by_yaw"][norm].get(name, {}).get("nme"), p["by_yaw"][norm].get(name, {}).get("n", 0)) for p in parts
        ]
        out["by_yaw"][name] = {"nme": mean(cells), "n": sum(n for _, n in cells)}
    return out


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
        "sets": {},
    }
    for name, (folders, norm, holdout) in FACE_SETS.items():
        parts = []
        for folder in folders:
            path = data_root / folder
            if not path.exists():
                continue
            only = holdout_sources(f"shipped:{size}", str(path)) if holdout else None
            parts.append(evaluate_dataset(predictor, path, norm=norm, only_sources=only))
        if parts:
            row["sets"][name] = {"norm": norm, **_pooled(parts, norm)}
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
        cells = [" / ".join(_pct(s["by_yaw"][b]["nme"]) for b in BINS) for s in r["sets"].values()]
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
