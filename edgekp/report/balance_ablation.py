"""The patent's ablation: the same recipe trained with pose balancing on and off (levers `baseline`
and `balance_off` of benchmarks/train_levers.yaml, same seed and time budget), then the box NME of
the box-normalized validation set (MERL-RAV test) per |yaw| bin for both, the difference, and a
sentence derived from those numbers: does balancing help large poses, and what does it cost small ones?

    python -m benchmarks.balance_ablation --data-root ../shared/data --device auto --budget-min 120 --reuse
    python -m benchmarks.balance_ablation --table      # train nothing: compare the two runs already there
    python -m benchmarks.balance_ablation --table --paired   # + face-by-face differences with 95 % intervals

Without --paired the figures are each run's validation history at its chosen epoch and a change
under 1 % relative is called "about the same". With --paired both models are re-scored on the same
faces and a bin counts as changed only when the 95 % interval of the mean per-face difference
excludes zero.

It shares its runs with benchmarks/train_levers.py (same --out, default runs/levers): with --reuse, whichever
script ran first trained them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from edgekp.errors import ConfigError
from edgekp.train.lever_command import DEFAULT_LEVERS, add_common, guarded, lever_file_of, run_levers
from edgekp.train.lever_table import as_json, binned_sets, summaries
from edgekp.train.levers import select_levers
from edgekp.train.summary import BIN_NAMES, RunSummary

ON, OFF = "baseline", "balance_off"
LARGE_BINS = ("30-60", "60-90")
SMALL_BIN = "0-30"
TOLERANCE = 0.01  # without per-face figures, a relative change below 1 % is called "about the same"


def _bin_faces(run_dir: Path, name: str) -> dict[str, int]:
    manifest = json.loads((run_dir / "manifest.json").read_text()) if (run_dir / "manifest.json").is_file() else {}
    return dict(((manifest.get("data") or {}).get("yaw_bins") or {}).get("val", {}).get(name) or {})


def compare(on: RunSummary, off: RunSummary, name: str) -> list[dict[str, Any]]:
    """One row per |yaw| bin and overall: NME with balance off, on, the difference and its relative size."""
    rows = []
    for label in (*BIN_NAMES, "all"):
        key = None if label == "all" else label
        a, b = off.nme(name, key), on.nme(name, key)
        diff = None if a is None or b is None else b - a
        rows.append(
            {"bin": label, "off": a, "on": b, "diff": diff, "relative": None if diff is None or not a else diff / a}
        )
    return rows


def paired_rows(on_run: Path, off_run: Path, recipe: Any, name: str) -> list[dict[str, Any]]:
    """compare()'s rows from both models re-scored face by face on the validation set ``name``, with 95 % intervals."""
    from edgekp.bench.paired import paired_bins, per_face_errors

    entry = next((v for v in recipe.data.val if v.label == name), None)
    if entry is None:
        raise ConfigError(f"--paired needs {name!r} to be one of the recipe's data.val sets (a held-out split is not)")
    data, norm = recipe.data.resolve(entry.path), entry.norm
    kwargs = {"format": entry.format, "norm": norm, "min_labelled": recipe.data.min_labelled_points}
    off, on = (per_face_errors(run / "model.pt", data, **kwargs) for run in (off_run, on_run))
    rows = []
    for label, b in paired_bins(off, on).items():
        rel = None if b["diff"] is None or not b["a"] else b["diff"] / b["a"]
        rows.append(
            {
                "bin": label,
                "off": b["a"],
                "on": b["b"],
                "diff": b["diff"],
                "relative": rel,
                "ci95": b["ci95"],
                "n": b["n"],
            }
        )
    return rows


def _sign(row: dict[str, Any]) -> str:
    """'-' lower with balancing, '+' higher, '=' not told apart (the 95 % interval holds 0, or under 1 %
    without one)."""
    if row.get("ci95") is not None:
        return "-" if row["diff"] + row["ci95"] < 0 else "+" if row["diff"] - row["ci95"] > 0 else "="
    return "=" if abs(row["relative"]) < TOLERANCE else "-" if row["relative"] < 0 else "+"


def _change(row: dict[str, Any]) -> str:
    rel = row["relative"]
    if rel is None:
        return "cannot be compared"
    how = {"=": "about the same", "-": "lower", "+": "higher"}[_sign(row)]
    ci = (
        f", difference {100 * row['diff']:+.2f} +- {100 * row['ci95']:.2f} points (95 %)"
        if row.get("ci95") is not None
        else ""
    )
    return f"{how} ({100 * row['off']:.2f} % -> {100 * row['on']:.2f} %, {100 * rel:+.1f} % relative{ci})"


def verdict(rows: list[dict[str, Any]]) -> str:
    """The sentence, from the numbers: per large bin and the small bin, with a 1 % relative dead band."""
    by = {r["bin"]: r for r in rows}
    large = [by[b] for b in LARGE_BINS if by[b]["relative"] is not None]
    small = by[SMALL_BIN]
    if not large or small["relative"] is None:
        return "Pose balancing cannot be judged yet: a run or a |yaw| bin has no figure."
    signs = {_sign(r) for r in large}
    helps = {
        frozenset("-"): "helps large poses",
        frozenset("+"): "hurts large poses",
        frozenset("="): "makes no measurable difference to large poses",
    }.get(frozenset(signs), "has a mixed effect on large poses")
    rel, small_sign = small["relative"], _sign(small)
    if small_sign == "=":
        cost = "costs small poses nothing measurable"
    elif small_sign == "+":
        cost = f"costs small poses {100 * small['diff']:+.2f} NME points ({100 * rel:+.1f} % relative)"
    else:
        cost = f"helps small poses too ({100 * small['diff']:+.2f} NME points)"
    parts = "; ".join(f"|yaw| {r['bin']}: {_change(r)}" for r in large)
    return (
        f"Pose balancing {helps} and {cost}. Box NME with balancing vs without, {parts}; "
        f"|yaw| {SMALL_BIN}: {_change(small)}."
    )


def report(
    on: RunSummary, off: RunSummary, name: str, faces: dict[str, int], rows: list[dict[str, Any]] | None = None
) -> str:
    paired = rows is not None
    rows = rows if rows is not None else compare(on, off, name)
    how = "both models re-scored face by face" if paired else "each run's validation at its chosen epoch"
    lines = [
        f"pose-balance ablation on {name} ({on.sets[name].norm if name in on.sets else '?'}-normalized NME %, {how})",
        "",
        "| \\|yaw\\| | faces | balance off | balance on | on - off | relative |"
        + (" 95 % interval |" if paired else ""),
        "|---|---|---|---|---|---|" + ("---|" if paired else ""),
    ]
    for r in rows:
        n = r.get("n") or (sum(faces.get(b, 0) for b in BIN_NAMES) if r["bin"] == "all" else faces.get(r["bin"], 0))
        cells = [
            r["bin"],
            str(n or "-"),
            *("-" if v is None else f"{100 * v:.2f}" for v in (r["off"], r["on"])),
            "-" if r["diff"] is None else f"{100 * r['diff']:+.2f}",
            "-" if r["relative"] is None else f"{100 * r['relative']:+.1f} %",
        ]
        if paired:
            cells.append("-" if r.get("ci95") is None else f"+- {100 * r['ci95']:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    runs = (
        f"balance on: {on.epochs} epochs, best {on.best_epoch}, {on.stop_reason}, {on.train_seconds / 60:.1f} min; "
        f"balance off: {off.epochs} epochs, best {off.best_epoch}, {off.stop_reason}, {off.train_seconds / 60:.1f} min "
        "(one seed each: the seed-to-seed spread is not measured here)."
    )
    lines += ["", runs, "", verdict(rows)]
    return "\n".join(lines)


def main(argv: list[str] | None = None, doc: str = __doc__, default_levers: Path = DEFAULT_LEVERS) -> int:
    """benchmarks/balance_ablation.py: train (or reuse) the two levers, print the table and the verdict."""
    parser = argparse.ArgumentParser(
        description=doc.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_common(parser, default_levers=default_levers)
    parser.add_argument("--val-set", help="validation set to compare (default: the first box-normalized one)")
    parser.add_argument(
        "--paired", action="store_true", help="re-score both models face by face: differences with 95 %% intervals"
    )
    args = parser.parse_args(argv)

    def body() -> int:
        lever_file = lever_file_of(args)
        levers = select_levers(lever_file.levers, f"{ON},{OFF}")
        plan, failures = run_levers(args, levers, lever_file)
        recipes = {p.lever.name: p.recipe for p in plan}
        if (
            recipes[ON] is None
            or recipes[OFF] is None
            or not recipes[ON].balance.enabled
            or recipes[OFF].balance.enabled
        ):
            raise ConfigError(f"levers {ON!r} and {OFF!r} must train with balance.enabled true and false respectively")
        (on_item, on), (_, off) = summaries(plan)
        names, binned = binned_sets(summaries(plan))
        name = args.val_set or (binned or names or ["val"])[0]
        rows = paired_rows(on_item.out, plan[1].out, recipes[ON], name) if args.paired else None
        if args.json:
            table = rows if rows is not None else compare(on, off, name)
            print(
                json.dumps(
                    {
                        "val_set": name,
                        "paired": args.paired,
                        "rows": table,
                        "verdict": verdict(table),
                        "runs": as_json(list(zip(plan, (on, off), strict=True)), failures),
                    },
                    indent=2,
                )
            )
        else:
            print(report(on, off, name, _bin_faces(on_item.out, name), rows))
        return 1 if failures else 0

    return guarded(body)
