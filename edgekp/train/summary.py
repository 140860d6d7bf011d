"""What a training run directory says about itself, read back without training: epochs, the chosen
epoch, why it stopped, and each named validation set's NME (overall and per |yaw| bin) at that epoch.

Works on finished runs (manifest ``result``) and on runs still going or interrupted (their
``history.csv``, the trainer's per-epoch record), so a sweep's table can be printed at any time.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from edgekp.data.pose import YAW_BIN_NAMES

BIN_NAMES = YAW_BIN_NAMES  # the sweep tables' column order


@dataclass(frozen=True)
class SetScore:
    """One validation set's figures at the chosen epoch, in the set's own normalization."""

    norm: str
    nme: float | None
    bins: dict[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class RunSummary:
    path: str
    status: str  # ok | running | failed | absent (no manifest)
    epochs: int
    best_epoch: int | None
    stop_reason: str  # converged | max_epochs | time_budget (finished); in progress | failed | not started
    select: str | None  # the validation set that picked the checkpoint (None: all faces pooled)
    sets: dict[str, SetScore] = field(default_factory=dict)
    params: int | None = None
    flops: int | None = None
    time_budget_min: float | None = None
    train_seconds: float = 0.0

    def nme(self, name: str, bin_name: str | None = None) -> float | None:
        score = self.sets.get(name)
        if score is None:
            return None
        return score.nme if bin_name is None else score.bins.get(bin_name)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _number(text: str | None) -> float | None:
    if text is None or text == "":
        return None
    value = float(text)
    return None if math.isnan(value) else value


def read_history(run_dir: Path) -> list[dict[str, Any]]:
    """history.csv as rows of numbers (empty cells -> None); [] when the run has no epoch yet."""
    path = run_dir / "history.csv"
    if not path.is_file():
        return []
    with path.open(newline="") as fh:
        return [{k: (v if k == "val_norm" else _number(v)) for k, v in row.items()} for row in csv.DictReader(fh)]


def best_row(history: list[dict[str, Any]], epoch: int | None = None) -> dict[str, Any] | None:
    """The row of ``epoch``, else the trainer's choice: the first epoch whose selected NME is the lowest
    (an improvement must beat the best by more than 1e-7, as in edgekp.train.loop)."""
    if epoch is not None:
        return next((r for r in history if r.get("epoch") is not None and int(r["epoch"]) == epoch), None)
    best: dict[str, Any] | None = None
    for row in history:
        value = row.get("val_nme")
        if value is not None and (best is None or value < best["val_nme"] - 1e-7):
            best = row
    return best


def validation_set_norms(manifest: dict[str, Any]) -> dict[str, str]:
    """{validation set name: normalization} of a run, from its manifest (or its recipe's data section)."""
    recorded = (manifest.get("data") or {}).get("val_sets")
    if recorded:
        return {str(s["name"]): str(s["norm"]) for s in recorded}
    from edgekp.config.data import DataSpec

    # A compression run's recipe has no data section; it fine-tuned on its parent's (carried as train_recipe).
    data = (manifest.get("recipe") or {}).get("data") or (manifest.get("train_recipe") or {}).get("data")
    try:
        return dict(DataSpec.model_validate(data).val_sets()) if data else {}
    except ValueError:
        return {}


def _scores(row: dict[str, Any] | None, norms: dict[str, str], fallback_norm: str) -> dict[str, SetScore]:
    if row is None:
        return {}
    out = {}
    for name, norm in norms.items():
        if f"val_nme[{name}]" in row:
            out[name] = SetScore(
                norm, row[f"val_nme[{name}]"], {b: row.get(f"val_nme[{name}][{b}]") for b in BIN_NAMES}
            )
    if not out:  # a run with one unnamed validation set: its pooled NME
        out["val"] = SetScore(str(row.get("val_norm") or fallback_norm), row.get("val_nme"), {})
    return out


def model_cost(recipe: dict[str, Any]) -> tuple[int | None, int | None]:
    """(parameters, FLOPs at the recipe's input size) of the architecture the recipe builds; no weights needed."""
    from edgekp.models import count_flops, count_parameters, create_model

    model_spec = recipe.get("model") or {}
    try:
        model = create_model(
            str(model_spec.get("name", "kp_hvit_s")),
            num_points=int(model_spec.get("num_points", 68)),
            input_size=int(model_spec.get("input_size", 128)),
            **dict(model_spec.get("overrides") or {}),
        )
    except Exception:
        return None, None
    return count_parameters(model), count_flops(model)


def summarize_run(run_dir: str | Path, with_cost: bool = True) -> RunSummary:
    run_dir = Path(run_dir)
    manifest_path = run_dir / "manifest.json"
    if not manifest_path.is_file():
        return RunSummary(str(run_dir), "absent", 0, None, "not started", None)
    manifest = json.loads(manifest_path.read_text())
    history = read_history(run_dir)
    status = str(manifest.get("status") or "running")
    result = manifest.get("result") or {}
    recipe = manifest.get("recipe") or {}
    finished = status == "ok" and bool(result)
    chosen = result.get("best_epoch") if finished else None
    # best_epoch -1: a compression run that kept its model from before fine-tuning, which has no history row.
    best = result.get("before_finetune") if chosen == -1 else best_row(history, None if chosen is None else int(chosen))
    stop = str(result.get("stop_reason")) if finished else ("failed" if status == "failed" else "in progress")
    norms = validation_set_norms(manifest)
    select = (manifest.get("data") or {}).get("select", (recipe.get("data") or {}).get("select"))
    params, flops = model_cost(recipe) if with_cost else (None, None)
    return RunSummary(
        path=str(run_dir),
        status=status,
        epochs=len(history),
        best_epoch=None if best is None or best.get("epoch") is None else int(best["epoch"]),
        stop_reason=stop,
        select=select,
        sets=_scores(best, norms, "inter_ocular"),
        params=params,
        flops=flops,
        time_budget_min=(recipe.get("optim") or {}).get("time_budget_min"),
        train_seconds=float(sum(r.get("seconds") or 0.0 for r in history)),
    )
