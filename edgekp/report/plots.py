"""Report plots (matplotlib, Agg): accuracy vs latency with the Pareto front, CED curves, per-pose
bars, a grid of sample faces, and the pruned runs' head-importance heatmaps (copied as written by
the prune stage). Each function writes one PNG and returns its path, or None when it has no data.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from edgekp.report.pareto import pareto_front
from edgekp.report.tables import ReportRow, RunReport

DPI = 110


def _plt():  # noqa: ANN202 - matplotlib.pyplot module
    import matplotlib

    matplotlib.use("Agg")  # headless: reports are written on servers
    import matplotlib.pyplot as plt

    return plt


def _measured(rows: list[ReportRow]) -> list[ReportRow]:
    return [rr for rr in rows if rr.row.accuracy is not None and rr.latency is not None]


def accuracy_vs_latency(rows: list[ReportRow], path: Path) -> Path | None:
    data = _measured(rows)
    if not data:
        return None
    plt = _plt()
    pts = [(rr.latency.p50_ms, 100 * rr.row.accuracy.nme) for rr in data]  # type: ignore[union-attr]
    front = pareto_front(pts)
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for i, (rr, (x, y)) in enumerate(zip(data, pts, strict=True)):
        marker = "*" if rr.row.variant == "peer" else "o"
        ax.scatter([x], [y], s=90 if i in front else 40, marker=marker, zorder=3,
                   edgecolors="black" if i in front else "none")
        ax.annotate(rr.label, (x, y), fontsize=7, xytext=(4, 3), textcoords="offset points")
    fx, fy = zip(*[pts[i] for i in front], strict=True)
    ax.step(fx, fy, where="post", color="tab:red", lw=1.2, label="Pareto front (lower is better on both)")
    ax.set_xlabel(f"median latency per face, ms ({data[0].latency.threads} thread(s), host)")  # type: ignore[union-attr]
    ax.set_ylabel("NME, % of inter-ocular distance")
    ax.set_xscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Accuracy vs latency")
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def ced_curves(rows: list[ReportRow], path: Path, threshold: float = 0.10) -> Path | None:
    data = [rr for rr in rows if rr.row.accuracy is not None and rr.row.accuracy.errors]
    if not data:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 5))
    x = np.linspace(0, threshold, 201)
    for rr in data:
        errors = np.sort(np.asarray(rr.row.accuracy.errors))  # type: ignore[union-attr]
        y = np.searchsorted(errors, x, side="right") / len(errors)
        ax.plot(100 * x, y, lw=1.2, ls="--" if rr.row.variant == "peer" else "-",
                label=f"{rr.label} (AUC {rr.row.accuracy.auc:.3f})")  # type: ignore[union-attr]
    ax.set_xlabel("NME, % of inter-ocular distance")
    ax.set_ylabel("fraction of faces")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("Cumulative error distribution")
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def pose_bars(rows: list[ReportRow], path: Path) -> Path | None:
    data = [rr for rr in rows if rr.row.accuracy is not None]
    if not data:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(data) + 2), 4.5))
    idx = np.arange(len(data))
    for offset, (name, attr) in zip((-0.2, 0.2), (("large pose", "nme_large"), ("small pose", "nme_small")), strict=True):
        vals = [100 * (getattr(rr.row.accuracy, attr) or np.nan) for rr in data]
        ax.bar(idx + offset, vals, width=0.4, label=name)
    ax.set_xticks(idx, [rr.label for rr in data], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("NME, %")
    ax.legend(fontsize=8)
    ax.set_title(f"NME by pose ({data[0].row.accuracy.large_pose_rule or 'large pose'})")  # type: ignore[union-attr]
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def sample_grid(run: RunReport, path: Path) -> Path | None:
    if not run.result.samples:
        return None
    npz = run.path / "bench" / run.result.samples
    if not npz.is_file():
        return None
    with np.load(npz) as z:
        images, gt, pred = z["images"], z["points"], z["pred"]
    plt = _plt()
    n = len(images)
    cols = min(4, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols, 2.4 * rows), squeeze=False)
    size = images.shape[1]
    for ax in axes.ravel():
        ax.axis("off")
    for i in range(n):
        ax = axes.ravel()[i]
        ax.imshow(images[i])
        g, p = gt[i] * size - 0.5, pred[i] * size - 0.5  # normalized -> pixel centres
        ax.scatter(g[:, 0], g[:, 1], s=4, c="lime", label="true")
        ax.scatter(p[:, 0], p[:, 1], s=4, c="red", label="predicted")
    axes.ravel()[0].legend(fontsize=6, loc="upper left")
    fig.suptitle(f"{run.path.name}: PyTorch fp32 predictions (red) vs truth (green)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def make_plots(runs: list[RunReport], folder: Path, samples: bool = True) -> dict[str, Path]:
    """Every plot of the report, by name; names missing from the result had no data.

    ``samples=False`` leaves out the grids of face crops (a report meant for committing should not
    carry pictures of a dataset that must not be redistributed)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [rr for run in runs for rr in run.rows]
    out: dict[str, Path | None] = {
        "accuracy_vs_latency": accuracy_vs_latency(rows, folder / "accuracy_vs_latency.png"),
        "ced": ced_curves(rows, folder / "ced.png"),
        "pose": pose_bars(rows, folder / "pose_nme.png"),
    }
    for run in runs:
        name = run.rows[0].run_label.replace("/", "_") if run.rows else run.path.name
        if samples:
            out[f"samples:{name}"] = sample_grid(run, folder / f"samples_{name}.png")
        if run.heatmap is not None:
            dest = folder / f"head_scores_{name}.png"
            shutil.copyfile(run.heatmap, dest)
            out[f"heads:{name}"] = dest
    return {k: v for k, v in out.items() if v is not None}
