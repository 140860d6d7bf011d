"""Synthetic datasets on disk, rendered once: a recipe names a folder and a spec; the folder is
(re)rendered only when it is missing or was rendered from another spec."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from edgekp.logs import get_logger

log = get_logger(__name__)

STAMP = "synthetic.json"


def _rendered(path: Path, spec: dict[str, int]) -> bool:
    try:
        return json.loads((path / STAMP).read_text()) == spec
    except (OSError, json.JSONDecodeError):
        return False


def ensure_synthetic_dataset(path: str | Path, n: int, size: int, seed: int) -> Path:
    from edgekp.data.synthetic import write_synthetic

    path = Path(path)
    spec = {"n": n, "size": size, "seed": seed}
    if _rendered(path, spec):
        return path
    log.info("rendering %d synthetic faces (%d px, seed %d) into %s", n, size, seed, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Render beside the target and swap it in, so an interrupted render never looks complete.
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        write_synthetic(tmp, n, size=size, seed=seed)
        (tmp / STAMP).write_text(json.dumps(spec))
        # Another process (parallel levers) may have rendered the same spec meanwhile and be reading
        # it: keep theirs rather than delete a folder in use.
        if _rendered(path, spec):
            shutil.rmtree(tmp, ignore_errors=True)
            return path
        if path.exists():
            shutil.rmtree(path)
        try:
            tmp.rename(path)
        except OSError:
            if not _rendered(path, spec):  # the folder that won the race is another spec: a real conflict
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path
