"""Run directories: every stage writes ``<out>/manifest.json`` and its artifacts there.

Stages talk only through run directories, so each verb is testable alone and a pipeline can
resume from any finished stage.
"""

from __future__ import annotations

import datetime as _dt
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgekp import __version__
from edgekp.errors import LineageError
from edgekp.files.atomic import atomic_write_json
from edgekp.files.hashes import sha256_json
from edgekp.lineage.manifest import MANIFEST, Manifest, ManifestHeader, ParentRef, read_manifest
from edgekp.measure.host import host_info

MODEL_FILE = "model.pt"  # where train, prune and qat runs keep their best model


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


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
        run.manifest = ManifestHeader(
            kind=kind,
            edgekp_version=__version__,
            git_commit=git_commit(),
            recipe=recipe,
            recipe_hash=sha256_json(recipe) if recipe is not None else None,
            parent=None
            if parent is None
            else ParentRef(str(parent.path.resolve()), parent.kind, parent.content_hash()),
            host=host_info(threads),
            started=_now(),
            finished=None,
            status="running",
        ).to_dict()
        run.write()
        return run

    @classmethod
    def open(cls, path: str | Path, expect_kinds: tuple[str, ...] | None = None) -> RunDir:
        manifest = read_manifest(path, expect_kinds)
        return cls(Path(path), manifest["kind"], manifest)

    @property
    def view(self) -> Manifest:
        """The manifest's typed read view."""
        return Manifest.of(self)

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
        parent = self.view.parent
        while parent:
            chain.append({"path": parent.path, "kind": parent.kind})
            try:
                parent = RunDir.open(parent.path).view.parent
            except LineageError:
                break
        return chain
