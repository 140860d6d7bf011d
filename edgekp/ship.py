"""Copy a finished training run's best model into the package as the shipped model (the command
behind scripts/ship_model.py, run from a checkout), with a
manifest (recipe, data counts, balance, curve, each named validation set's NME overall and by |yaw|
bin at the chosen epoch, which set chose it, held-out faces, the command that reproduces it).

    python scripts/ship_model.py runs/kp_hvit_s_merlrav --data-root ../shared/data
    python scripts/ship_model.py training/kp_hvit_s_merlrav --data-root ../shared/data --allow-unfinished
    python scripts/ship_model.py training/kp_hvit_t_q_merlrav --size t --data-root ../shared/data

A committed training snapshot (scripts/snapshot_run.py) is a run folder too. The recipe file named
in ``reproduce`` is the committed one under recipes/train/ that trains exactly what the run learned
(run-control fields and data.root aside), or --recipe.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
from pathlib import Path
from typing import Any

from edgekp.config.base import validate
from edgekp.config.loader import dump_recipe, load_recipe
from edgekp.config.train import TrainRecipe
from edgekp.errors import EdgeKPError
from edgekp.files.atomic import atomic_write_json
from edgekp.files.hashes import sha256_file
from edgekp.lineage.model_source import shipped_lineage
from edgekp.lineage.run_dir import RunDir
from edgekp.lineage.shipped import DEFAULT_SIZE, SHIPPED_SIZES, shipped_name
from edgekp.measure.hashes import data_hash
from edgekp.train.data import holdout_of_recipe
from edgekp.train.run import same_learning
from edgekp.train.summary import summarize_run

# The checkout holding this package: its recipes/train/ and edgekp/shipped/ (an editable install).
REPO = Path(__file__).resolve().parents[1]


def matching_recipe(recorded: dict[str, Any], candidates: list[Path]) -> Path | None:
    """The recipe file that trains what ``recorded`` learned (its data.root and run-control fields aside)."""
    root = (recorded.get("data") or {}).get("root")
    for path in candidates:
        try:
            candidate = dump_recipe(load_recipe(path, [f"data.root={root}"] if root else [], expect=TrainRecipe))
        except EdgeKPError:
            continue
        if same_learning(candidate, recorded):
            return path
    return None


def _rescored_bins(model: Path, recipe: TrainRecipe, name: str) -> dict[str, float | None] | None:
    """|yaw| bins of a data.val set from model.pt re-scored on it (a run trained before history.csv had them)."""
    from edgekp.bench.paired import per_face_errors
    from edgekp.metrics import yaw_bins

    entry = next((v for v in recipe.data.val if v.label == name), None)
    if entry is None or not recipe.data.resolve(entry.path).exists():
        return None
    faces = per_face_errors(
        model,
        recipe.data.resolve(entry.path),
        format=entry.format,
        norm=entry.norm,
        min_labelled=recipe.data.min_labelled_points,
    )
    return {
        b: (None if v["nme"] != v["nme"] else v["nme"])
        for b, v in yaw_bins(faces.errors, faces.abs_yaw, entry.norm).items()
    }


def validation_block(run: Path, recipe: TrainRecipe | None = None) -> dict[str, Any]:
    """Each named validation set at the chosen epoch: normalization, NME, NME per |yaw| bin; and which set chose it.
    Bins the history lacks are re-scored from model.pt when ``recipe`` (with a reachable data.root) is given."""
    summary = summarize_run(run, with_cost=False)
    sets = {}
    for name, v in summary.sets.items():
        bins, source = v.bins, "history"
        if recipe is not None and not any(x is not None for x in bins.values()):
            rescored = _rescored_bins(run / "model.pt", recipe, name)
            bins, source = (rescored, "model.pt re-scored") if rescored is not None else (bins, "history")
        sets[name] = {"norm": v.norm, "nme": v.nme, "by_yaw": bins, "by_yaw_from": source}
    return {
        "selected_by": summary.select or "all validation faces",
        "best_epoch": summary.best_epoch,
        "epochs": summary.epochs,
        "stop_reason": summary.stop_reason,
        "sets": sets,
    }


def _with_root(recipe: TrainRecipe, data_root: str | None) -> TrainRecipe:
    if not data_root:
        return recipe
    return recipe.model_copy(update={"data": recipe.data.model_copy(update={"root": data_root})})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("run", type=Path)
    parser.add_argument("--data-root", help="to recompute the held-out list when the run predates recording it")
    parser.add_argument(
        "--recipe",
        type=Path,
        help="the recipe file to name in 'reproduce' (default: the matching one under recipes/train/)",
    )
    parser.add_argument(
        "--into",
        type=Path,
        default=REPO / "edgekp" / "shipped",
        help="package folder to ship into (default: %(default)s)",
    )
    parser.add_argument(
        "--size",
        choices=tuple(SHIPPED_SIZES),
        default=DEFAULT_SIZE,
        help="which shipped size this run becomes (shipped:t|s|b; default: %(default)s)",
    )
    parser.add_argument(
        "--allow-unfinished", action="store_true", help="ship the best model of a run that is still training"
    )
    args = parser.parse_args(argv)
    run = RunDir.open(args.run, expect_kinds=("train",))
    manifest = dict(run.manifest)
    if manifest.get("status") != "ok" and not args.allow_unfinished:
        print(
            f"edgekp: error: {args.run} has status {manifest.get('status')!r}, not a finished run; "
            "pass --allow-unfinished to ship its best model so far",
            file=sys.stderr,
        )
        raise SystemExit(2)
    data = dict(manifest.get("data") or {})
    if "holdout" not in data:
        data["holdout"] = holdout_of_recipe(
            _with_root(validate(TrainRecipe, manifest["recipe"], "manifest"), args.data_root)
        )
    with open(args.run / "history.csv", newline="") as fh:
        curve = list(csv.DictReader(fh))
    target = args.into
    name = shipped_name(args.size)
    shutil.copyfile(args.run / "model.pt", target / f"{name}.pt")
    trained_by = {k: manifest.get(k) for k in ("recipe", "edgekp_version", "git_commit", "host", "started", "finished")}
    root = Path(args.data_root) if args.data_root else None
    recorded = dump_recipe(validate(TrainRecipe, manifest["recipe"], "manifest"))
    recipe_file = args.recipe or matching_recipe(recorded, sorted((REPO / "recipes" / "train").glob("*.yaml")))
    if recipe_file is None:
        reproduce = (
            "edgekp train --recipe <trained_by.recipe saved as YAML> (no committed recipe file trains exactly this)"
        )
    else:
        shown = recipe_file.resolve().relative_to(REPO) if recipe_file.resolve().is_relative_to(REPO) else recipe_file
        reproduce = f"edgekp train --recipe {shown} --set data.root=<folder with the recipe's datasets>"
    shipped = {
        "kind": "shipped-model",
        "name": name,
        "model_sha256": sha256_file(target / f"{name}.pt"),
        # recipe, held-out list and dataset hashes: what edgekp.lineage.model_source needs to serve it as a
        # run directory
        "lineage": shipped_lineage(trained_by, data, root, data_hash, training_run=str(args.run)),
        "trained_by": trained_by,
        "result": manifest.get("result"),
        "best_val": manifest.get("best_val"),
        "validation": validation_block(
            args.run, _with_root(validate(TrainRecipe, manifest["recipe"], "manifest"), args.data_root)
        ),
        "balance": manifest.get("balance"),
        "data": data,
        "curve": curve,
        "reproduce": reproduce,
    }
    atomic_write_json(target / f"{name}.manifest.json", shipped)
    print(f"shipped {target / name}.pt ({(target / f'{name}.pt').stat().st_size / 1e6:.2f} MB)")
