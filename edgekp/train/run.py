"""``edgekp train``: recipe -> run directory with model.pt (best), last.pt, curves and manifest."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from edgekp.config.loader import dump_recipe
from edgekp.config.train import TrainRecipe
from edgekp.errors import ConfigError, LineageError
from edgekp.files.hashes import sha256_file
from edgekp.lineage.run_dir import MODEL_FILE, RunDir
from edgekp.logs import get_logger
from edgekp.measure.threads import torch_threads
from edgekp.models.config import PRESENCE_FIELDS
from edgekp.train.data import build_training_data
from edgekp.train.distributed import init_distributed, shutdown
from edgekp.train.loop import FitSettings, Trainer

log = get_logger(__name__)


def pick_device(choice: str) -> torch.device:
    if choice == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but no CUDA GPU is visible; use --device auto or cpu")
    if choice in ("auto", "cuda") and torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


def model_meta(recipe: TrainRecipe, scheme_name: str) -> dict[str, Any]:
    """What every consumer of model.pt (eval, export, predict) needs besides the weights."""
    return {
        "scheme": scheme_name,
        "num_points": recipe.model.num_points,
        "input_size": recipe.model.input_size,
        "input": "N x 3 x S x S float32 RGB in [0, 1]; mean/std normalization is inside the model",
        "output": "N x K x 2 float32 (x, y) normalized to [0, 1] in the crop",
        "crop_margin": recipe.data.crop.margin,
    }


# Fields that say how and where a run executes, not what it learns: a run resumed on another machine
# (a committed checkpoint, a GPU host, a new session with a longer time budget) may change them.
# data.root too: another machine keeps the same datasets elsewhere; the face counts guard the data itself.
RUN_CONTROL_FIELDS = (("device",), ("threads",), ("workers",), ("optim", "time_budget_min"), ("data", "root"))


def _without_run_control(recipe: dict[str, Any]) -> dict[str, Any]:
    import copy

    learned = copy.deepcopy(recipe)
    for path in RUN_CONTROL_FIELDS:
        section = learned
        for key in path[:-1]:
            section = section.get(key, {})
        section.pop(path[-1], None)
    return learned


def _as_current_schema(recipe: TrainRecipe, before: dict[str, Any], out: Path) -> dict[str, Any]:
    """The run's recorded recipe read by today's schema: fields added since then take their defaults,
    so a checkpoint committed by an older edgekp still resumes when nothing it learned with changed."""
    from pydantic import ValidationError

    try:
        return dump_recipe(type(recipe).model_validate(before))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise LineageError(
            f"cannot resume {str(out)!r}: its recorded recipe no longer validates ({where}: {first['msg']})"
        ) from None


def same_learning(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two resolved recipes (dump_recipe) train the same thing: equal but for RUN_CONTROL_FIELDS."""
    return _without_run_control(a) == _without_run_control(b)


def check_resumable(out: str | Path, recipe: TrainRecipe) -> RunDir:
    """The training run in ``out``, opened; LineageError unless ``recipe`` differs from the one it was
    trained with in run-control fields only (RUN_CONTROL_FIELDS), i.e. unless ``--resume`` may continue it."""
    out = Path(out)
    run = RunDir.open(out, expect_kinds=("train",))
    before = _as_current_schema(recipe, run.manifest.get("recipe") or {}, out)
    if not same_learning(before, dump_recipe(recipe)):
        raise LineageError(f"cannot resume {str(out)!r}: its recipe differs from the one given; use a new --out")
    return run


def _open_run(out: Path, recipe: TrainRecipe, resume: bool, threads: int) -> RunDir:
    resolved = dump_recipe(recipe)
    if resume and (out / "manifest.json").is_file():
        run = check_resumable(out, recipe)
        resumes = list(run.manifest.get("resumes", []))
        resumes.append({"control": {".".join(f): _field(resolved, f) for f in RUN_CONTROL_FIELDS}, "threads": threads})
        run.update(status="running", resumed=True, recipe=resolved, resumes=resumes)
        return run
    if not resume and (out / "last.pt").exists():
        raise LineageError(
            f"{str(out)!r} already holds a training run; pass --resume to continue it or choose another --out"
        )
    return RunDir.create(out, "train", recipe=resolved, threads=threads)


def _check_same_faces(run: RunDir, summary: dict[str, Any], out: Path) -> None:
    """A resumed run (possibly with another data.root) must read the same number of faces as before."""
    before = run.manifest.get("data") or {}
    for key in ("train_faces", "val_faces"):
        if key in before and key in summary and before[key] != summary[key]:
            raise LineageError(
                f"cannot resume {str(out)!r}: it trained on {before[key]} {key.replace('_', ' ')}, the data given now "
                f"has {summary[key]}"
            )


def _field(recipe: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = recipe
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def warm_start(model: torch.nn.Module, source: str) -> dict[str, Any]:
    """Load the weights of ``source`` (a run directory or a model file) into ``model``; the
    architectures must match exactly. Returns what the run's manifest records of it."""
    from edgekp.lineage.checkpoints import load_run_model

    loaded = load_run_model(source)
    # A face-presence head is trained afterwards on the frozen network (edgekp.train.presence), never by
    # a training recipe: a source that carries one warm-starts the landmark network alone.
    theirs = {k: v for k, v in loaded.model.config.to_dict().items() if k not in PRESENCE_FIELDS}
    ours = {k: v for k, v in model.config.to_dict().items() if k not in PRESENCE_FIELDS}  # type: ignore[operator]
    if theirs != ours:
        diff = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
        raise ConfigError(
            f"model.init_from {source!r} is another architecture than the recipe's model (differs in {', '.join(diff)})"
        )
    weights = {k: v for k, v in loaded.model.state_dict().items() if not k.startswith("presence.")}
    model.load_state_dict(weights, strict=not getattr(model, "has_presence", False))
    return {
        "source": source,
        "sha256": sha256_file(loaded.path),
        "epoch": loaded.meta.get("epoch"),
        "val_nme": loaded.meta.get("val_nme"),
    }


def train(recipe: TrainRecipe, out: str | Path, resume: bool = False) -> dict[str, Any]:
    """Train ``recipe`` into the run directory ``out``; torch's thread count is put back afterwards."""
    threads = recipe.threads or os.cpu_count() or 1
    with torch_threads(threads):
        return _train(recipe, Path(out), resume, threads)


def _train(recipe: TrainRecipe, out: Path, resume: bool, threads: int) -> dict[str, Any]:
    from edgekp.lineage.plain_format import save_model
    from edgekp.models import create_model

    device = pick_device(recipe.device)
    dist = init_distributed(device)
    torch.manual_seed(recipe.seed)
    run = _open_run(out, recipe, resume, threads) if dist.is_main else RunDir(out, "train")
    try:
        data = build_training_data(recipe)
        model = create_model(
            recipe.model.name,
            num_points=recipe.model.num_points,
            input_size=recipe.model.input_size,
            **recipe.model.overrides,
        ).to(device)
        if recipe.model.init_from and not resume:  # a resumed run's checkpoint holds the weights
            warm = warm_start(model, recipe.model.init_from)
            if dist.is_main:
                run.update(init_from=warm)
        meta = model_meta(recipe, data.scheme.name)

        def save_best(best_model: torch.nn.Module, info: dict[str, Any]) -> None:
            save_model(out / MODEL_FILE, best_model, {**meta, "val_nme": info["val"]["nme"], "epoch": info["epoch"]})

        settings = FitSettings(
            recipe.loss, recipe.optim, recipe.augment, recipe.balance, recipe.seed, recipe.model.input_size
        )
        trainer = Trainer(model, data, settings, out, save_best, device=device, dist=dist)
        if dist.is_main:
            # The first epoch's balance (per dataset and |yaw| bin, before/after) is known before training starts.
            _check_same_faces(run, data.summary, out)
            run.update(data=data.summary, balance_plan=trainer.epoch_plan(0)[3])
        result = trainer.fit(resume=resume, budget_min=recipe.optim.time_budget_min)
    except BaseException:
        if dist.is_main:
            run.finish(status="failed")
        shutdown(dist)
        raise
    shutdown(dist)
    summary = {
        "run": str(out),
        "best_val_nme": result.best_nme,
        "best_epoch": result.best_epoch,
        "epochs": result.epochs_run,
        "stop_reason": result.stop_reason,
        "normalization": trainer.val_norm,
        "selected_by": data.select or "all validation faces",
    }
    if dist.is_main:
        best_val = next((r for r in result.history if r["epoch"] == result.best_epoch), {})
        run.finish(
            status="ok",
            result=summary,
            balance=result.balance,
            best_val={k: best_val.get(k) for k in ("val_nme", "val_nme_large", "val_nme_small")},
            artifacts={MODEL_FILE: sha256_file(out / MODEL_FILE)} if (out / MODEL_FILE).is_file() else {},
        )
    return summary
