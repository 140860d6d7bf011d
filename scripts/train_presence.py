"""Train the shipped model's face-presence head (backbone and landmark head frozen) and, with
--ship, put the result in the package as the shipped model, its manifest updated.

    python scripts/train_presence.py --data-root ../shared/data --out runs/presence [--ship]

Train crops: the shipped model's own training faces of 300W HELEN and AFW (its held-out faces left
out) and a sample of MERL-RAV train. Validation crops (threshold choice): 300W LFPW train, which
neither the landmark model nor the head ever saw, and the shipped model's held-out 300W faces.
The 68-point NME (inter-ocular) on the held-out faces is measured before and after.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from edgekp.bench.holdout import holdout_of_run
from edgekp.data.crops import preload_crops
from edgekp.data.images import load_image
from edgekp.data.readers import read_dataset
from edgekp.data.schemes import get_scheme
from edgekp.files.atomic import atomic_write_json
from edgekp.files.hashes import sha256_file
from edgekp.lineage.checkpoints import load_model_file
from edgekp.lineage.plain_format import save_model
from edgekp.lineage.shipped import shipped_manifest_path, shipped_model_path
from edgekp.metrics import nme
from edgekp.train.presence import train_presence
from edgekp.train.presence_data import presence_crops


def _nme(model, records, size, margin) -> float:
    import torch

    crops = preload_crops(records, size=size, margin=margin)
    with torch.no_grad():
        pred = model(torch.from_numpy(crops.images).permute(0, 3, 1, 2).float() / 255.0).numpy()
    return float(np.nanmean(nme(pred, crops.points, get_scheme("ibug68"), "inter_ocular", crops.vis())) * 100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", default="../shared/data")
    parser.add_argument("--out", default="runs/presence")
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--merlrav", type=int, default=1500, help="MERL-RAV train faces sampled for training")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ship", action="store_true", help="replace the shipped model with the result")
    args = parser.parse_args()
    root = Path(args.data_root)
    loaded = load_model_file(shipped_model_path())
    base, meta = loaded.model, loaded.meta
    size, margin = int(meta["input_size"]), float(meta["crop_margin"])
    holdout = holdout_of_run(None)
    train_records, held = [], []
    for sub in ("300w/helen_train", "300w/afw"):
        records = read_dataset(root / sub, format="pts").records
        out = set(holdout.get(sub, []))
        train_records += [r for r in records if r.source not in out]
        held += [r for r in records if r.source in out]
    merl = read_dataset(root / "merlrav/train", format="coco").records
    pick = np.random.default_rng(args.seed).choice(len(merl), min(args.merlrav, len(merl)), replace=False)
    train_records += [merl[i] for i in sorted(pick)]
    val_records = read_dataset(root / "300w/lfpw_train", format="pts").records + held
    train = presence_crops(train_records, load_image, size, margin, seed=args.seed)
    val = presence_crops(
        val_records, load_image, size, margin, seed=args.seed + 1, positives_per_face=1, negatives_per_face=4
    )
    result = train_presence(base, train, val, hidden=args.hidden, epochs=args.epochs, seed=args.seed)
    before, after = _nme(base, held, size, margin), _nme(result.model, held, size, margin)
    report = {
        **result.report,
        "train_faces": len(train_records),
        "val_faces": len(val_records),
        "holdout_nme_68_inter_ocular_pct": {"before": round(before, 4), "after": round(after, 4), "faces": len(held)},
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    save_model(out / "model.pt", result.model, {**meta, "presence": report})
    atomic_write_json(out / "presence.json", report)
    print(json.dumps(report, indent=2))
    if args.ship:
        save_model(shipped_model_path(), result.model, {**meta, "presence": report})
        manifest = json.loads(shipped_manifest_path().read_text(encoding="utf-8"))
        manifest["model_sha256"] = sha256_file(shipped_model_path())
        manifest["presence"] = {
            **report,
            "trained_by": "python scripts/train_presence.py --data-root ../shared/data --ship",
        }
        atomic_write_json(shipped_manifest_path(), manifest)
        print(f"shipped: {shipped_model_path()} ({shipped_model_path().stat().st_size} bytes)")


if __name__ == "__main__":
    main()
