"""The lifecycle every compressor follows: prepare -> fine-tune (the trainer's loop) -> finalize.

A compression stage reads its parent run (train, prune or qat), rebuilds the training data from
the parent's recipe (overridden by the compression recipe's sections), lets the compressor
prepare the model, fine-tunes it with the two-part loss, finalizes it and writes a run directory
like any other stage: manifest, ``model.pt`` (the best fine-tuned model), ``last.pt``, curves.
Fine-tuning resumes from ``last.pt`` (prepare is deterministic given the parent and the seed).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from edgekp.config.base import validate
from edgekp.config.compress import CompressRecipeBase
from edgekp.config.loader import dump_recipe
from edgekp.config.train import TrainRecipe
from edgekp.errors import LineageError
from edgekp.files.hashes import sha256_file
from edgekp.lineage.checkpoints import load_run_model
from edgekp.lineage.manifest import Manifest
from edgekp.lineage.run_dir import MODEL_FILE, RunDir
from edgekp.logs import get_logger
from edgekp.measure.threads import torch_threads
from edgekp.train.data import TrainingData, build_training_data
from edgekp.train.loop import LAST, FitResult, FitSettings, Trainer
from edgekp.train.run import pick_device

log = get_logger(__name__)


class Compressor(ABC):
    """One compression method. Subclasses say which parents they accept and how they change the model."""

    kind: ClassVar[str]
    parent_kinds: ClassVar[tuple[str, ...]] = ("train", "prune", "qat")

    def check_parent(self, parent: RunDir) -> None:
        """Lineage rules beyond the parent's kind (e.g. no pruning of a quantized run)."""

    @abstractmethod
    def prepare(self, model: nn.Module, data: TrainingData, out: Path) -> nn.Module:
        """Return the model to fine-tune (masked, pruned, fake-quantized ...)."""

    def finalize(self, model: nn.Module) -> nn.Module:
        """Return the model to ship after fine-tuning."""
        return model

    def save_model(self, model: nn.Module, path: Path, meta: dict[str, Any]) -> None:
        from edgekp.lineage.plain_format import save_model

        save_model(path, model, meta)

    def manifest_extra(self) -> dict[str, Any]:
        """What this compressor did, for the run's manifest."""
        return {}


def parent_train_recipe(parent: RunDir) -> TrainRecipe:
    """The training recipe at the root of the parent's lineage (compression runs carry it along)."""
    return Manifest.of(parent).require_train_recipe()


def _deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in update.items():
        out[key] = _deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def finetune_recipe(parent_recipe: TrainRecipe, recipe: CompressRecipeBase) -> TrainRecipe:
    """The parent's training recipe with the compression recipe's sections put in place."""
    merged = dump_recipe(parent_recipe)
    for section in ("data", "balance", "augment", "loss"):
        value = getattr(recipe, section)
        if value is not None:
            # Only the fields the compression recipe sets replace the parent's: '--set data.root=DIR'
            # must not swap the parent's dataset list for the defaults.
            merged[section] = _deep_merge(merged.get(section) or {}, value.model_dump(mode="json", exclude_unset=True))
    merged["optim"] = recipe.finetune.model_dump(mode="json")
    merged.update(seed=recipe.seed, device=recipe.device, threads=recipe.threads)
    return validate(TrainRecipe, merged, "fine-tuning recipe")


def compress(
    compressor: Compressor,
    recipe: CompressRecipeBase,
    parent_dir: str | Path,
    out: str | Path,
    resume: bool = False,
    data: TrainingData | None = None,
) -> dict[str, Any]:
    """Run one compression stage into ``out``; torch's thread count is put back afterwards."""
    parent = RunDir.open(parent_dir, expect_kinds=compressor.parent_kinds)
    compressor.check_parent(parent)
    train_recipe = finetune_recipe(parent_train_recipe(parent), recipe)
    threads = train_recipe.threads or os.cpu_count() or 1
    with torch_threads(threads):
        return _compress(compressor, recipe, parent, train_recipe, Path(out), resume, data, threads)


def _compress(
    compressor: Compressor,
    recipe: CompressRecipeBase,
    parent: RunDir,
    train_recipe: TrainRecipe,
    out: Path,
    resume: bool,
    data: TrainingData | None,
    threads: int,
) -> dict[str, Any]:
    loaded = load_run_model(parent.path)
    if loaded.quantization is not None:
        raise LineageError(
            f"{str(parent.path)!r} holds a quantized ({loaded.format}) model; {compressor.kind} starts from a train "
            "or prune run"
        )
    model, meta = loaded.model, loaded.meta
    device = pick_device(train_recipe.device)
    torch.manual_seed(recipe.seed)
    resolved = dump_recipe(recipe)
    if resume and (out / "manifest.json").is_file():
        run = RunDir.open(out, expect_kinds=(compressor.kind,))
        if run.manifest.get("recipe") != resolved:
            raise LineageError(f"cannot resume {str(out)!r}: its recipe differs from the one given; use a new --out")
    else:
        if (out / "last.pt").exists():
            raise LineageError(
                f"{str(out)!r} already holds a {compressor.kind} run; pass --resume or choose another --out"
            )
        run = RunDir.create(out, compressor.kind, recipe=resolved, parent=parent, threads=threads)
    run.update(train_recipe=dump_recipe(parent_train_recipe(parent)), finetune_recipe=dump_recipe(train_recipe))
    try:
        data = data or build_training_data(train_recipe)
        working = compressor.prepare(model.to(device), data, out)
        run.update(compression=compressor.manifest_extra())

        def save_best(best: nn.Module, info: dict[str, Any]) -> None:
            compressor.save_model(
                compressor.finalize(best),
                out / MODEL_FILE,
                {**meta, "val_nme": info["val"]["nme"], "epoch": info["epoch"], "stage": compressor.kind},
            )

        settings = FitSettings(
            train_recipe.loss,
            train_recipe.optim,
            train_recipe.augment,
            train_recipe.balance,
            train_recipe.seed,
            int(meta["input_size"]),
        )
        trainer = Trainer(working, data, settings, out, save_best, device=device)
        before = trainer.validate()
        start = None
        if not (resume and (out / LAST).is_file()):
            # The compressed model before fine-tuning is a candidate too: a short fine-tune of a converged
            # parent can make it worse (QAT of kp_hvit_s_merlrav: 3.02 % box after quantization, 3.08 % after
            # one epoch at lr 1e-4), and the checkpoint is chosen on validation either way.
            save_best(trainer.eval_model(), {"epoch": -1, "val": before})
            start = {"nme": before["nme"], "epoch": -1, "val": before}
        result: FitResult = trainer.fit(resume=resume, budget_min=train_recipe.optim.time_budget_min, start_best=start)
    except BaseException:
        run.finish(status="failed")
        raise
    summary = {
        "run": str(out),
        "kind": compressor.kind,
        "val_nme_before_finetune": before["nme"],
        "best_val_nme": result.best_nme,
        "best_epoch": result.best_epoch,
        "epochs": result.epochs_run,
        "stop_reason": result.stop_reason,
        "parent_val_nme": meta.get("val_nme"),
        "normalization": trainer.val_norm,
        # The epoch -1 candidate in history.csv's columns (per validation set and |yaw| bin): it has no history
        # row, and a run that keeps it (best_epoch -1) is summarized from these.
        "before_finetune": {
            "epoch": -1,
            "val_nme": before["nme"],
            "val_norm": trainer.val_norm,
            **Trainer.set_columns(before),
        },
    }
    run.finish(
        status="ok",
        result=summary,
        compression=compressor.manifest_extra(),
        artifacts={MODEL_FILE: sha256_file(out / MODEL_FILE)} if (out / MODEL_FILE).is_file() else {},
    )
    return summary
