"""The training curve: one CSV row per epoch and a PNG plot of loss and validation NME."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from edgekp.files.atomic import atomic_write_bytes

COLUMNS = (
    "epoch",
    "lr",
    "loss",
    "loss_first",
    "loss_second",
    "val_nme",
    "val_nme_large",
    "val_nme_small",
    "samples_per_s",
    "seconds",
)


def write_history(rows: list[dict[str, Any]], out_dir: Path) -> None:
    buffer = io.StringIO()
    # One more column per named validation set (val_nme[<name>], in its own normalization), in first-seen order.
    per_set = list(dict.fromkeys(k for r in rows for k in r if k.startswith("val_nme[")))
    writer = csv.DictWriter(buffer, fieldnames=[*COLUMNS, "val_norm", *per_set], extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(out_dir / "history.csv", buffer.getvalue().encode())
    if rows:
        plot_history(rows, out_dir / "history.png")


def plot_history(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in rows]
    fig, (ax_loss, ax_nme) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax_loss.plot(epochs, [r["loss"] for r in rows], label="total")
    ax_loss.plot(epochs, [r["loss_first"] for r in rows], label="first (originals)")
    ax_loss.plot(epochs, [r["loss_second"] for r in rows], label="second (expanded)")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("training loss")
    ax_loss.legend()
    ax_nme.plot(epochs, [100 * r["val_nme"] for r in rows], label="all")
    for key, label in (("val_nme_large", "large pose"), ("val_nme_small", "small pose")):
        values = [r.get(key) for r in rows]
        if all(v is not None for v in values):
            ax_nme.plot(epochs, [100 * v for v in values], label=label, linestyle="--")
    ax_nme.set_xlabel("epoch")
    norm = str(rows[-1].get("val_norm") or "inter_ocular").replace("_", "-")
    ax_nme.set_ylabel(f"validation NME, {norm} (%)")
    ax_nme.legend()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())
