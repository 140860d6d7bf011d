"""The table of a lever sweep: each planned run read back (edgekp.train.summary) and shown as one
row of epochs, chosen epoch, stop reason, each validation set's NME (box-normalized sets by |yaw|
bin), params and MFLOPs; or the same as JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edgekp.train.levers import PlannedRun
from edgekp.train.summary import BIN_NAMES, RunSummary, summarize_run


def summaries(plan: Sequence[PlannedRun]) -> list[tuple[PlannedRun, RunSummary]]:
    """Each planned run read back; a run not started yet still shows the params and FLOPs its recipe builds."""
    from dataclasses import replace

    from edgekp.config.loader import dump_recipe
    from edgekp.train.summary import model_cost

    out = []
    for item in plan:
        summary = summarize_run(item.out, with_cost=item.action != "unavailable")
        if summary.status == "absent" and item.recipe is not None:
            params, flops = model_cost(dump_recipe(item.recipe))
            summary = replace(summary, params=params, flops=flops)
        out.append((item, summary))
    return out


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def binned_sets(rows: Sequence[tuple[PlannedRun, RunSummary]]) -> tuple[list[str], list[str]]:
    """(every validation set in first-seen order, the sets shown by |yaw| bin: box-normalized ones, else
    the selected)."""
    names = list(dict.fromkeys(n for _, s in rows for n in s.sets))
    boxed = list(dict.fromkeys(n for _, s in rows for n, v in s.sets.items() if v.norm == "box"))
    chosen = boxed or list(dict.fromkeys(s.select for _, s in rows if s.select in names))
    return names, chosen


def lever_table(rows: Sequence[tuple[PlannedRun, RunSummary]], failures: dict[str, str]) -> str:
    names, binned = binned_sets(rows)
    norms = {n: v.norm for _, s in rows for n, v in s.sets.items()}
    head = ["lever", "epochs", "best epoch", "stop"]
    for name in names:
        head.append(f"{name} NME % ({norms[name].replace('_', '-')})")
        if name in binned:
            head += [f"{name} \\|yaw\\| {b}" for b in BIN_NAMES]
    head += ["params (M)", "MFLOPs", "what"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for item, s in rows:
        stop = (
            "unavailable"
            if item.action == "unavailable"
            else ("failed" if item.lever.name in failures else s.stop_reason)
        )
        cells = [item.lever.name, str(s.epochs), "-" if s.best_epoch is None else str(s.best_epoch), stop]
        for name in names:
            cells.append(_pct(s.nme(name)))
            if name in binned:
                cells += [_pct(s.nme(name, b)) for b in BIN_NAMES]
        cells += [
            "-" if s.params is None else f"{s.params / 1e6:.3f}",
            "-" if s.flops is None else f"{s.flops / 1e6:.1f}",
            item.lever.what + (f" ({item.note})" if item.action == "unavailable" else ""),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "NME at each run's chosen epoch (the one its selected validation set picked); MFLOPs: one forward pass "
        "at the run's input size, 2 FLOPs per multiply-add, matmul/conv only (the TFLite-free latency proxy)."
    )
    lines += [f"- {name} failed: {why}" for name, why in failures.items()]
    return "\n".join(lines)


def as_json(rows: Sequence[tuple[PlannedRun, RunSummary]], failures: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "lever": item.lever.name,
            "what": item.lever.what,
            "overrides": list(item.lever.overrides),
            "action": item.action,
            "note": item.note,
            "error": failures.get(item.lever.name),
            **s.to_json(),
        }
        for item, s in rows
    ]
