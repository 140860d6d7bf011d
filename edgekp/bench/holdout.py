"""Which faces a model never saw in training: the held-out list recorded by its training run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edgekp.errors import DataError, LineageError


def _manifest_for(source: str | None) -> tuple[dict[str, Any], str]:
    from edgekp.shipped import shipped_manifest_path, shipped_size

    size = shipped_size(source)
    if size is not None:
        path = shipped_manifest_path(size)
    else:
        src = Path(source)
        path = (src if src.is_dir() else src.parent) / "manifest.json"
        if (
            src.is_file() and src.with_suffix(".manifest.json").is_file()
        ):  # a model file with its own manifest (the shipped one)
            path = src.with_suffix(".manifest.json")
    if not path.is_file():
        raise LineageError(
            f"no manifest beside {source or 'the shipped model'!r}: cannot tell which faces were held out"
        )
    return json.loads(path.read_text(encoding="utf-8")), str(path)


def _holdout_of(manifest: dict[str, Any]) -> dict[str, list[str]] | None:
    """The training run's holdout, following parent links from compression runs."""
    seen = 0
    while manifest is not None and seen < 16:
        holdout = (manifest.get("data") or {}).get("holdout")
        if holdout is not None:
            return holdout
        parent = manifest.get("parent")
        if not parent:
            return None
        path = Path(parent["path"]) / "manifest.json"
        if not path.is_file():
            return None
        manifest = json.loads(path.read_text(encoding="utf-8"))
        seen += 1
    return None


def holdout_of_run(model_source: str | None) -> dict[str, list[str]]:
    """Held-out face sources per dataset path (relative to the data root) of a run or the shipped model."""
    manifest, where = _manifest_for(model_source)
    holdout = _holdout_of(manifest)
    if holdout is None:
        raise LineageError(f"{where} records no held-out faces (train with data.val_split to get them)")
    return holdout


def holdout_sources(model_source: str | None, data: str | Path) -> set[str]:
    holdout = holdout_of_run(model_source)
    target = Path(data).resolve().as_posix().rstrip("/")
    for key, sources in holdout.items():
        if target.endswith("/" + key.strip("/")) or target == key:
            return set(sources)
    raise DataError(
        f"the model held out no faces of {str(data)!r}; its held-out datasets are: "
        f"{', '.join(sorted(holdout)) or 'none'}"
    )
