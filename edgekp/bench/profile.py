"""Where the time goes: a per-operator breakdown of one artifact in its own runtime (``edgekp bench --profile``).

Each target with a profiler runs it in its runtime (``Target.profile``; the methods are described in
edgekp.export.onnx_runtime, tflite_runtime and openvino_runtime); this module finds the artifacts of a
run, profiles each, and formats the result. Every report gives: total time, time share and count per
op kind, how many ops stay float in an int8 model, and the count of quantize/dequantize operators.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgekp.export.profiling import QDQ_KINDS, OpTime, Profile  # noqa: F401  (what a profile is, for bench and report)

PROFILE_FILE = "profile.json"  # what `edgekp bench --profile` writes into <run>/bench/, beside bench.json


def _profiling_target(path: Path) -> Any:
    """The target of an artifact when that target has a profiler, else None."""
    from edgekp.export.base import target_for_suffix

    target = target_for_suffix(path.suffix.lower())
    return target if target is not None and target.has_profiler else None


def profile_artifact(path: Path, image: np.ndarray, threads: int = 1) -> Profile:
    target = _profiling_target(path)
    if target is None:
        from edgekp.errors import ConfigError
        from edgekp.export.base import get_target, list_targets

        kinds = [f"{t.name} ({t.capabilities.suffix})" for t in map(get_target, list_targets()) if t.has_profiler]
        raise ConfigError(f"--profile covers {', '.join(kinds)} artifacts, not {path.name!r}")
    return target.profile(path, image, threads)


def format_profile(profile: Profile, top: int = 12) -> str:
    s = profile.summary()
    lines = [
        f"{s['runtime']}: {Path(s['artifact']).name}  total {s['total_ms']:.3f} ms  ({s['method']})",
        f"  ops {s['ops']}: int8 {s['int8_ops']}, float {s['float_ops']}, quantize/dequantize {s['qdq_ops']}",
    ]
    if s["int8_ops"]:
        lines.append(f"  float op kinds in the int8 model: {', '.join(s['float_kinds']) or 'none'}")
    lines.append(f"  {'op kind':<28} {'int8':>5} {'count':>5} {'ms':>8} {'share':>6}")
    for row in s["by_kind"][:top]:
        lines.append(
            f"  {row['kind']:<28} {'yes' if row['int8'] else 'no':>5} {row['count']:>5} {row['ms']:>8.3f} "
            f"{row['share']:>6.1%}"
        )
    return "\n".join(lines)


def _input_size(shape: list[int]) -> int:
    """The square input side of an NCHW or NHWC input shape."""
    return int(shape[2] if shape[1] in (1, 3) else shape[1])


def profile_run(run_dir: str | Path, targets: tuple[str, ...] | None = None, threads: int = 1) -> list[Profile]:
    """A profile of every finished artifact under a run whose target has a profiler (``edgekp bench --profile``)."""
    from edgekp.bench.runs import find_artifacts

    _, refs = find_artifacts(run_dir)
    profiles = []
    for ref in refs:
        target = _profiling_target(ref.path) if ref.status == "ok" and ref.path is not None else None
        if target is None:
            continue
        if targets and ref.target not in targets:
            continue
        size = _input_size(target.artifact_input_shape(ref.path))
        image = np.random.default_rng(0).random((1, 3, size, size), dtype=np.float32)
        profile = target.profile(ref.path, image, threads)
        profile.artifact = f"{ref.target} {ref.precision} ({ref.route}): {ref.path}"
        profile.target, profile.precision, profile.route = ref.target, ref.precision, ref.route
        profiles.append(profile)
    return profiles
