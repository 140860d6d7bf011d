"""The validation face sets every shipped-model comparison scores (model card, levers): which folders,
which normalization, held-out faces only or all, pooled face-weighted over folders scored apart.

- ``300w_holdout``: the HELEN/AFW photos every shipped model's training held out (by photo), inter-ocular;
- ``lfpw_train``: 300W LFPW training faces, which no shipped model trained on: near-frontal, inter-ocular;
- ``merlrav_test``: MERL-RAV test (43 % large pose), box-normalized (sqrt(w*h)), the set that chose
  each checkpoint;
- ``ytf_test``: YouTube-Faces frames of people seen in training (a sanity set, noisy labels), inter-ocular.

Crops come from the labelled landmark box (the validation protocol of training), not from a detector.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgekp.bench.accuracy import evaluate_dataset
from edgekp.bench.holdout import holdout_sources

# name -> (folders under the data root scored as one set, normalization, only the held-out faces)
FACE_SETS: dict[str, tuple[tuple[str, ...], str, bool]] = {
    "300w_holdout": (("300w/helen_train", "300w/afw"), "inter_ocular", True),
    "lfpw_train": (("300w/lfpw_train",), "inter_ocular", False),
    "merlrav_test": (("merlrav/test",), "box", False),
    "ytf_test": (("ytf/test",), "inter_ocular", False),
}
YAW_BINS = ("0-30", "30-60", "60-90")


def pooled(parts: list[dict[str, Any]], norm: str) -> dict[str, Any]:
    """Face-weighted NME over several folders scored apart (each result's mean times its face count)."""

    def mean(pairs: list[tuple[float | None, int]]) -> float | None:
        pairs = [(v, n) for v, n in pairs if v is not None and v == v and n]
        total = sum(n for _, n in pairs)
        return sum(v * n for v, n in pairs) / total if total else None

    out: dict[str, Any] = {
        "n": sum(p["n"] for p in parts),
        "nme": mean([(p["nme"], p["n"]) for p in parts]),
        "by_yaw": {},
    }
    for name in YAW_BINS:
        cells = [
            (p["by_yaw"][norm].get(name, {}).get("nme"), p["by_yaw"][norm].get(name, {}).get("n", 0)) for p in parts
        ]
        out["by_yaw"][name] = {"nme": mean(cells), "n": sum(n for _, n in cells)}
    return out


def score_face_sets(
    predictor: Any, model_source: str, data_root: Path, names: tuple[str, ...] | None = None
) -> dict[str, dict[str, Any]]:
    """{face set: {"norm", "n", "nme", "by_yaw"}} for the sets whose folders exist under ``data_root``;
    ``model_source`` names the model whose training held the holdout faces out (e.g. ``shipped:s``)."""
    sets: dict[str, dict[str, Any]] = {}
    for name, (folders, norm, holdout) in FACE_SETS.items():
        if names is not None and name not in names:
            continue
        parts = []
        for folder in folders:
            path = data_root / folder
            if not path.exists():
                continue
            only = holdout_sources(model_source, str(path)) if holdout else None
            parts.append(evaluate_dataset(predictor, path, norm=norm, only_sources=only))
        if parts:
            sets[name] = {"norm": norm, **pooled(parts, norm)}
    return sets
