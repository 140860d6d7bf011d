"""The models that ship inside the package (``edgekp/shipped/``), each with the manifest of the run that trained it.

Three sizes, one point each on the accuracy/latency curve (docs/models.md):

- ``t`` (``kp_hvit_t_q_merlrav``): fast;
- ``s`` (``kp_hvit_s_merlrav``): the default;
- ``b`` (``kp_hvit_b_q_merlrav_anneal``): accurate.

Every verb names them ``shipped:t``, ``shipped:s`` and ``shipped:b``; ``shipped`` (or no ``--from`` /
``--model`` at all) means ``s``. The package holds ``<name>.pt`` and ``<name>.manifest.json`` per size
(the lineage: the training recipe and its hash, data counts per dataset with their hashes, the
held-out faces and their hash, the model's sha256). Nothing ever writes here at run time: verbs that
need a run directory of a shipped model get a copy under the current directory (edgekp.lineage.model_source).
``calibration/`` holds the synthetic calibration definition, so int8 needs no data and no download.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edgekp.errors import ConfigError, LineageError

SHIPPED = "shipped"  # the --from / --model value that names a shipped model
SHIPPED_SIZES: dict[str, str] = {
    "t": "kp_hvit_t_q_merlrav",
    "s": "kp_hvit_s_merlrav",
    "b": "kp_hvit_b_q_merlrav_anneal",
}
DEFAULT_SIZE = "s"
SHIPPED_NAME = SHIPPED_SIZES[DEFAULT_SIZE]
PACKAGE_DIR = Path(__file__).resolve().parents[1] / "shipped"  # package data: the weights and their manifests


def shipped_size(value: str | Path | None) -> str | None:
    """The size a model reference names: ``None``/``shipped`` -> ``s``, ``shipped:t`` -> ``t``; a path -> None.

    A ``shipped:X`` with an unknown size is a ConfigError naming the sizes there are."""
    if value is None:
        return DEFAULT_SIZE
    text = str(value)
    if text == SHIPPED:
        return DEFAULT_SIZE
    if not text.startswith(SHIPPED + ":"):
        return None
    size = text.split(":", 1)[1]
    if size not in SHIPPED_SIZES:
        raise ConfigError(
            f"no shipped model {text!r}; the sizes are {', '.join(SHIPPED + ':' + s for s in SHIPPED_SIZES)}"
        )
    return size


def shipped_name(size: str = DEFAULT_SIZE) -> str:
    if size not in SHIPPED_SIZES:
        raise ConfigError(f"no shipped size {size!r}; the sizes are {', '.join(SHIPPED_SIZES)}")
    return SHIPPED_SIZES[size]


def shipped_model_path(size: str = DEFAULT_SIZE) -> Path:
    name = shipped_name(size)
    path = PACKAGE_DIR / f"{name}.pt"
    if not path.is_file():
        raise LineageError(
            f"the shipped model {name!r} is missing from this installation ({path}); pass --model RUN_DIR"
        )
    return path


def shipped_manifest_path(size: str = DEFAULT_SIZE) -> Path:
    return PACKAGE_DIR / f"{shipped_name(size)}.manifest.json"


def shipped_manifest(size: str = DEFAULT_SIZE) -> dict[str, Any]:
    path = shipped_manifest_path(size)
    if not path.is_file():
        raise LineageError(f"the shipped model's manifest is missing from this installation ({path})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise LineageError(f"the shipped model's manifest {str(path)!r} is unreadable ({exc})") from None
    if not isinstance(data, dict) or not isinstance((data.get("trained_by") or {}).get("recipe"), dict):
        raise LineageError(f"the shipped model's manifest {str(path)!r} records no training recipe")
    return data
