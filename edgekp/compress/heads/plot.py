"""The head-score heatmap: one row per attention block, one column per head, removed heads crossed."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_head_scores(scores: dict[str, list[float]], removed: dict[str, list[int]], path: Path, title: str) -> Path:
    """Write a PNG heatmap of ``scores`` (block -> per-head score) with ``removed`` heads marked."""
    # Figure without pyplot: no global backend switch, no figure registry to leak from a library call.
    from matplotlib.figure import Figure

    names = list(scores)
    width = max((len(v) for v in scores.values()), default=1)
    grid = np.full((len(names), width), np.nan)
    for r, name in enumerate(names):
        grid[r, : len(scores[name])] = scores[name]
    fig = Figure(figsize=(1.2 + 0.7 * width, 0.9 + 0.42 * len(names)))
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(np.ma.masked_invalid(grid), cmap="viridis", aspect="auto", vmin=0.0)
    for r, name in enumerate(names):
        for h in removed.get(name, []):
            ax.text(h, r, "x", ha="center", va="center", color="red", fontsize=12, fontweight="bold")
    ax.set_xticks(range(width), [str(h) for h in range(width)])
    ax.set_yticks(
        range(len(names)), [n.replace("hierarchy.", "").replace(".transformer.attn", "") for n in names], fontsize=7
    )
    ax.set_xlabel("head (x = removed)")
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax, label="importance (per-layer L2-normalized)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path
