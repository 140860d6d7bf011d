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


def ensure_synthetic_dataset(path: str | Path, n: int, size: int, seed: int) -> Path:
    from edgekp.data.synthetic import write_synthetic

    path = Path(path)
    spec = {"n": n, "size": size, "seed": seed}
    stamp = path / STAMP
    if stamp.is_file():
        try:
            if json.loads(stamp.read_text()) == spec:
                return path
        except json.JSONDecodeError:
            pass
    log.info("rendering %d synthetic faces (%d px, seed %d) into %s", n, size, seed, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Render beside the target and swap it in, so an interrupted render never looks complete.
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        write_synthetic(tmp, n, size=size, seed=seed)
        (tmp / STAMP).write_text(json.dumps(spec))
        if path.exists():
            shutil.rmtree(path)
        tmp.rename(path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path
