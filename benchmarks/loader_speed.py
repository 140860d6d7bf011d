"""Training samples/s of the data path: decode + crop (preloaded once) and batch augmentation.

Usage: python benchmarks/loader_speed.py --data ../shared/data [--threads 2] [--batch 64] [--size 128]
Reads 300w/helen_train, 300w/afw and ytf/train, preloads the crops once (timed), then times the
trainer's per-batch work: the expanded copies of a batch of 64 (rotation, scale, shift, flip,
colour, blur, noise, occlusion) on 2 threads.  The trainer runs at ~50-100 samples/s (design.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from edgekp.config.data import AugmentSpec
from edgekp.data.augment import BatchAugmenter
from edgekp.data.crops import preload_crops
from edgekp.data.records import FaceRecord
from edgekp.data.schemes import IBUG68

FOLDERS = ("300w/helen_train", "300w/afw", "ytf/train")


def _records(folder: Path) -> list[FaceRecord]:
    try:
        from edgekp.data.readers import read_dataset
    except ImportError:  # before the readers land: a .pts folder is a few lines to read
        records = []
        for pts in sorted(folder.glob("*.pts")):
            lines = pts.read_text().splitlines()
            body = lines[lines.index("{") + 1 : lines.index("}")]
            points = np.asarray([line.split() for line in body], np.float32) - 1.0
            records.append(FaceRecord(source=pts.stem, points=points, image=pts.with_suffix(".jpg")))
        return records
    return list(read_dataset(folder, format="pts").records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batches", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    records = [r for f in FOLDERS for r in _records(args.data / f)]
    start = time.perf_counter()
    crops = preload_crops(records, size=args.size, margin=0.25, workers=args.threads)
    preload = time.perf_counter() - start
    augment = BatchAugmenter(AugmentSpec(), IBUG68)
    rng = np.random.default_rng(0)
    times = []
    for b in range(args.batches + 3):
        idx = rng.choice(len(crops), args.batch, replace=False)
        t = time.perf_counter()
        # What the trainer does per batch: uint8 crops -> float tensors, then the expanded copies.
        images = torch.from_numpy(crops.images[idx]).permute(0, 3, 1, 2).float().div_(255)
        points = torch.from_numpy(crops.points[idx])
        augment(images, points, torch.Generator().manual_seed(b))
        if b >= 3:  # warm-up batches excluded
            times.append(time.perf_counter() - t)
    med = statistics.median(times)
    print(
        f"host: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{args.threads} threads"
    )
    print(
        f"preload: {len(crops)} faces decoded + cropped to {args.size} px in {preload:.1f} s "
        f"({len(crops) / preload:.0f} faces/s, once per run)"
    )
    print(
        f"augmentation: batch {args.batch} median {med * 1e3:.0f} ms (p90 {np.percentile(times, 90) * 1e3:.0f} ms) "
        f"-> {args.batch / med:.0f} training samples/s"
    )
    print(
        f"per epoch of {len(crops)} faces: {preload / 1:.1f} s preload (first epoch only) + "
        f"{len(crops) / (args.batch / med):.1f} s augmentation"
    )


if __name__ == "__main__":
    main()
