"""The model that ships inside the package, with the manifest of the run that trained it."""

from __future__ import annotations

from pathlib import Path

from edgekp.errors import LineageError

SHIPPED_NAME = "kp_hvit_s_300w"


def shipped_model_path() -> Path:
    path = Path(__file__).parent / f"{SHIPPED_NAME}.pt"
    if not path.is_file():
        raise LineageError(
            f"the shipped model {SHIPPED_NAME!r} is missing from this installation ({path}); pass --model RUN_DIR"
        )
    return path


def shipped_manifest_path() -> Path:
    return Path(__file__).parent / f"{SHIPPED_NAME}.manifest.json"
