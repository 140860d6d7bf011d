"""The report's "where the time goes" section: each run's ``bench/profile.json`` (``edgekp bench --profile``).

Per run and runtime, one table with a column per profiled export (fp32 beside int8): total time,
the op kinds that take the most time (the rest summed as "other"), how many compute ops stay in
float in an int8 graph and how many quantize/dequantize ops it holds. A run without a profile
has no table; the section is left out when no run has one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgekp.bench.profile import PROFILE_FILE, QDQ_KINDS
from edgekp.errors import ConfigError
from edgekp.report.tables import RunReport

TOP_KINDS = 8
_PRECISION_ORDER = {"fp32": 0, "fp16": 1, "int8": 2}
# Profiles written before the export fields existed name it only in text: "target precision (route): path".
_ARTIFACT_TEXT = re.compile(r"^(\S+) (\S+) \(([^)]*)\): ")

PROFILE_TEXT = (
    "`edgekp bench --profile` on each TFLite, OpenVINO and ONNX export (one face of random pixels, the run's "
    "input size). Total: the whole model's median call. Op kinds: share of the summed per-op time (count of ops "
    "in brackets); in an int8 graph, quantize/dequantize ops are kinds of their own. Ops: compute ops that run "
    "int8 / stay float, and quantize/dequantize ops. The TFLite figures time each op alone (XNNPACK fuses across "
    "ops in the full model), so read their shares, not their sum."
)


@dataclass(frozen=True)
class ArtifactProfile:
    """One profiled export, as the report reads it."""

    runtime: str
    target: str
    precision: str
    route: str
    total_ms: float
    int8_ops: int
    float_ops: int
    qdq_ops: int
    shares: dict[str, tuple[float, int]]  # op kind -> (share of summed op time, count), int8 and float merged
    float_kinds: dict[str, int]  # compute op kind -> how many of it stay float (int8 graphs only)
    method: str
    threads: int | None
    host: dict[str, Any]

    @property
    def column(self) -> str:
        return f"{self.precision} ({self.route})" if self.route else self.precision


@dataclass(frozen=True)
class RunProfiles:
    label: str
    path: Path
    artifacts: tuple[ArtifactProfile, ...]
    raw: tuple[dict[str, Any], ...]  # profile.json as written, for the report's JSON


def _entry(data: dict[str, Any]) -> ArtifactProfile:
    target, precision, route = data.get("target") or "", data.get("precision") or "", data.get("route") or ""
    if not (target and precision):
        match = _ARTIFACT_TEXT.match(str(data.get("artifact", "")))
        if match:
            target, precision, route = match.groups()
    shares: dict[str, list[float]] = {}
    float_kinds: dict[str, int] = {}
    for row in data["by_kind"]:
        cell = shares.setdefault(str(row["kind"]), [0.0, 0])
        cell[0] += float(row["share"])
        cell[1] += int(row["count"])
        if not row["int8"] and data["int8_ops"] and row["kind"] not in QDQ_KINDS:
            float_kinds[str(row["kind"])] = float_kinds.get(str(row["kind"]), 0) + int(row["count"])
    return ArtifactProfile(
        runtime=str(data["runtime"]),
        target=target or str(data["runtime"]),
        precision=precision or "?",
        route=route,
        total_ms=float(data["total_ms"]),
        int8_ops=int(data["int8_ops"]),
        float_ops=int(data["float_ops"]),
        qdq_ops=int(data["qdq_ops"]),
        shares={k: (v[0], int(v[1])) for k, v in shares.items()},
        float_kinds=dict(sorted(float_kinds.items(), key=lambda kv: -kv[1])),
        method=str(data.get("method", "")),
        threads=data.get("threads"),
        host=dict(data.get("host") or {}),
    )


def load_run_profiles(path: Path, label: str) -> RunProfiles | None:
    """The run's profile, None when it has none; a one-line error when the file is not a profile."""
    file = path / "bench" / PROFILE_FILE
    if not file.is_file():
        return None
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
        if not isinstance(raw, list):
            raise TypeError("expected a list of per-artifact profiles")
        artifacts = tuple(_entry(d) for d in raw)
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"{str(file)!r} is not an edgekp profile ({type(exc).__name__}: {str(exc)[:120]}); "
            f"re-run 'edgekp bench --profile --from {path}'"
        ) from None
    # Grouped by runtime, fp32 first (the baseline the others are read against), else as profiled.
    ranked = sorted(
        enumerate(artifacts), key=lambda ia: (ia[1].runtime, _PRECISION_ORDER.get(ia[1].precision, 9), ia[0])
    )
    artifacts = tuple(a for _, a in ranked)
    return RunProfiles(label, path, artifacts, tuple(raw))


def collect_profiles(runs: list[RunReport]) -> list[RunProfiles]:
    """The profiles of the runs that have one, labelled as in the report's rows."""
    out = []
    for run in runs:
        label = next((rr.run_label for rr in run.rows if rr.row.variant != "peer"), run.path.name)
        found = load_run_profiles(run.path, label)
        if found is not None and found.artifacts:
            out.append(found)
    return out


def threads_text(profiles: list[RunProfiles]) -> str:
    counts = sorted({a.threads for rp in profiles for a in rp.artifacts if a.threads is not None})
    if not counts:
        return "threads not recorded"
    if len(counts) == 1:
        return f"{counts[0]} thread" + ("" if counts[0] == 1 else "s")
    return "threads " + ", ".join(map(str, counts))


def section_title(profiles: list[RunProfiles]) -> str:
    return f"Where the time goes (per-operator profile, {threads_text(profiles)})"


def host_lines(profiles: list[RunProfiles]) -> list[str]:
    """One line per machine the profiles were taken on (only what profile.json records)."""
    seen, lines = set(), []
    for rp in profiles:
        for a in rp.artifacts:
            if not a.host:
                continue
            isa = tuple(a.host.get("isa") or [])
            key = (a.host.get("cpu"), isa)
            if key in seen:
                continue
            seen.add(key)
            vnni = "with VNNI" if a.host.get("has_vnni") else "no VNNI"
            lines.append(
                f"Profiled on {a.host.get('cpu') or 'an unrecorded CPU'}: ISA {', '.join(isa) or '?'} ({vnni})."
            )
    return lines


def _top_kinds(columns: list[ArtifactProfile], top: int) -> list[str]:
    best: dict[str, float] = {}
    for a in columns:
        for kind, (share, _) in a.shares.items():
            best[kind] = max(best.get(kind, 0.0), share)
    return [k for k, _ in sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]


def _total(a: ArtifactProfile, fp32s: list[ArtifactProfile]) -> str:
    """Total ms, and against fp32: the same route's fp32 when there is one (TFLite has two fp32 routes)."""
    text = f"{a.total_ms:.3f}"
    base = next((f for f in fp32s if f.route == a.route), fp32s[0] if fp32s else None)
    if base is not None and a.precision != "fp32" and base.total_ms > 0:
        text += f" ({a.total_ms / base.total_ms:.2f}x {'fp32' if len(fp32s) == 1 else base.column})"
    return text


def _float_cell(a: ArtifactProfile) -> str:
    if not a.int8_ops:  # a float graph: every op is float by design, nothing to point at
        return "- (float graph)"
    kinds = ", ".join(f"{k} {n}" for k, n in list(a.float_kinds.items())[:4])
    more = ", ..." if len(a.float_kinds) > 4 else ""
    return f"{a.float_ops}" + (f": {kinds}{more}" if kinds else "")


def runtime_title(a: ArtifactProfile) -> str:
    """The runtime as reports title it: the export target's display name (the raw runtime for an unknown one)."""
    from edgekp.export.base import get_target, list_targets

    known = list_targets()
    return next((get_target(name).display_name for name in (a.target, a.runtime) if name in known), a.runtime)


def runtime_tables(rp: RunProfiles, top: int = TOP_KINDS) -> list[tuple[str, list[str], list[list[str]], str]]:
    """(heading, header, rows, method note) for each runtime the run was profiled in."""
    out = []
    for runtime in dict.fromkeys(a.runtime for a in rp.artifacts):
        cols = [a for a in rp.artifacts if a.runtime == runtime]
        fp32s = [a for a in cols if a.precision == "fp32"]
        header = ["", *(a.column for a in cols)]
        rows = [
            ["total ms", *(_total(a, fp32s) for a in cols)],
            ["ops computing in int8", *(str(a.int8_ops) for a in cols)],
            ["ops left in float (int8 graph)", *(_float_cell(a) for a in cols)],
            ["quantize/dequantize ops", *(str(a.qdq_ops) for a in cols)],
        ]
        kinds = _top_kinds(cols, top)
        for kind in kinds:
            rows.append(
                [kind, *(f"{a.shares[kind][0]:.1%} ({a.shares[kind][1]})" if kind in a.shares else "-" for a in cols)]
            )
        rest = []
        for a in cols:
            share = sum(s for k, (s, _) in a.shares.items() if k not in kinds)
            count = sum(n for k, (_, n) in a.shares.items() if k not in kinds)
            rest.append(f"{share:.1%} ({count})" if count else "-")
        if any(cell != "-" for cell in rest):
            rows.append(["other", *rest])
        methods = "; ".join(dict.fromkeys(a.method for a in cols if a.method))
        out.append((f"{rp.label}: {runtime_title(cols[0])}", header, rows, methods))
    return out


def profile_records(profiles: list[RunProfiles]) -> list[dict[str, Any]]:
    """The report JSON's ``profiles``: each run's profile.json as written."""
    return [{"run": rp.label, "path": str(rp.path), "artifacts": list(rp.raw)} for rp in profiles]
