"""One training per *lever*: a named set of recipe overrides applied to one base recipe, each run
into ``<out>/<lever>`` with the same seed and time budget, so runs differ only by the lever.

A lever file (YAML) declares them as data::

    base: recipes/train/kp_hvit_s_merlrav.yaml     # relative to the lever file's folder, or absolute
    levers:
      - {name: baseline, what: the recipe as committed}
      - {name: loss_l1, what: L1 instead of Wing, set: {loss.type: l1}}
      - {name: loss_rle, what: RLE, set: {loss.type: rle}, optional: true}

``set`` maps dotted recipe keys to values (as ``--set key=value`` does). An ``optional`` lever
whose recipe today's schema or model registry refuses (a loss or head not built yet) is listed as
unavailable instead of failing the sweep. Every lever is validated before the first training starts.

Reuse: a finished run is kept; an interrupted one (or one stopped by a time budget that has since
grown) is resumed with ``edgekp train --resume`` semantics: only run-control fields may differ
(device, threads, workers, optim.time_budget_min). Nothing else may train the same folders meanwhile.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgekp.config.loader import apply_overrides, load_recipe_data, read_yaml
from edgekp.config.train import TrainRecipe
from edgekp.errors import ConfigError, EdgeKPError, LineageError
from edgekp.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Lever:
    name: str
    overrides: tuple[str, ...] = ()  # "key.sub=value", value in YAML (JSON) syntax
    what: str = ""
    optional: bool = False


@dataclass(frozen=True)
class LeverFile:
    base: Path
    levers: tuple[Lever, ...]


@dataclass(frozen=True)
class RunControl:
    """The fields a resume may change, applied to every lever alike (None: keep the recipe's)."""

    device: str | None = None
    threads: int | None = None
    workers: int | None = None
    time_budget_min: float | None = None

    def overrides(self) -> list[str]:
        pairs = (
            ("device", self.device),
            ("threads", self.threads),
            ("workers", self.workers),
            ("optim.time_budget_min", self.time_budget_min),
        )
        return [f"{key}={json.dumps(value)}" for key, value in pairs if value is not None]


@dataclass(frozen=True)
class PlannedRun:
    lever: Lever
    out: Path
    action: str  # train | resume | done | unavailable
    recipe: TrainRecipe | None = None
    note: str = ""


@dataclass(frozen=True)
class SweepSettings:
    out: Path
    common: tuple[str, ...] = ()  # --set overrides for every lever (data.root, seed, ...), before the lever's own
    control: RunControl = field(default_factory=RunControl)
    reuse: bool = False


def _override(key: str, value: Any) -> str:
    return f"{key}={json.dumps(value)}"


def load_lever_file(path: str | Path) -> LeverFile:
    path = Path(path)
    data = read_yaml(path) if path.suffix in (".yaml", ".yml") else None
    if not isinstance(data, dict) or not isinstance(data.get("levers"), list) or "base" not in data:
        raise ConfigError(
            f"lever file {str(path)!r} must be a mapping with 'base:' (a train recipe) and 'levers:' (a list)"
        )
    levers, seen = [], set()
    for i, item in enumerate(data["levers"]):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ConfigError(f"{path}: levers[{i}] needs a 'name:'")
        unknown = set(item) - {"name", "what", "set", "optional"}
        if unknown:
            raise ConfigError(f"{path}: lever {item['name']!r} has unknown keys: {', '.join(sorted(unknown))}")
        name = item["name"]
        if name in seen or not name.replace("_", "").replace("-", "").replace(".", "").isalnum():
            raise ConfigError(f"{path}: lever name {name!r} repeats or is not a plain folder name")
        seen.add(name)
        sets = item.get("set") or {}
        if not isinstance(sets, dict):
            raise ConfigError(f"{path}: lever {name!r}: 'set:' must map recipe keys to values")
        levers.append(
            Lever(
                name,
                tuple(_override(k, v) for k, v in sets.items()),
                str(item.get("what", "")),
                bool(item.get("optional")),
            )
        )
    base = Path(str(data["base"])).expanduser()
    return LeverFile(base if base.is_absolute() else (path.parent / base).resolve(), tuple(levers))


def select_levers(levers: Sequence[Lever], only: str | None) -> list[Lever]:
    """``only``: comma-separated lever names, in the order given; None: all of them."""
    if not only:
        return list(levers)
    by_name = {lever.name: lever for lever in levers}
    names = [n.strip() for n in only.split(",") if n.strip()]
    missing = [n for n in names if n not in by_name]
    if missing:
        raise ConfigError(f"unknown lever(s): {', '.join(missing)} (declared: {', '.join(by_name)})")
    return [by_name[n] for n in names]


def lever_recipe(base: Path, lever: Lever, settings: SweepSettings) -> TrainRecipe:
    """base recipe <- common overrides <- the lever's <- run control; the architecture is checked too."""
    from edgekp.models.registry import model_config

    data = apply_overrides(read_yaml(base), [*settings.common, *lever.overrides, *settings.control.overrides()])
    recipe = load_recipe_data(data, f"lever {lever.name}", expect=TrainRecipe)
    m = recipe.model
    try:
        model_config(m.name, input_size=m.input_size, num_points=m.num_points, **m.overrides)
    except TypeError as exc:  # an unknown config field
        raise ConfigError(f"lever {lever.name}: model.overrides: {exc}") from None
    return recipe


def _finished_action(out: Path, recipe: TrainRecipe) -> tuple[str, str]:
    manifest = json.loads((out / "manifest.json").read_text())
    result = manifest.get("result") or {}
    if manifest.get("status") != "ok" or not result:
        return "resume", f"interrupted ({manifest.get('status')}); resuming from its last checkpoint"
    if result.get("stop_reason") == "time_budget":
        before = (manifest.get("recipe") or {}).get("optim", {}).get("time_budget_min")
        now = recipe.optim.time_budget_min
        if before is not None and (now is None or now > before):
            return (
                "resume",
                f"stopped by its {before:g} min budget; continuing under "
                f"{'no budget' if now is None else f'{now:g} min'}",
            )
    return "done", f"finished ({result.get('stop_reason')})"


def plan_sweep(lever_file: LeverFile, levers: Sequence[Lever], settings: SweepSettings) -> list[PlannedRun]:
    """Validate every lever and decide what each needs, before anything trains (a bad lever fails here)."""
    from edgekp.train.run import check_resumable

    plan = []
    for lever in levers:
        out = settings.out / lever.name
        try:
            recipe = lever_recipe(lever_file.base, lever, settings)
        except ConfigError as exc:
            if not lever.optional:
                raise
            plan.append(PlannedRun(lever, out, "unavailable", note=str(exc).splitlines()[0][:160]))
            continue
        if not (out / "manifest.json").is_file():
            plan.append(PlannedRun(lever, out, "train", recipe))
            continue
        if not settings.reuse:
            raise LineageError(
                f"{str(out)!r} already holds lever {lever.name!r}; pass --reuse to keep or resume it, or another --out"
            )
        check_resumable(out, recipe)  # a lever redefined since its run: refuse, do not mix recipes
        action, note = _finished_action(out, recipe)
        plan.append(PlannedRun(lever, out, action, recipe, note))
    return plan


def _subprocess_sweep(todo: Sequence[PlannedRun], jobs: int) -> dict[str, str]:
    """Up to ``jobs`` levers at once, each an ``edgekp train`` process with its share of the CPU threads
    (augmentation runs on the CPU, so one small model leaves a GPU mostly idle). Logs: <out>/<lever>.log."""
    import os
    import subprocess
    import sys
    import time

    import yaml

    from edgekp.config.loader import dump_recipe

    share = max(1, (os.cpu_count() or 1) // jobs)
    waiting, running, failures = list(todo), [], {}
    while waiting or running:
        while waiting and len(running) < jobs:
            item = waiting.pop(0)
            assert item.recipe is not None
            recipe = (
                item.recipe if item.recipe.threads is not None else item.recipe.model_copy(update={"threads": share})
            )
            path = item.out.parent / "_recipes" / f"{item.lever.name}.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(yaml.safe_dump(dump_recipe(recipe), sort_keys=False))
            cmd = [sys.executable, "-m", "edgekp", "train", "--recipe", str(path), "--out", str(item.out)]
            cmd += ["--resume"] if item.action == "resume" else []
            log_path = item.out.parent / f"{item.lever.name}.log"
            log.info("lever %s: %s in a subprocess (log %s)", item.lever.name, item.action, log_path)
            with log_path.open("a") as fh:
                running.append((item, log_path, subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT)))
        for entry in list(running):
            item, log_path, proc = entry
            if proc.poll() is None:
                continue
            running.remove(entry)
            if proc.returncode != 0:
                lines = [x for x in log_path.read_text(errors="replace").splitlines() if x.strip()]
                failures[item.lever.name] = (lines[-1] if lines else f"exit {proc.returncode}")[:300]
                log.error("lever %s failed: %s", item.lever.name, failures[item.lever.name])
        time.sleep(1.0)
    return failures


def run_sweep(plan: Sequence[PlannedRun], jobs: int = 1) -> dict[str, str]:
    """Train or resume each planned run (in order, or ``jobs`` at once in subprocesses); {lever: error}
    for those that failed (the rest still run)."""
    from edgekp.train.run import train

    for item in plan:
        item.out.parent.mkdir(parents=True, exist_ok=True)
    if jobs > 1:
        return _subprocess_sweep([p for p in plan if p.action in ("train", "resume") and p.recipe is not None], jobs)
    failures: dict[str, str] = {}
    for item in plan:
        if item.action in ("train", "resume") and item.recipe is not None:
            log.info(
                "lever %s: %s into %s%s", item.lever.name, item.action, item.out, f" ({item.note})" if item.note else ""
            )
            try:
                train(item.recipe, item.out, resume=item.action == "resume")
            except EdgeKPError as exc:  # one lever's data or numerics problem must not cost the others their run
                failures[item.lever.name] = str(exc).splitlines()[0]
                log.error("lever %s failed: %s", item.lever.name, failures[item.lever.name])
    return failures
