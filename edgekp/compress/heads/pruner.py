"""``HeadPruner``: the prune stage of the compression lifecycle (score -> remove -> fine-tune).

Heads go first (the schedule below); the recipe's ``structures`` (whole modules, MLP hidden channels)
are removed after the last head step, so one run can cut every structure the latency needs.

``prepare`` runs the schedule (one-shot, or iterative with brief fine-tuning between steps; with a
target it stops early) and returns the physically smaller model; the lifecycle then fine-tunes it
with the trainer's loop and two-part loss and writes the run directory.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from edgekp.compress.channels import check_block_removal, mlp_widths, remove_blocks, remove_mlp_channels
from edgekp.compress.heads.importance import ScoringContext, score_heads
from edgekp.compress.heads.plot import plot_head_scores
from edgekp.compress.heads.removal import choose_heads, head_counts, plan_quota, remove_heads
from edgekp.compress.lifecycle import Compressor, finetune_recipe, parent_train_recipe
from edgekp.config.loader import dump_recipe
from edgekp.config.prune import PruneRecipe, StructureSpec
from edgekp.config.train import TrainRecipe
from edgekp.errors import LineageError
from edgekp.files.atomic import atomic_write_json
from edgekp.files.hashes import sha256_json
from edgekp.lineage.run_dir import MODEL_FILE, RunDir
from edgekp.logs import get_logger
from edgekp.models.cost import count_flops, count_parameters, torch_latency
from edgekp.models.hvit import KeypointHVit
from edgekp.train.data import TrainingData
from edgekp.train.evaluate import predict_arrays, score
from edgekp.train.loop import FitSettings, Trainer

log = get_logger(__name__)

SCORES_FILE = "head_scores.json"
HEATMAP_FILE = "head_scores.png"
PRUNED_FILE = "pruned.pt"  # the model right after removal, before fine-tuning: lets --resume skip scoring


def cost(model: KeypointHVit) -> dict[str, int]:
    return {"heads": sum(head_counts(model).values()), "params": count_parameters(model), "flops": count_flops(model)}


def torch_latency_ms(model: nn.Module, input_size: int, repeats: int = 30, threads: int = 1) -> float:
    """Median 1-image forward time in ms with ``threads`` torch threads (5 warm-up calls, ``repeats`` timed)."""
    return float(torch_latency(model, input_size, runs=repeats, warmup=5, threads=threads)["p50_ms"])


def remove_structures(model: KeypointHVit, spec: StructureSpec) -> tuple[KeypointHVit, dict[str, Any]]:
    """The recipe's whole modules, then MLP hidden channels, removed from ``model`` (rebuilt from config);
    with the MLP widths before and after, for the manifest."""
    if not spec.any:
        return model, {}
    before = mlp_widths(model)
    if any(spec.blocks.values()):
        model = remove_blocks(model, spec.blocks)
    if spec.mlp_ratio:
        model = remove_mlp_channels(model, spec.mlp_ratio)
    if spec.fold_input_norm:
        from edgekp.models.reparam import fold_input_normalization

        model = fold_input_normalization(model)
        log.info("folded the input normalization into the first convolution (input_norm: folded)")
    after = mlp_widths(model)
    log.info(
        "removed modules %s and %.0f %% of MLP channels: %d -> %d MLP modules, %d -> %d hidden channels",
        dict(spec.blocks),
        100 * spec.mlp_ratio,
        len(before),
        len(after),
        sum(before.values()),
        sum(after.values()),
    )
    return model, {**spec.model_dump(mode="json"), "mlp_widths_before": before, "mlp_widths_after": after}


class HeadPruner(Compressor):
    kind = "prune"
    # qat is let through RunDir.open so that check_parent can say why it is refused, in one line.
    parent_kinds = ("train", "prune", "qat")

    def __init__(self, recipe: PruneRecipe) -> None:
        self.recipe = recipe
        self.fit_recipe: TrainRecipe | None = None
        self.extra: dict[str, Any] = {}

    # -- lineage ------------------------------------------------------------------------------
    def check_parent(self, parent: RunDir) -> None:
        from edgekp.lineage.plain_format import load_model

        if parent.kind == "qat":
            raise LineageError(
                f"{str(parent.path)!r} is a qat run: its weights are fake-quantized for int8; prune the float "
                "run it came from, then quantize the pruned run"
            )
        self.fit_recipe = finetune_recipe(parent_train_recipe(parent), self.recipe)
        # Refuse an impossible per_block ratio now, before a run directory is written.
        model, _ = load_model(parent.path / MODEL_FILE)
        r = self.recipe
        plan_quota(head_counts(model), r.ratio, r.scope, r.min_heads_per_block)
        check_block_removal(model, r.structures.blocks)  # an unknown stage or too many modules: refused now

    # -- the schedule -------------------------------------------------------------------------
    def prepare(self, model: nn.Module, data: TrainingData, out: Path) -> nn.Module:
        if not isinstance(model, KeypointHVit):
            raise TypeError(f"head pruning needs a KeypointHVit (got {type(model).__name__})")
        if self.fit_recipe is None:
            raise RuntimeError("check_parent must run before prepare")
        cached = self._load_cached(out, model)
        if cached is not None:
            return cached
        r, size = self.recipe, model.config.input_size
        original = head_counts(model)
        quota = plan_quota(original, r.ratio, r.scope, r.min_heads_per_block)
        ctx = ScoringContext(data.train, data.scheme, self.fit_recipe.loss, self.fit_recipe.augment, size, r.seed)
        before = cost(model)
        baseline = self._measure(model, data) if r.target else None
        n_steps = r.steps if (r.schedule == "iterative" or r.target) else 1
        # Original head index of each surviving head, per block, so the manifest names heads of the parent.
        index_map = {name: list(range(h)) for name, h in original.items()}
        removed: dict[str, list[int]] = {name: [] for name in original}
        steps: list[dict[str, Any]] = []
        first_scores: dict[str, list[float]] = {}
        current, stop_reason, floor_kept = model, "ratio reached", 0
        for step in range(1, n_steps + 1):
            scores = score_heads(current, r.importance, dataclasses.replace(ctx, seed=r.seed + step - 1), r.scoring)
            if step == 1:
                first_scores = {n: s.tolist() for n, s in scores.items()}
            removal, floor_kept = choose_heads(
                scores, head_counts(current), original, quota, step / n_steps, r.min_heads_per_block
            )
            candidate = remove_heads(current, removal) if any(removal.values()) else current
            if r.schedule == "iterative" and step < n_steps and candidate is not current:
                self._brief_finetune(candidate, data, out / "steps" / f"step_{step}", size)
            row: dict[str, Any] = {
                "step": step,
                "scores": {n: s.tolist() for n, s in scores.items()},
                "removed": {n: [index_map[n][i] for i in idx] for n, idx in removal.items() if idx},
                "heads_left": sum(head_counts(candidate).values()),
            }
            if baseline is not None and r.target is not None:
                row.update(self._measure(candidate, data))
                row["nme_rise_pct"] = 100.0 * (row["val_nme"] / baseline["val_nme"] - 1.0)
                row["latency_drop_pct"] = 100.0 * (1.0 - row["latency_ms"] / baseline["latency_ms"])
                if r.target.nme_rise_pct is not None and row["nme_rise_pct"] > r.target.nme_rise_pct:
                    row["undone"] = True
                    steps.append(row)
                    stop_reason = f"NME rise {row['nme_rise_pct']:.2f}% > {r.target.nme_rise_pct}%: step {step} undone"
                    break
            steps.append(row)
            for n, idx in removal.items():
                removed[n].extend(index_map[n][i] for i in idx)
                index_map[n] = [o for i, o in enumerate(index_map[n]) if i not in set(idx)]
            current = candidate
            if (
                baseline is not None
                and r.target is not None
                and r.target.latency_drop_pct is not None
                and row["latency_drop_pct"] >= r.target.latency_drop_pct
            ):
                stop_reason = f"latency drop {row['latency_drop_pct']:.1f}% >= {r.target.latency_drop_pct}%"
                break
        current, structures = remove_structures(current, r.structures)
        after = cost(current)
        removed = {n: sorted(v) for n, v in removed.items() if v}
        if floor_kept:
            log.warning("min_heads_per_block kept %d heads the global ratio would have removed", floor_kept)
        self.extra = {
            "method": "attention-head pruning",
            "importance": r.importance,
            "scope": r.scope,
            "schedule": r.schedule,
            "ratio": r.ratio,
            "min_heads_per_block": r.min_heads_per_block,
            "requested_heads": quota.total,
            "removed_heads": removed,
            "removed_total": sum(len(v) for v in removed.values()),
            "kept_by_floor": floor_kept,
            "stop_reason": stop_reason,
            "structures": structures,
            "heads_before": original,
            "heads_after": head_counts(current),
            "before": before,
            "after": after,
            "baseline": baseline,
            "steps": [{k: v for k, v in s.items() if k != "scores"} for s in steps],
            "flops_convention": "torch FlopCounterMode: 2 FLOPs per multiply-add, matmul/conv only",
        }
        self._write_scores(out, first_scores, steps, removed)
        self.save_model(current, out / PRUNED_FILE, {"recipe_hash": self._recipe_hash(), "compression": self.extra})
        log.info(
            "pruned %d of %d heads: %d -> %d params, %.1f -> %.1f MFLOPs (%s)",
            self.extra["removed_total"],
            before["heads"],
            before["params"],
            after["params"],
            before["flops"] / 1e6,
            after["flops"] / 1e6,
            stop_reason,
        )
        return current

    def manifest_extra(self) -> dict[str, Any]:
        return self.extra

    # -- helpers ------------------------------------------------------------------------------
    def _recipe_hash(self) -> str:
        return sha256_json(dump_recipe(self.recipe))

    def _load_cached(self, out: Path, model: KeypointHVit) -> nn.Module | None:
        from edgekp.lineage.plain_format import load_model

        path = out / PRUNED_FILE
        if not path.is_file():
            return None
        pruned, meta = load_model(path)
        if meta.get("recipe_hash") != self._recipe_hash():
            return None  # written by another recipe: prune again rather than reuse it
        self.extra = dict(meta.get("compression") or {})
        log.info("reusing the pruned model in %s (same recipe)", path)
        return pruned.to(next(model.parameters()).device)

    def _measure(self, model: nn.Module, data: TrainingData) -> dict[str, float]:
        assert self.recipe.target is not None  # only called with a target
        t = self.recipe.target
        val = data.val.subset(np.arange(min(t.val_faces, len(data.val))))
        pred = predict_arrays(model, val.images, device=next(model.parameters()).device)
        nme = float(score(pred, val.points, data.scheme)["nme"])
        size = int(model.input_size)
        return {"val_nme": nme, "latency_ms": torch_latency_ms(model, size, t.latency_repeats)}

    def _brief_finetune(self, model: nn.Module, data: TrainingData, out_dir: Path, input_size: int) -> None:
        assert self.fit_recipe is not None
        f, r = self.fit_recipe, self.recipe
        settings = FitSettings(f.loss, r.step_finetune, f.augment, f.balance, r.seed, input_size)
        best: dict[str, Any] = {}

        def keep(m: nn.Module, info: dict[str, Any]) -> None:
            best["state"] = {k: v.detach().clone() for k, v in m.state_dict().items()}

        device = next(model.parameters()).device
        Trainer(model, data, settings, out_dir, keep, device=device).fit(budget_min=r.step_finetune.time_budget_min)
        if best:
            model.load_state_dict(best["state"])

    def _write_scores(
        self, out: Path, first: dict[str, list[float]], steps: list[dict[str, Any]], removed: dict[str, list[int]]
    ) -> None:
        r = self.recipe
        atomic_write_json(
            out / SCORES_FILE,
            {
                "importance": r.importance,
                "normalization": "per layer, L2 norm 1",
                "scoring": r.scoring.model_dump(mode="json"),
                "layers": [{"name": n, "scores": s, "removed": removed.get(n, [])} for n, s in first.items()],
                "steps": [{"step": s["step"], "scores": s["scores"], "removed": s["removed"]} for s in steps],
            },
        )
        try:
            plot_head_scores(
                first,
                removed,
                out / HEATMAP_FILE,
                f"{r.importance} head importance; {sum(len(v) for v in removed.values())} removed",
            )
        except ImportError:
            log.warning("matplotlib is not installed: %s not drawn (scores are in %s)", HEATMAP_FILE, SCORES_FILE)


def prune(
    recipe: PruneRecipe, parent_dir: str | Path, out: str | Path, resume: bool = False, data: TrainingData | None = None
) -> dict[str, Any]:
    """Run the prune stage: ``parent_dir`` (a train or prune run) -> ``out`` (a prune run directory)."""
    from edgekp.compress.lifecycle import compress

    pruner = HeadPruner(recipe)
    summary = compress(pruner, recipe, parent_dir, out, resume=resume, data=data)
    extra = pruner.extra
    return {
        **summary,
        "removed_total": extra.get("removed_total"),
        "heads_before": extra.get("before", {}).get("heads"),
        "heads_after": extra.get("after", {}).get("heads"),
        "before": extra.get("before"),
        "after": extra.get("after"),
    }
