"""Run directories: every stage writes ``<out>/manifest.json`` and its artifacts there.

Stages talk only through run directories, so each verb is testable alone and a pipeline can
resume from any finished stage.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgekp import __version__
from edgekp.errors import LineageError
from edgekp.measure.host import host_info

MANIFEST = "manifest.json"
MODEL_FILE = "model.pt"  # where train, prune and qat runs keep their best model


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def sha256_json(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write to a temp file in the same folder, fsync, then rename: a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file 0600; give it the usual permissions (0666 minus the umask).
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: str | Path, data: Any) -> None:
    atomic_write_bytes(path, (json.dumps(data, indent=2, sort_keys=False, default=str) + "\n").encode())


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Atomically save a checkpoint made only of tensors and plain containers (weights_only-loadable)."""
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    import pickle
    import zipfile

    import torch

    path = Path(path)
    if not path.is_file():
        raise LineageError(f"checkpoint not found: {str(path)!r}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LineageError(f"checkpoint {str(path)!r} is corrupt or not an edgekp checkpoint ({first[:160]})") from None
    if not isinstance(state, dict):
        raise LineageError(f"checkpoint {str(path)!r} is not an edgekp checkpoint (expected a mapping)")
    return state


def git_commit(start: Path | None = None) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=start or Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


@dataclass
class RunDir:
    """A stage's output folder and its manifest (written at start, updated at the end)."""

    path: Path
    kind: str
    manifest: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        path: str | Path,
        kind: str,
        recipe: dict[str, Any] | None = None,
        parent: RunDir | None = None,
        threads: int | None = None,
    ) -> RunDir:
        run = cls(Path(path), kind)
        run.path.mkdir(parents=True, exist_ok=True)
        run.manifest = {
            "kind": kind,
            "edgekp_version": __version__,
            "git_commit": git_commit(),
            "recipe": recipe,
            "recipe_hash": sha256_json(recipe) if recipe is not None else None,
            "parent": None
            if parent is None
            else {
                "path": str(parent.path.resolve()),
                "kind": parent.kind,
                "hash": parent.content_hash(),
            },
            "host": host_info(threads),
            "started": _now(),
            "finished": None,
            "status": "running",
        }
        run.write()
        return run

    @classmethod
    def open(cls, path: str | Path, expect_kinds: tuple[str, ...] | None = None) -> RunDir:
        path = Path(path)
        manifest_path = path / MANIFEST
        if not path.is_dir():
            raise LineageError(f"run directory not found: {str(path)!r}")
        if not manifest_path.is_file():
            raise LineageError(f"{str(path)!r} is not an edgekp run directory (no {MANIFEST})")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise LineageError(f"{str(manifest_path)!r} is corrupt ({exc})") from None
        kind = manifest.get("kind") if isinstance(manifest, dict) else None
        if not isinstance(kind, str):
            raise LineageError(f"{str(manifest_path)!r} has no 'kind'")
        if expect_kinds is not None and kind not in expect_kinds:
            raise LineageError(f"{str(path)!r} is a {kind!r} run; this stage needs one of: {', '.join(expect_kinds)}")
        return cls(path, kind, manifest)

    def write(self) -> None:
        atomic_write_json(self.path / MANIFEST, self.manifest)

    def update(self, **fields: Any) -> None:
        self.manifest.update(fields)
        self.write()

    def finish(self, status: str = "ok", **fields: Any) -> None:
        self.update(finished=_now(), status=status, **fields)

    def content_hash(self) -> str:
        """A hash of the manifest's recipe and of the run's recorded artifact hashes."""
        m = self.manifest
        return sha256_json({"kind": m.get("kind"), "recipe": m.get("recipe"), "artifacts": m.get("artifacts")})

    def lineage(self) -> list[dict[str, Any]]:
        """This run and its ancestors, nearest first, as far as their directories still exist."""
        chain = [{"path": str(self.path), "kind": self.kind}]
        parent = self.manifest.get("parent")
        while parent:
            chain.append({"path": parent["path"], "kind": parent["kind"]})
            try:
                parent = RunDir.open(parent["path"]).manifest.get("parent")
            except LineageError:
                break
        return chain
