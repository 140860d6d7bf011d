"""The shipped model's face-presence head on validation crops, and its landmarks against the model
without the head (the same weights: the head was trained with everything else frozen).

    OMP_NUM_THREADS=1 python benchmarks/presence_head.py --data-root ../shared/data

Validation crops (edgekp.train.presence_data, the same draw as the threshold choice): one face crop
and four negatives (off the face, face far too small, far too large, background) for every face of
300W LFPW train (seen by neither the landmark model nor the head) and the shipped model's held-out
300W faces. Prints the threshold the model carries, the share of faces above it and of each negative
kind below it, and the 68-point NME (inter-ocular) of the held-out faces with and without the head.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from edgekp.bench.holdout import holdout_of_run
from edgekp.data.crops import preload_crops
from edgekp.data.images import load_image
from edgekp.data.readers import read_dataset
from edgekp.data.schemes import get_scheme
from edgekp.lineage.checkpoints import load_model_file
from edgekp.lineage.shipped import shipped_model_path
from edgekp.measure.host import host_info
from edgekp.metrics import nme
from edgekp.models.hvit import KeypointHVit
from edgekp.train.presence import pooled_features, probabilities, rates
from edgekp.train.presence_data import presence_crops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", default="../shared/data")
    parser.add_argument(
        "--seed", type=int, default=1, help="the validation draw (1: the one the threshold was chosen on)"
    )
    args = parser.parse_args()
    root = Path(args.data_root)
    loaded = load_model_file(shipped_model_path())
    model, meta = loaded.model, loaded.meta
    if not model.has_presence:
        raise SystemExit("the shipped model has no presence head")
    size, margin = int(meta["input_size"]), float(meta["crop_margin"])
    holdout = holdout_of_run(None)
    held = []
    for sub in ("300w/helen_train", "300w/afw"):
        keep = set(holdout.get(sub, []))
        held += [r for r in read_dataset(root / sub, format="pts").records if r.source in keep]
    records = read_dataset(root / "300w/lfpw_train", format="pts").records + held
    val = presence_crops(records, load_image, size, margin, seed=args.seed, positives_per_face=1, negatives_per_face=4)
    prob = probabilities(model, pooled_features(model, val.images))
    threshold = float(model.presence_threshold)
    result = rates(prob, val, threshold)
    # The same weights without the head: the landmark path is what it was.
    plain = KeypointHVit(model.config.replace(presence_hidden=0, presence_threshold=None), variant=model.variant)
    plain.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("presence.")})
    crops = preload_crops(held, size=size, margin=margin)
    x = torch.from_numpy(crops.images).permute(0, 3, 1, 2).float() / 255.0
    with torch.no_grad():
        with_head, _ = model.eval().forward_with_presence(x)
        without = plain.eval()(x)
    scheme = get_scheme("ibug68")
    nme_with = float(np.nanmean(nme(with_head.numpy(), crops.points, scheme, "inter_ocular", crops.vis())) * 100)
    nme_without = float(np.nanmean(nme(without.numpy(), crops.points, scheme, "inter_ocular", crops.vis())) * 100)
    host = host_info(threads=torch.get_num_threads())
    print(f"host: {host['cpu']}, ISA {' '.join(host['isa'])}")
    print(f"presence threshold (probability) carried by the shipped model: {threshold}")
    print(f"validation crops: {result['n']}")
    print(f"faces at or above the threshold: {result['faces_above'] * 100:.2f} %")
    for kind in ("off", "small", "large", "background"):
        print(f"{kind} crops below the threshold: {result[kind + '_below'] * 100:.2f} %")
    print(
        f"held-out 300W faces ({len(held)}), 68-point NME (inter-ocular): {nme_with:.4f} % with the head's model, "
        f"{nme_without:.4f} % without it; largest landmark difference {float((with_head - without).abs().max()):.3g}"
    )


if __name__ == "__main__":
    main()
