"""Face detectors as `edgekp predict` uses them: recall, misses, and what the detector's box costs the landmarks.

Usage: python benchmarks/detector_recall.py --data ../shared/data [--detectors blazeface,haar] [--json out.json]

Per face set and detector it prints:
- recall: a face counts as found when a detected box overlaps its landmark box with IoU >= 0.3
  (--iou); every image of these sets holds one labelled face;
- on MERL-RAV (tight 120 px crops, profiles included) recall by |yaw| bin (AFLW's yaw label);
- NME of the landmarks through the detector's box, and through the ground-truth landmark box, with the
  same calls `edgekp predict` makes (edgekp.inference.pipeline.landmarks_in_box, two refinements),
  on the faces the detector found; ratio = detector / ground truth (1.05 = 5 % worse);
- every missed face by name (in the JSON, and the first few on screen), never silently dropped.

NME: inter-ocular on 300W; on MERL-RAV the landmark-box normalization (inter-ocular collapses on profiles).
BlazeFace needs its model fetched once: `edgekp predict IMAGE --detector blazeface --download-detector`.
One thread everywhere; timings are per photo, detection only.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

SETS = ("300w/helen_train", "300w/afw", "merlrav/test")
YAW_EDGES = (0.0, 30.0, 60.0, 90.0)  # |yaw| bins; faces past 90 or unlabelled get their own


def gt_box(points: np.ndarray) -> Any:
    from edgekp.inference.boxes import FaceBox

    x0, y0 = np.nanmin(points, axis=0)
    x1, y1 = np.nanmax(points, axis=0)
    return FaceBox(float(x0), float(y0), float(x1 - x0), float(y1 - y0), "ground truth")


def face_nme(pred: np.ndarray, gt: np.ndarray, scheme: Any, norm: str) -> float:
    from edgekp.errors import DataError
    from edgekp.metrics import nme

    try:
        return float(nme(pred[None], gt[None], scheme, norm)[0])
    except DataError:
        return float("nan")


def run_set(
    name: str, records: list[Any], detector: Any, predictor: Any, scheme: Any, norm: str, iou: float, landmarks: bool
) -> dict[str, Any]:
    from edgekp.inference.pipeline import landmarks_in_box, read_photo

    found, misses, ious, yaws, seconds = [], [], [], [], 0.0
    nme_det, nme_gt = [], []
    for r in records:
        image = read_photo(r.image)
        truth = gt_box(r.points)
        t0 = time.perf_counter()
        boxes = detector.detect(image)
        seconds += time.perf_counter() - t0
        best = max(boxes, key=lambda b: b.iou(truth), default=None)
        overlap = best.iou(truth) if best is not None else 0.0
        hit = overlap >= iou
        found.append(hit)
        ious.append(overlap)
        yaws.append(abs(r.pose.yaw) if r.pose is not None and np.isfinite(r.pose.yaw) else np.nan)
        if not hit:
            misses.append(
                {"source": r.source, "image": str(r.image), "best_iou": round(overlap, 3), "boxes": len(boxes)}
            )
        elif landmarks:
            nme_det.append(face_nme(landmarks_in_box(predictor, image, best), r.points, scheme, norm))
            nme_gt.append(face_nme(landmarks_in_box(predictor, image, truth), r.points, scheme, norm))
    found_arr, yaw_arr = np.array(found), np.array(yaws, np.float64)
    out: dict[str, Any] = {
        "set": name,
        "detector": detector.name,
        "faces": len(records),
        "found": int(found_arr.sum()),
        "recall": float(found_arr.mean()),
        "median_iou": float(np.median(ious)),
        "ms_per_photo": 1000 * seconds / len(records),
        "misses": misses,
        "norm": norm,
    }
    if np.isfinite(yaw_arr).any():
        bins = {}
        for lo, hi in zip(YAW_EDGES[:-1], YAW_EDGES[1:], strict=True):
            mask = (yaw_arr >= lo) & ((yaw_arr < hi) if hi < YAW_EDGES[-1] else (yaw_arr <= hi))
            bins[f"{lo:g}-{hi:g}"] = {
                "faces": int(mask.sum()),
                "recall": float(found_arr[mask].mean()) if mask.any() else None,
            }
        beyond, unknown = yaw_arr > YAW_EDGES[-1], ~np.isfinite(yaw_arr)
        for name, mask in ((f">{YAW_EDGES[-1]:g}", beyond), ("unlabelled", unknown)):
            if mask.any():  # every face lands in some bin: none is dropped from the table
                bins[name] = {"faces": int(mask.sum()), "recall": float(found_arr[mask].mean())}
        out["recall_by_yaw"] = bins
    if landmarks and nme_det:
        det, gt = np.array(nme_det), np.array(nme_gt)
        ok = np.isfinite(det) & np.isfinite(gt)
        out |= {
            "nme_detector": float(det[ok].mean()),
            "nme_gt_box": float(gt[ok].mean()),
            "nme_ratio": float(det[ok].mean() / gt[ok].mean()),
            "nme_faces": int(ok.sum()),
        }
    return out


def table(results: list[dict[str, Any]]) -> str:
    head = (
        "| face set | detector | faces | found | recall | NME, detector box | NME, ground-truth box | ratio "
        "| ms/photo |"
    )
    lines = [head, "|" + "---|" * 9]
    for r in results:
        nme = (
            (f"{100 * r['nme_detector']:.2f} %", f"{100 * r['nme_gt_box']:.2f} %", f"{r['nme_ratio']:.3f}")
            if "nme_ratio" in r
            else ("-", "-", "-")
        )
        lines.append(
            f"| {r['set']} | {r['detector']} | {r['faces']} | {r['found']} | {100 * r['recall']:.2f} % | "
            f"{nme[0]} | {nme[1]} | {nme[2]} | {r['ms_per_photo']:.1f} |"
        )
    yaw = [r for r in results if "recall_by_yaw" in r]
    if yaw:
        edges = list(dict.fromkeys(k for r in yaw for k in r["recall_by_yaw"]))
        lines += [
            "",
            "| face set | detector | " + " | ".join(f"recall, abs(yaw) {e} deg" for e in edges) + " |",
            "|" + "---|" * (2 + len(edges)),
        ]
        for r in yaw:
            bins = r["recall_by_yaw"]
            cells = [
                f"{100 * bins[e]['recall']:.1f} % of {bins[e]['faces']}"
                if bins.get(e, {}).get("recall") is not None
                else "-"
                for e in edges
            ]
            lines.append(f"| {r['set']} | {r['detector']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    import torch

    from edgekp.bench.predictor import load_predictor
    from edgekp.data.readers import read_dataset
    from edgekp.data.schemes import get_scheme
    from edgekp.inference.detectors import DetectorChoice, make_detector

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="data root holding 300w/ and merlrav/")
    p.add_argument("--sets", default=",".join(SETS))
    p.add_argument("--detectors", default="blazeface,haar", help="comma-separated: blazeface, blazeface-full, haar")
    p.add_argument("--model", default=None, help="landmark model (default: the shipped model)")
    p.add_argument("--iou", type=float, default=0.3)
    p.add_argument("--max-faces", type=int, default=None, help="first N faces of each set (sorted by name)")
    p.add_argument("--no-landmarks", dest="landmarks", action="store_false", help="recall only")
    p.add_argument("--peers-cache", default=None)
    p.add_argument("--json", dest="json_out", default=None, help="write every figure and every miss here")
    args = p.parse_args()
    torch.set_num_threads(1)
    predictor = load_predictor(args.model, threads=1)
    scheme = get_scheme("ibug68")
    results = []
    for set_name in [s for s in args.sets.split(",") if s]:
        records = sorted(read_dataset(Path(args.data) / set_name).records, key=lambda r: r.source)[: args.max_faces]
        norm = "box" if set_name.startswith("merlrav") else "inter_ocular"
        for det_name in [d for d in args.detectors.split(",") if d]:
            cache = Path(args.peers_cache) if args.peers_cache else None
            detector = make_detector(DetectorChoice(det_name, cache))
            result = run_set(set_name, records, detector, predictor, scheme, norm, args.iou, args.landmarks)
            results.append(result)
            shown = ", ".join(m["source"] for m in result["misses"][:10])
            more = f" (+{len(result['misses']) - 10} more)" if len(result["misses"]) > 10 else ""
            print(
                f"{set_name} {result['detector']}: recall {100 * result['recall']:.2f} % "
                f"({result['found']}/{result['faces']}); missed: {shown or 'none'}{more}",
                flush=True,
            )
    print()
    print(table(results))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2))
        print(f"\nwritten to: {Path(args.json_out).resolve()}")


if __name__ == "__main__":
    main()
