"""Every artifact of a run: its own PyTorch fp32 model plus every export run beneath it.

Export runs are found by their manifests (``kind: export``) anywhere under the run directory
(``edgekp export`` and ``edgekp run`` put them in ``<run>/exports/<target>-<precision>[-route]``).
Failed exports are listed too, with the reason, so the report can show them; targets a pipeline
skipped (missing backend, unsupported here) are read from ``<run>/exports/skipped.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from edgekp.errors import LineageError
from edgekp.files.hashes import sha256_file
from edgekp.lineage.manifest import MANIFEST, Manifest
from edgekp.lineage.run_dir import MODEL_FILE, RunDir

MODEL_KINDS = ("train", "prune", "qat")
SKIPPED_FILE = "skipped.json"


@dataclass(frozen=True)
class ArtifactRef:
    target: str  # "pytorch" for the run's own model
    precision: str
    route: str
    status: str  # ok / parity failed / export failed / skipped
    path: Path | None
    sha256: str | None
    reason: str = ""
    export_dir: Path | None = None

    @property
    def label(self) -> str:
        return f"{self.target} {self.precision}" + (f" ({self.route})" if self.route else "")


def _first_line(text: str, limit: int = 200) -> str:
    line = str(text).strip().splitlines()[0] if str(text).strip() else ""
    return line[:limit]


def _export_ref(run: RunDir) -> ArtifactRef | None:
    m = Manifest.of(run)
    req = m.export_request()
    target, precision = req.target, req.precision
    route = req.route or _default_route(target)
    status = m.status
    if status == "ok":
        artifacts = m.artifacts
        if not artifacts:
            return ArtifactRef(
                target, precision, route, "export failed", None, None, "manifest lists no artifact", run.path
            )
        name, digest = next(iter(artifacts.items()))
        path = run.path / name
        if not path.exists():
            return ArtifactRef(target, precision, route, "export failed", None, None, f"{name} is missing", run.path)
        return ArtifactRef(target, precision, route, "ok", path, str(digest), "", run.path)
    if status == "running":
        return ArtifactRef(
            target, precision, route, "export failed", None, None, "export did not finish (interrupted?)", run.path
        )
    parity = m.parity
    if m.failed_dir or (parity.get("problems") and not m.error):
        problems = parity.get("problems") or ["parity check failed"]
        return ArtifactRef(
            target, precision, route, "parity failed", None, None, _first_line("; ".join(map(str, problems))), run.path
        )
    return ArtifactRef(
        target, precision, route, "export failed", None, None, _first_line(m.error or "unknown error"), run.path
    )


def _default_route(target: str) -> str:
    from edgekp.export.base import get_target, list_targets

    if target not in list_targets():  # an unknown target in an old manifest still gets a row
        return ""
    return get_target(target).capabilities.routes[0].name


def _skipped(run_path: Path) -> list[ArtifactRef]:
    refs = []
    for path in sorted(run_path.rglob(SKIPPED_FILE)):
        try:
            items = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            continue
        for item in items if isinstance(items, list) else []:
            refs.append(
                ArtifactRef(
                    str(item.get("target", "?")),
                    str(item.get("precision", "?")),
                    str(item.get("route") or ""),
                    "skipped",
                    None,
                    None,
                    _first_line(item.get("reason", "")),
                )
            )
    return refs


def find_artifacts(run_dir: str | Path) -> tuple[RunDir, list[ArtifactRef]]:
    """The run and its artifacts (PyTorch first, then exports sorted by folder); LineageError if none."""
    run = RunDir.open(run_dir)
    refs: list[ArtifactRef] = []
    if run.kind in MODEL_KINDS and (run.path / MODEL_FILE).is_file():
        refs.append(
            ArtifactRef("pytorch", "fp32", "eager", "ok", run.path / MODEL_FILE, sha256_file(run.path / MODEL_FILE))
        )
    seen: set[tuple[str, str, str]] = set()
    for manifest in sorted(run.path.rglob(MANIFEST)):
        if manifest.parent == run.path:
            continue
        try:
            sub = RunDir.open(manifest.parent, expect_kinds=("export",))
        except LineageError:
            continue
        ref = _export_ref(sub)
        if ref is not None:
            refs.append(ref)
            seen.add((ref.target, ref.precision, ref.route))
    refs.extend(r for r in _skipped(run.path) if (r.target, r.precision, r.route) not in seen)
    if not refs:
        raise LineageError(
            f"{str(run.path)!r} holds no artifacts to bench (no model.pt, no export runs); "
            "give a train/prune/qat run or export it first ('edgekp export --from RUN')"
        )
    return run, refs
