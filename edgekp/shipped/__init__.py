"""The model that ships inside the package, with the manifest of the run that trained it.

The package holds ``kp_hvit_s_merlrav.pt`` and ``kp_hvit_s_merlrav.manifest.json`` (its lineage: the
training recipe and its hash, data counts per dataset with their hashes, the held-out faces and
their hash, the model's sha256). Nothing ever writes here at run time: verbs that need a run
directory of the shipped model get a copy under the current directory (``edgekp.sources``).
``calibration/`` holds the synthetic calibration definition, so int8 needs no data and no download.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edgekp.errors import LineageError

SHIPPED_NAME = "kp_hvit_s_merlrav"
PACKAGE_DIR = Path(__file__).resolve().parent


def shipped_model_path() -> Path:
    path = PACKAGE_DIR / f"{SHIPPED_NAME}.pt"
    if not path.is_file():
        raise LineageError(
            f"the shipped model {SHIPPED_NAME!r} is missing from this installation ({path}); pass --model RUN_DIR"
        )
    return path


def shipped_manifest_path() -> Path:
    return PACKAGE_DIR / f"{SHIPPED_NAME}.manifest.json"


def shipped_manifest() -> dict[str, Any]:
    path = shipped_manifest_path()
    if not path.is_file():
        raise LineageError(f"the shipped model's manifest is missing from this installation ({path})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise LineageError(f"the shipped model's manifest {str(path)!r} is unreadable ({exc})") from None
    if not isinstance(data, dict) or not isinstance((data.get("trained_by") or {}).get("recipe"), dict):
        raise LineageError(f"the shipped model's manifest {str(path)!r} records no training recipe")
    return data

