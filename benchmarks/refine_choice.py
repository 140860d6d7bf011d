"""How many refinement passes (the contract's crop.refine) to make, per box source.

Usage: python benchmarks/refine_choice.py --data ../shared/data [--model M] [--max-faces N] [--json out.json]

For each face of the validation sets, the landmarks after refine = 0, 1, 2 (and 3) re-crops, with the
same calls `edgekp predict` makes (edgekp.inference.refine.landmarks_per_pass), from three box sources:
- true box: the min/max box of the labelled landmarks;
- previous frame: the true landmarks moved as a face moves between frames (shift and scale up to 5 % of
  the box, per-point noise 1 %, seeded), then their box: what a tracker re-crops from;
- BlazeFace: the detector box that overlaps the true box best (IoU >= 0.3), only when BlazeFace is
  already cached (never downloaded here); faces it misses are left out and counted.
Validation sets: the model's 300W held-out photos (NME inter-ocular) and MERL-RAV test (NME normalized
by the landmark box sqrt(w*h), split by |yaw| bin from AFLW's yaw label). One thread, the torch model.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

REFINES = (0, 1, 2, 3)
SOURCES = ("true box", "previous frame", "blazeface")


def faces_of(data: Path, model: str | None, max_faces: int | None) -> list[tuple[str, str, list[Any]]]:
    """(set name, normalization, records): the 300W holdout photos and MERL-RAV test."""
    from edgekp.bench.holdout import holdout_of_run
    from edgekp.data.readers import read_dataset

    out = []
    held = holdout_of_run(model)
    w300 = []
    for key, sources in sorted(held.items()):
        if key.startswith("300w"):
            keep = set(sources)
            w300 += [r for r in read_dataset(data / key).records if r.source in keep]
    out.append(("300W holdout", "inter_ocular", sorted(w300, key=lambda r: r.source)[:max_faces]))
    merl = sorted(read_dataset(data / "merlrav" / "test").records, key=lambda r: r.source)
    if max_faces is not None:  # an even spread over the sorted names, not the first N
        merl = merl[:: max(1, len(merl) // max_faces)][:max_faces]
    out.append(("MERL-RAV test", "box", merl))
    return out


def blazeface(cache: str | None) -> Any:
    """BlazeFace when its files are already cached; None (and why) otherwise: nothing is downloaded."""
    from edgekp.errors import EdgeKPError
    from edgekp.inference.detectors import DetectorChoice, make_detector

    try:
        return make_detector(DetectorChoice("blazeface", Path(cache) if cache else None, False, 1)), ""
    except EdgeKPError as exc:
        return None, str(exc)


def measure(records: list[Any], predictor: Any, detector: Any, norm: str, seed: int) -> dict[str, Any]:
    from edgekp.data.schemes import get_scheme
    from edgekp.inference.pipeline import read_photo
    from edgekp.inference.refine import landmark_box, landmarks_per_pass, previous_frame_box
    from edgekp.metrics import nme

    scheme = get_scheme("ibug68")
    rng = np.random.default_rng(seed)
    errors = {s: [] for s in SOURCES}  # per source: rows of NME per refine count
    yaws = {s: [] for s in SOURCES}
    missed = 0
    for r in records:
        image = read_photo(r.image)
        truth = landmark_box(r.points, "true box")
        boxes = {"true box": truth, "previous frame": previous_frame_box(r.points, rng)}
        if detector is not None:
            best = max(detector.detect(image), key=lambda b: b.iou(truth), default=None)
            if best is not None and best.iou(truth) >= 0.3:
                boxes["blazeface"] = best
            else:
                missed += 1
        vis = getattr(r, "visibility", None)
        yaw = abs(r.pose.yaw) if getattr(r, "pose", None) is not None and np.isfinite(r.pose.yaw) else np.nan
        for source, box in boxes.items():
            passes = landmarks_per_pass(predictor, image, box, max(REFINES))
            pred = np.stack([passes[k] for k in REFINES])
            gt = np.repeat(r.points[None], len(REFINES), axis=0)
            v = None if vis is None else np.repeat(np.asarray(vis)[None], len(REFINES), axis=0)
            errors[source].append(nme(pred, gt, scheme, norm, v))
            yaws[source].append(yaw)
    return {
        "errors": {s: np.asarray(e) for s, e in errors.items() if e},
        "yaw": {s: np.asarray(y) for s, y in yaws.items() if y},
        "missed": missed,
    }


def rows(set_name: str, norm: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    from edgekp.metrics import YAW_BINS

    out = []
    for source, err in result["errors"].items():
        groups = [("all", np.ones(len(err), bool))]
        if norm == "box":
            yaw = result["yaw"][source]
            groups += [(f"abs(yaw) {name}", (yaw >= lo) & (yaw < hi)) for name, lo, hi in YAW_BINS]
        for label, mask in groups:
            sub = err[mask]
            ok = np.isfinite(sub).all(axis=1)
            if not ok.any():
                continue
            means = 100 * sub[ok].mean(axis=0)
            out.append(
                {
                    "set": set_name,
                    "norm": "inter-ocular" if norm == "inter_ocular" else "box sqrt(w*h)",
                    "source": source,
                    "group": label,
                    "faces": int(ok.sum()),
                    **{f"refine {k}": float(m) for k, m in zip(REFINES, means, strict=True)},
                    "best": int(REFINES[int(np.argmin(means))]),
                }
            )
    return out


def main() -> None:
    import torch

    from edgekp.bench.predictor import load_predictor
    from edgekp.measure.host import host_info

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="data root holding 300w/ and merlrav/")
    p.add_argument("--model", default=None, help="landmark model (default: the shipped model)")
    p.add_argument("--max-faces", type=int, default=None, help="faces per set (MERL-RAV: spread over the set)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--peers-cache", default=None)
    p.add_argument("--json", dest="json_out", default=None)
    args = p.parse_args()
    torch.set_num_threads(1)
    info = host_info(1)
    print(f"host: {info['cpu']}, ISA: {' '.join(info['isa'])}, 1 thread, torch {info['libraries'].get('torch')}")
    predictor = load_predictor(args.model, threads=1)
    detector, why = blazeface(args.peers_cache)
    if detector is None:
        print(f"BlazeFace box: not measured, the detector is not cached ({why})")
    table = []
    for set_name, norm, records in faces_of(Path(args.data), args.model, args.max_faces):
        result = measure(records, predictor, detector, norm, args.seed)
        if detector is not None:
            print(f"{set_name}: BlazeFace missed {result['missed']} of {len(records)} faces (left out of its rows)")
        table += rows(set_name, norm, result)
    cols = [f"refine {k}" for k in REFINES]
    print("\nNME % (lower is better); the same crops and calls as `edgekp predict`")
    print("| set | NME norm | box source | faces | " + " | ".join(cols) + " | best |")
    print("|" + "---|" * (5 + len(cols)))
    for r in table:
        print(
            f"| {r['set']} {r['group']} | {r['norm']} | {r['source']} | {r['faces']} | "
            + " | ".join(f"{r[c]:.2f}" for c in cols)
            + f" | {r['best']} |"
        )
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"host": info, "rows": table}, indent=2))


if __name__ == "__main__":
    main()
