"""The training loop: pose-balanced epochs, originals + expanded copies, the two-part loss,
validation NME every epoch, early stopping, atomic checkpoints and exact resume.

Every random draw derives from (seed, epoch, step), and checkpoints are taken at epoch ends, so a
resumed run repeats an uninterrupted one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from edgekp.artifacts import load_checkpoint, save_checkpoint
from edgekp.config.data import AugmentSpec, BalanceSpec
from edgekp.config.train import LossSpec, OptimSpec
from edgekp.errors import TrainingError
from edgekp.logs import get_logger, progress
from edgekp.train.data import TrainingData, weighted_pool
from edgekp.train.distributed import DistContext
from edgekp.train.ema import WeightEma
from edgekp.train.evaluate import predict_arrays, score, to_tensor_images
from edgekp.train.history import write_history
from edgekp.train.losses import jaw_scale, two_part_loss
from edgekp.train.schedule import LrSchedule

log = get_logger(__name__)

LAST = "last.pt"


@dataclass(frozen=True)
class FitSettings:
    loss: LossSpec
    optim: OptimSpec
    augment: AugmentSpec
    balance: BalanceSpec
    seed: int = 0
    input_size: int = 128


@dataclass
class FitResult:
    best_nme: float
    best_epoch: int
    epochs_run: int
    stop_reason: str
    history: list[dict[str, Any]] = field(default_factory=list)
    balance: dict[str, Any] = field(default_factory=dict)


def _seed_for(*parts: int) -> int:
    return int(np.random.SeedSequence(list(parts)).generate_state(1)[0])


def _param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """No weight decay on norms, biases, gates and position scales (1-D parameters)."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


class Trainer:
    """Fits any keypoint model (fresh, pruned or quantization-wrapped) with the two-part loss.

    ``save_best(model, meta)`` is called on rank 0 whenever validation NME improves, with the
    weights to ship (the EMA when enabled).
    """

    def __init__(
        self,
        model: nn.Module,
        data: TrainingData,
        settings: FitSettings,
        out_dir: Path,
        save_best: Callable[[nn.Module, dict[str, Any]], None],
        device: torch.device | None = None,
        dist: DistContext | None = None,
    ) -> None:
        from edgekp.data.augment import BatchAugmenter

        self.raw_model = model
        self.data = data
        self.s = settings
        self.out = Path(out_dir)
        self.save_best = save_best
        self.device = device or torch.device("cpu")
        self.dist = dist or DistContext()
        self.model: nn.Module = model
        if self.dist.enabled:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            self.model = DistributedDataParallel(model, device_ids=ids)
        self.augmenter = BatchAugmenter(settings.augment, data.scheme)
        self.point_scale = jaw_scale(data.scheme, settings.loss.jaw_weight)
        self.optimizer = torch.optim.AdamW(_param_groups(model, settings.optim.weight_decay), lr=settings.optim.lr)
        self.ema = WeightEma(model, settings.optim.ema_decay) if settings.optim.ema_decay else None
        self._last_plan: tuple[int, tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]] | None = None
        self.is_large = self._large_mask(data.train.poses)
        # The cosine's length comes from epoch 0's real plan: an upper bound (twice the pool when
        # balancing) stretched it, and balanced runs ended at a third of the peak rate, not at 2 %.
        self.schedule = LrSchedule(self.optimizer, settings.optim, self.batches_per_epoch(len(self.epoch_plan(0)[0])))
        # The normalization of the NME that picks checkpoints: the selected set's, else the (single) one of all sets.
        chosen = [v for v in data.val_sets if v.name == data.select] or data.val_sets[:1]
        self.val_norm = chosen[0].norm if chosen else "inter_ocular"
        self.val_large = self._large_mask(data.val.poses)

    def _large_mask(self, poses: np.ndarray) -> np.ndarray:
        from edgekp.data.balance import is_large_pose

        return is_large_pose(poses, self.s.balance)

    def batches_per_epoch(self, samples: int) -> int:
        """Optimizer steps for an epoch of ``samples``: a tiny last batch is dropped, since batch-norm
        statistics from a handful of faces are noise."""
        bs = self.s.optim.batch_size
        return max(1, samples // bs + (1 if samples % bs >= bs // 2 else 0))

    def epoch_plan(self, epoch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """(indices, roll_deg, augment_mask, counts) for one epoch, identical on every rank. The last
        plan is kept: the run records epoch 0's counts before training, and epoch 0 then reuses them."""
        if self._last_plan is not None and self._last_plan[0] == epoch:
            return self._last_plan[1]
        plan = self._make_plan(epoch)
        self._last_plan = (epoch, plan)
        return plan

    def _make_plan(self, epoch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        from edgekp.data.balance import plan_balance

        rng = np.random.default_rng(_seed_for(self.s.seed, epoch, 1))
        pool = weighted_pool(self.data.train.dataset, self.data.dataset_weights, rng)
        if not self.s.balance.enabled:
            order = rng.permutation(pool)
            zeros = np.zeros(len(order))
            return order, zeros, zeros.astype(bool), {"balance": "disabled", "total": len(order)}
        plan = plan_balance(self.is_large[pool], self.s.balance, rng, poses=self.data.train.poses[pool])
        counts = {
            "before": plan.counts_before,
            "after": plan.counts_after,
            **self._bin_counts(pool, pool[plan.indices]),
        }
        return (
            pool[plan.indices],
            np.asarray(plan.roll_deg, dtype=np.float32),
            np.asarray(plan.augment, dtype=bool),
            counts,
        )

    def _bin_counts(self, before: np.ndarray, after: np.ndarray) -> dict[str, Any]:
        """Samples per dataset and |yaw| bin, before (the weighted pool) and after balancing."""
        from edgekp.data.balance import counts_by_dataset

        t, names = (
            self.data.train,
            self.data.dataset_names or [str(i) for i in range(int(self.data.train.dataset.max()) + 1)],
        )
        return {
            "yaw_bins_before": counts_by_dataset(t.poses[before], t.dataset[before], names),
            "yaw_bins_after": counts_by_dataset(t.poses[after], t.dataset[after], names),
        }

    def _batch(
        self, index: np.ndarray, roll: np.ndarray, synth: np.ndarray, gen: torch.Generator
    ) -> tuple[torch.Tensor, ...]:
        images = to_tensor_images(self.data.train.images[index])
        points = torch.from_numpy(self.data.train.points[index])
        vis = torch.from_numpy(self.data.train.visibility[index])  # type: ignore[index]
        if synth.any():
            # Oversampled or rotated copies get their own augmentation so they are not duplicates.
            sel = torch.from_numpy(np.flatnonzero(synth))
            extra = self.augmenter(
                images[sel], points[sel], gen, roll_deg=torch.from_numpy(roll[synth]), visibility=vis[sel]
            )
            images[sel], points[sel], vis[sel] = extra.images, extra.points, extra.visibility
        expanded = self.augmenter(images, points, gen, visibility=vis)
        return images, points, vis, expanded.images, expanded.points, expanded.visibility

    def _train_epoch(self, epoch: int) -> dict[str, Any]:
        index, roll, synth, counts = self.epoch_plan(epoch)
        torch.manual_seed(_seed_for(self.s.seed, epoch, 2))
        bs = self.s.optim.batch_size
        n_batches = self.batches_per_epoch(len(index))
        self.model.train()
        totals = np.zeros(3)
        seen, start = 0, time.perf_counter()
        lr = self.schedule.apply()
        for b in progress(range(n_batches), desc=f"epoch {epoch}", total=n_batches):
            sl = slice(b * bs, min((b + 1) * bs, len(index)))
            shard = np.arange(sl.start, sl.stop)[self.dist.rank :: self.dist.world_size]
            gen = torch.Generator().manual_seed(_seed_for(self.s.seed, epoch, 3, b, self.dist.rank))
            images, points, vis, exp_images, exp_points, exp_vis = self._batch(
                index[shard], roll[shard], synth[shard], gen
            )
            n = len(images)
            inputs = torch.cat([images, exp_images]).to(self.device)
            pred = self.model(inputs)
            parts = two_part_loss(
                pred[:n],
                points.to(self.device),
                pred[n:],
                exp_points.to(self.device),
                self.s.loss,
                self.s.input_size,
                visibility_original=vis.to(self.device),
                visibility_expanded=exp_vis.to(self.device),
                point_scale=self.point_scale,
            )
            if not torch.isfinite(parts.total):
                raise TrainingError(
                    f"the loss became non-finite at epoch {epoch}, batch {b}; the last good checkpoint "
                    f"({self.out / LAST}) is intact; lower optim.lr or set optim.grad_clip"
                )
            self.optimizer.zero_grad(set_to_none=True)
            parts.total.backward()
            if self.s.optim.grad_clip:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.s.optim.grad_clip)
            self.optimizer.step()
            self.schedule.step_batch()
            lr = self.schedule.apply()
            if self.ema is not None:
                self.ema.update(self.raw_model)
            totals += [parts.total.item() * n, parts.first.item() * n, parts.second.item() * n]
            seen += n
        seconds = time.perf_counter() - start
        loss, first, second = (totals / max(seen, 1)).tolist()
        return {
            "lr": lr,
            "loss": loss,
            "loss_first": first,
            "loss_second": second,
            "samples_per_s": seen * self.dist.world_size / max(seconds, 1e-9),
            "seconds": seconds,
            "counts": counts,
        }

    def eval_model(self) -> nn.Module:
        return self.ema.model if self.ema is not None else self.raw_model

    def validate(self) -> dict[str, Any]:
        """Every validation set scored with its own normalization, by pose and |yaw| bin; ``nme`` (and
        nme_large/small, norm) are those of the selected set, or of all faces pooled without a selection."""
        val = self.data.val
        pred = predict_arrays(self.eval_model(), val.images, device=self.device)
        sets = {
            v.name: score(
                pred[v.index],
                val.points[v.index],
                self.data.scheme,
                is_large=self.val_large[v.index],
                norm=v.norm,
                yaw=val.poses[v.index, 0],
                visibility=val.visibility[v.index],
            )  # type: ignore[index]
            for v in self.data.val_sets
        }
        if self.data.select is not None:
            chosen = dict(sets[self.data.select])
        else:
            norm = self.data.val_sets[0].norm if self.data.val_sets else "inter_ocular"
            chosen = score(
                pred,
                val.points,
                self.data.scheme,
                is_large=self.val_large,
                norm=norm,
                yaw=val.poses[:, 0],
                visibility=val.visibility,
            )
        chosen["select"] = self.data.select or "all"
        if len(sets) > 1 or self.data.select is not None:
            chosen["sets"] = sets
        return chosen

    @staticmethod
    def set_columns(val: dict[str, Any]) -> dict[str, Any]:
        """History columns per validation set: its NME and its NME per |yaw| bin (each in the set's normalization)."""
        cols: dict[str, Any] = {}
        for name, v in val.get("sets", {}).items():
            cols[f"val_nme[{name}]"] = v["nme"]
            cols.update({f"val_nme[{name}][{b}]": row["nme"] for b, row in v.get("by_yaw", {}).items()})
        return cols

    def _state(
        self, epoch: int, history: list[dict[str, Any]], best: dict[str, Any], bad: int, elapsed: float
    ) -> dict[str, Any]:
        return {
            "epoch": epoch,
            "model": self.raw_model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "ema": None if self.ema is None else self.ema.state_dict(),
            "history": history,
            "best": best,
            "bad_epochs": bad,
            "elapsed_s": elapsed,
        }

    def fit(
        self, resume: bool = False, budget_min: float | None = None, start_best: dict[str, Any] | None = None
    ) -> FitResult:
        """``start_best``: a validated starting point already saved by the caller (epoch -1: a compressed
        model before fine-tuning), which an epoch must beat to replace it."""
        history: list[dict[str, Any]] = []
        best: dict[str, Any] = dict(start_best) if start_best else {"nme": math.inf, "epoch": -1}
        bad, first_epoch, elapsed = 0, 0, 0.0
        last = self.out / LAST
        if resume and last.is_file():
            state = load_checkpoint(last)
            self.raw_model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.schedule.load_state_dict(state["schedule"])
            if self.ema is not None and state.get("ema") is not None:
                self.ema.load_state_dict(state["ema"])
            history, best, bad = list(state["history"]), dict(state["best"]), int(state["bad_epochs"])
            first_epoch, elapsed = int(state["epoch"]) + 1, float(state.get("elapsed_s", 0.0))
            log.info(
                "resuming from %s at epoch %d (best NME %.4f at epoch %d)",
                last,
                first_epoch,
                best["nme"],
                best["epoch"],
            )
        stop_reason, balance_counts = "max_epochs", {}
        budget_s = None if budget_min is None else budget_min * 60
        for epoch in range(first_epoch, self.s.optim.max_epochs):
            if bad >= self.s.optim.patience:
                stop_reason = "converged"
                break
            if budget_s is not None and elapsed >= budget_s:
                stop_reason = "time_budget"
                break
            stats = self._train_epoch(epoch)
            balance_counts = stats.pop("counts")
            val = self.validate()
            self.schedule.step_epoch(val["nme"])
            row = {
                "epoch": epoch,
                **stats,
                "val_nme": val["nme"],
                "val_nme_large": val.get("nme_large"),
                "val_nme_small": val.get("nme_small"),
                "val_norm": val.get("norm"),
                **self.set_columns(val),
            }
            history.append(row)
            improved = val["nme"] < best["nme"] - 1e-7
            if improved:
                best, bad = {"nme": val["nme"], "epoch": epoch, "val": val}, 0
            else:
                bad += 1
            elapsed += stats["seconds"]
            others = "".join(f", {name} {100 * v['nme']:.2f}% ({v['norm']})" for name, v in val.get("sets", {}).items())
            log.info(
                "epoch %d: loss %.4f (first %.4f, second %.4f), val NME %.2f%% (%s, %s)%s%s, %.0f samples/s",
                epoch,
                stats["loss"],
                stats["loss_first"],
                stats["loss_second"],
                100 * val["nme"],
                val.get("select", "all"),
                val.get("norm", "inter_ocular"),
                " (best)" if improved else "",
                others,
                stats["samples_per_s"],
            )
            if self.dist.is_main:
                if improved:
                    self.save_best(self.eval_model(), {"epoch": epoch, "val": val})
                save_checkpoint(last, self._state(epoch, history, best, bad, elapsed))
                write_history(history, self.out)
        else:
            if bad >= self.s.optim.patience:
                stop_reason = "converged"
        return FitResult(best["nme"], best["epoch"], len(history), stop_reason, history, balance_counts)
