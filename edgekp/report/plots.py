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


def _plt():
    import matplotlib

    matplotlib.use("Agg")  # headless: reports are written on servers
    import matplotlib.pyplot as plt

    return plt


def _measured(rows: list[ReportRow]) -> list[ReportRow]:
    """Rows with accuracy and latency; QAT runs' fake-quantized PyTorch models are left out (no target runs
    them, and their latency, several times the real model's, is no deployment figure)."""
    return [rr for rr in rows if rr.row.accuracy is not None and rr.latency is not None and not rr.fake_quant]


def _overlaps(box, others) -> bool:
    return any(box.overlaps(o) for o in others)


def use_log_x(latencies: list[float], decades: float = 1.0) -> bool:
    """Log scale when the latencies span at least ``decades`` decades (10x); a linear axis reads better below."""
    positive = [v for v in latencies if v > 0]
    return bool(positive) and max(positive) / min(positive) >= 10**decades


def spread_labels(ys: list[float], min_gap: float) -> list[float]:
    """Label heights (display units) at least ``min_gap`` apart, each as close to its point as it can be.

    Greedy, bottom-up, then shifted down as one block by half the total push so labels stay centred on
    their points: enough for the ten-odd labels of a Pareto front and its peers."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    placed = list(ys)
    for prev, cur in zip(order, order[1:]):
        placed[cur] = max(placed[cur], placed[prev] + min_gap)
    push = [placed[i] - ys[i] for i in order]
    shift = (max(push) if push else 0.0) / 2
    lowest = min(ys) if ys else 0.0
    return [max(v - shift, lowest - shift) for v in placed]


def accuracy_vs_latency(rows: list[ReportRow], path: Path) -> Path | None:
    drawn = accuracy_latency_figure(rows)
    if drawn is None:
        return None
    fig, _ = drawn
    fig.savefig(path, dpi=DPI)
    _plt().close(fig)
    return path


def accuracy_latency_figure(rows: list[ReportRow]):
    """NME against latency. Pareto points and peers carry labels (spread so they do not overlap); the
    other rows are grouped by target (colour) and precision (marker) in the legend, unlabelled."""
    data = _measured(rows)
    if not data:
        return None
    plt = _plt()
    pts = [(rr.latency.p50_ms, 100 * rr.row.accuracy.nme) for rr in data]  # type: ignore[union-attr]
    # The front of edgekp's own exports, as in the verdict (PyTorch rows are references, not deployments);
    # peers are drawn and labelled beside it.
    ours = [i for i, rr in enumerate(data) if rr.row.variant != "peer" and rr.row.target != "pytorch"]
    front = {ours[k] for k in pareto_front([pts[i] for i in ours])}
    targets = sorted({rr.row.target for rr in data if rr.row.variant != "peer"})
    colours = {t: plt.get_cmap("tab10")(i % 10) for i, t in enumerate(targets)}
    markers = {"fp32": "o", "fp16": "s", "int8": "D"}
    fig, ax = plt.subplots(figsize=(9.5, 5.5))
    for i, (rr, (x, y)) in enumerate(zip(data, pts, strict=True)):
        peer = rr.row.variant == "peer"
        ax.scatter(
            [x],
            [y],
            s=110 if peer else 70 if i in front else 36,
            zorder=3,
            marker="*" if peer else markers.get(rr.row.precision, "^"),
            color="black" if peer else colours[rr.row.target],
            edgecolors="black" if i in front else "none",
            linewidths=1.0,
        )
    ordered = sorted(front, key=lambda i: pts[i][0])
    ax.step([pts[i][0] for i in ordered], [pts[i][1] for i in ordered], where="post", color="tab:red", lw=1.2)
    # The legend groups rows: colour = target, marker = precision; it sits outside the axes, hiding no point.
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], ls="", marker="o", color=colours[t], label=t) for t in targets]
    precisions = sorted({rr.row.precision for rr in data if rr.row.variant != "peer"})
    handles += [Line2D([], [], ls="", marker=markers.get(p, "^"), color="0.5", label=p) for p in precisions]
    if any(rr.row.variant == "peer" for rr in data):
        handles.append(Line2D([], [], ls="", marker="*", color="black", markersize=10, label="peers"))
    handles.append(Line2D([], [], color="tab:red", lw=1.2, label="Pareto front\n(labelled, black edge)"))
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), framealpha=0.9)
    xs = [p[0] for p in pts]
    if use_log_x(xs):
        from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

        ax.set_xscale("log")
        # Labels at 1, 2, 5 of each decade only: labelling every minor tick ran "0.60.70.80.91" together.
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # 2, 5, 10 ms rather than 2x10^0
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(
        f"median latency per face, ms ({data[0].latency.threads} thread(s), host)"  # type: ignore[union-attr]
        + (", log scale" if use_log_x(xs) else "")
    )
    ax.set_ylabel("NME, % of inter-ocular distance")
    ax.grid(alpha=0.3)
    ax.margins(y=0.1)  # room for the labels of the lowest and highest points
    labelled = [i for i in range(len(data)) if i in front or data[i].row.variant == "peer"]
    has_peers = any(data[i].row.variant == "peer" for i in labelled)
    what = "Pareto front and peers" if has_peers else "Pareto front"
    ax.set_title(f"Accuracy vs latency ({len(data)} rows; labelled: {what})")  # before the layout: it needs the room
    fig.tight_layout()
    fig.canvas.draw()  # fixes limits and layout, so label positions can be computed in display units
    to_px, middle = ax.transData.transform, ax.get_window_extent().x0 + ax.get_window_extent().width / 2
    anchors = [to_px(pts[i]) for i in labelled]
    heights = spread_labels([float(a[1]) for a in anchors], min_gap=11.0 * fig.dpi / 72)
    renderer = fig.canvas.get_renderer()
    frame = fig.bbox
    placed, shown = [], 0
    for i, (ax_px, _), ly in zip(labelled, anchors, heights, strict=True):
        right = ax_px < middle  # labels point inwards, so none leaves the axes
        text_xy = ax.transData.inverted().transform((ax_px + (10 if right else -10) * fig.dpi / 72, ly))
        note = ax.annotate(
            data[i].label,
            pts[i],
            xytext=text_xy,
            textcoords="data",
            fontsize=7,
            va="center",
            ha="left" if right else "right",
            arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "0.4"},
        )
        box = note.get_window_extent(renderer)
        # A label only where it fits: inside the figure and clear of the labels already drawn.
        if _overlaps(box, placed) or box.x0 < frame.x0 or box.x1 > frame.x1 or box.y0 < frame.y0 or box.y1 > frame.y1:
            note.remove()
            continue
        placed.append(box)
        shown += 1
    skipped = f", {len(labelled) - shown} without room for a label" if shown < len(labelled) else ""
    ax.set_title(f"Accuracy vs latency ({len(data)} rows; labelled: {what}{skipped})")
    return fig, ax


def ced_rows(rows: list[ReportRow], need_errors: bool = True) -> list[ReportRow]:
    """One curve per run and one per peer: the run's most accurate deployable row (exports of one model
    overlap within a line width, so forty curves told less than eight)."""
    best: dict[str, ReportRow] = {}
    for rr in rows:
        a = rr.row.accuracy
        if a is None or (need_errors and not a.errors) or rr.fake_quant or rr.row.status != "ok":
            continue
        key = rr.label if rr.row.variant == "peer" else rr.run_label
        if key not in best or a.nme < best[key].row.accuracy.nme:  # type: ignore[union-attr]
            best[key] = rr
    return list(best.values())


def ced_curves(rows: list[ReportRow], path: Path, threshold: float = 0.10) -> Path | None:
    data = ced_rows(rows)
    if not data:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 5))
    x = np.linspace(0, threshold, 201)
    for rr in data:
        errors = np.sort(np.asarray(rr.row.accuracy.errors))  # type: ignore[union-attr]
        y = np.searchsorted(errors, x, side="right") / len(errors)
        ax.plot(
            100 * x,
            y,
            lw=1.2,
            ls="--" if rr.row.variant == "peer" else "-",
            label=f"{rr.label} (AUC {rr.row.accuracy.auc:.3f})",
        )  # type: ignore[union-attr]
    ax.set_xlabel("NME, % of inter-ocular distance")
    ax.set_ylabel("fraction of faces")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: it hid the curves
    ax.set_title("Cumulative error distribution (each run's most accurate export; peers dashed)")
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def pose_bars(rows: list[ReportRow], path: Path) -> Path | None:
    # One group per run (its most accurate export) and per peer, as the CED: every export of a run shares
    # its model, and 36 groups of bars made the labels unreadable.
    data = [
        rr
        for rr in ced_rows(rows, need_errors=False)
        if rr.row.accuracy.nme_large is not None or rr.row.accuracy.nme_small is not None
    ]  # type: ignore[union-attr]
    if not data:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(7.0, 0.8 * len(data) + 3), 5.5))
    idx = np.arange(len(data))
    for offset, (name, attr) in zip(
        (-0.2, 0.2), (("large pose", "nme_large"), ("small pose", "nme_small")), strict=True
    ):
        vals = [100 * (getattr(rr.row.accuracy, attr) or np.nan) for rr in data]
        ax.bar(idx + offset, vals, width=0.4, label=name)
    ax.set_xticks(idx, [rr.label for rr in data], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("NME, %")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside the bars
    ax.set_title(
        f"NME by pose, large = {data[0].row.accuracy.large_pose_rule or 'large pose'} "  # type: ignore[union-attr]
        "(each run's most accurate export)",
        fontsize=10,
    )
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
    written = {k: v for k, v in out.items() if v is not None}
    # The folder is this report's own: a plot an earlier build wrote (a run since relabelled or left out)
    # would otherwise stay beside the new ones, referenced by nothing.
    for stale in set(folder.glob("*.png")) - set(written.values()):
        stale.unlink()
    return written
