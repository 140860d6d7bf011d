"""Why a tracker must not re-cut its crop around its own landmarks every frame: iterated landmark passes
drift away from the true crop.

    OMP_NUM_THREADS=1 python benchmarks/video_crop_drift.py --data-root ../shared/data

On every in-view frame of the video benchmark's clips (benchmarks/video_stability.py: the shipped model's
held-out 300W photos), the shipped model (onnxruntime, 1 thread) starts from the true crop (the labelled
landmark box + the training margin) and re-cuts its crop around its own landmarks after each pass, as a
tracker that re-cuts every frame does on a still face. Printed per phase and number of passes: 68-point
NME (% of the inter-ocular distance) and the crop's side over the true crop's (mean and std); a second
block scales each re-cut side by --size-fix (a correction of the shrink).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from edgekp.bench.video_clips import ClipSpec, holdout_clips
from edgekp.data.crops import crop_box_from_points, crop_face, to_pixels
from edgekp.inference.runtime import LandmarkRuntime, load_runtime
from edgekp.measure.host import host_info

PASSES = (1, 2, 3, 6)


def one_pass(runtime: LandmarkRuntime, image: np.ndarray, square: tuple[float, float, float, float]) -> np.ndarray:
    crop = crop_face(image, np.zeros((1, 2)), runtime.input_size, box=square)
    pred, _ = runtime(crop.image[None])
    return crop.to_image(to_pixels(pred[0], runtime.input_size)).astype(np.float64)


def drift(runtime: LandmarkRuntime, clips: list, size_fix: float) -> dict[tuple[str, int], list[tuple[float, float]]]:
    out: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for clip in clips:
        for t, image in enumerate(clip.frames):
            if not clip.in_view[t]:
                continue
            gt = clip.points[t]
            iod = float(np.linalg.norm(gt[36] - gt[45]))
            true = crop_box_from_points(gt, runtime.margin)
            square = true
            for n in range(1, max(PASSES) + 1):
                points = one_pass(runtime, image, square)
                if n in PASSES:
                    nme = float(np.linalg.norm(points - gt, axis=1).mean()) / iod
                    out.setdefault((clip.phase[t], n), []).append((nme, square[2] / true[2]))
                x, y, side, _ = crop_box_from_points(points, runtime.margin)
                grown = side * size_fix
                square = (x - (grown - side) / 2, y - (grown - side) / 2, grown, grown)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", default="../shared/data")
    parser.add_argument("--clips", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size-fix", type=float, default=1.01)
    args = parser.parse_args()
    import cv2

    cv2.setNumThreads(1)
    runtime = load_runtime(None, threads=1)
    clips = holdout_clips(Path(args.data_root), args.clips, args.seed, ClipSpec())
    host = host_info(threads=1)
    print(f"host: {host['cpu']}, ISA {' '.join(host['isa'])}; 1 thread; {runtime.source}; {len(clips)} clips")
    for fix in (1.0, args.size_fix):
        rows = drift(runtime, clips, fix)
        print(
            f"\nre-cut side x {fix:g}: 68-point NME % (inter-ocular) / crop side over the true crop's (mean +- std),"
            " the crop of that pass"
        )
        print("| phase | " + " | ".join(f"{n} pass{'es' if n > 1 else ''}" for n in PASSES) + " |")
        print("|---|" + "---|" * len(PASSES))
        for phase in ("still", "pan", "shake"):
            cells = []
            for n in PASSES:
                a = np.array(rows[(phase, n)])
                cells.append(f"{100 * a[:, 0].mean():.2f} / {a[:, 1].mean():.3f} +- {a[:, 1].std():.3f}")
            print(f"| {phase} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
