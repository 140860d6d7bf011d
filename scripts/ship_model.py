"""Copy a finished training run's best model into the package as the shipped model, with a
manifest (recipe, data counts, balance, curve, validation NME, held-out faces).

    python scripts/ship_model.py runs/kp_hvit_s_300w --data-root ../shared/data
"""

from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path

from edgekp.artifacts import RunDir, atomic_write_json, sha256_file
from edgekp.config.base import validate
from edgekp.config.train import TrainRecipe
from edgekp.shipped import SHIPPED_NAME
from edgekp.sources import shipped_lineage
from edgekp.train.data import holdout_of_recipe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run", type=Path)
    parser.add_argument("--data-root", help="to recompute the held-out list when the run predates recording it")
    args = parser.parse_args()
    run = RunDir.open(args.run, expect_kinds=("train",))
    manifest = dict(run.manifest)
    data = dict(manifest.get("data") or {})
    if "holdout" not in data:
        recipe = validate(TrainRecipe, manifest["recipe"], "manifest")
        if args.data_root:
            recipe = recipe.model_copy(update={"data": recipe.data.model_copy(update={"root": args.data_root})})
        data["holdout"] = holdout_of_recipe(recipe)
    with open(args.run / "history.csv", newline="") as fh:
        curve = list(csv.DictReader(fh))
    target = Path(__file__).resolve().parents[1] / "edgekp" / "shipped"
    shutil.copyfile(args.run / "model.pt", target / f"{SHIPPED_NAME}.pt")
    trained_by = {k: manifest.get(k) for k in ("recipe", "edgekp_version", "git_commit", "host", "started", "finished")}
    root = Path(args.data_root) if args.data_root else None
    shipped = {
        "kind": "shipped-model",
        "name": SHIPPED_NAME,
        "model_sha256": sha256_file(target / f"{SHIPPED_NAME}.pt"),
        # recipe, held-out list and dataset hashes: what edgekp.sources needs to serve it as a run directory
        "lineage": shipped_lineage(trained_by, data, root, training_run=str(args.run)),
        "trained_by": trained_by,
        "result": manifest.get("result"),
        "best_val": manifest.get("best_val"),
        "balance": manifest.get("balance"),
        "data": data,
        "curve": curve,
        "reproduce": "edgekp train --recipe recipes/train/kp_hvit_s_300w.yaml --set data.root=<folder with 300w/ and ytf/>",
    }
    atomic_write_json(target / f"{SHIPPED_NAME}.manifest.json", shipped)
    print(f"shipped {target / SHIPPED_NAME}.pt ({(target / f'{SHIPPED_NAME}.pt').stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
