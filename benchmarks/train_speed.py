"""Training throughput of a model variant: samples/s (originals; each also has an expanded copy)
and peak RSS, on synthetic faces so it runs anywhere.

    python benchmarks/train_speed.py [--model kp_hvit_s] [--threads 2] [--batches 6]
"""

from __future__ import annotations

import argparse
import os
import resource
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch

from edgekp.config.data import AugmentSpec
from edgekp.config.train import LossSpec
from edgekp.data.augment import BatchAugmenter
from edgekp.data.crops import crop_face, to_normalized
from edgekp.data.schemes import IBUG68
from edgekp.data.synthetic import render_synthetic
from edgekp.measure.host import host_info
from edgekp.models import create_model
from edgekp.train.evaluate import to_tensor_images
from edgekp.train.losses import two_part_loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="kp_hvit_s")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batches", type=int, default=6, help="timed batches after 2 warm-up batches")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    images, points, _ = render_synthetic(args.batch, int(args.size * 1.25), seed=0)
    crops = [crop_face(im, pt, args.size, margin=0.25) for im, pt in zip(images, points, strict=True)]
    x = to_tensor_images(np.stack([c.image for c in crops]))
    y = torch.from_numpy(np.stack([to_normalized(c.points, args.size) for c in crops]))
    model = create_model(args.model, input_size=args.size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    augmenter = BatchAugmenter(AugmentSpec(), IBUG68)
    spec = LossSpec()
    gen = torch.Generator().manual_seed(0)

    def step() -> None:
        expanded = augmenter(x, y, gen)
        pred = model(torch.cat([x, expanded.images]))
        loss = two_part_loss(pred[: len(x)], y, pred[len(x) :], expanded.points, spec, args.size).total
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for _ in range(2):
        step()
    times = []
    for _ in range(args.batches):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    median = float(np.median(times))
    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    host = host_info(args.threads)
    print(f"host: {host['cpu']} ({', '.join(host['isa'])}), {host['cores']} cores, {args.threads} threads")
    print(f"model {args.model} at {args.size} px, batch {args.batch} originals + {args.batch} expanded copies")
    print(f"training: {args.batch / median:.1f} samples/s (median of {args.batches} steps, {median:.2f} s/step)")
    print(f"peak RSS: {rss_gb:.2f} GB")


if __name__ == "__main__":
    main()
