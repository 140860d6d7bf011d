"""What machine a result came from: CPU model, ISA flags, cores, threads, library versions."""

from __future__ import annotations

import importlib.metadata
import os
import platform
from pathlib import Path
from typing import Any

# ISA features that change how fast (or whether) int8 and fp16 kernels run.
_ISA_FLAGS = (
    "avx2",
    "fma",
    "avx512f",
    "avx512_vnni",
    "avx512vnni",
    "avx_vnni",
    "avx512_bf16",
    "amx_int8",
    "f16c",
    "neon",
    "asimd",
    "asimddp",
)

_LIBRARIES = (
    "torch",
    "numpy",
    "onnx",
    "onnxruntime",
    "onnxsim",
    "openvino",
    "nncf",
    "coremltools",
    "ai-edge-litert",
    "litert-torch",
    "tensorflow",
    "onnx2tf",
    "opencv-python-headless",
    "pydantic",
)


def _cpuinfo() -> tuple[str, list[str]]:
    model = platform.processor() or platform.machine()
    flags: list[str] = []
    info = Path("/proc/cpuinfo")
    if info.exists():
        for line in info.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            key = key.strip().lower()
            if key in ("model name", "hardware") and model in ("", platform.machine(), platform.processor()):
                model = value.strip()
            elif key in ("flags", "features") and not flags:
                present = set(value.split())
                flags = [f for f in _ISA_FLAGS if f in present]
    return model, flags


def library_versions(names: tuple[str, ...] = _LIBRARIES) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def host_info(threads: int | None = None) -> dict[str, Any]:
    model, flags = _cpuinfo()
    info: dict[str, Any] = {
        "cpu": model,
        "isa": flags,
        "has_vnni": any("vnni" in f for f in flags),
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "libraries": library_versions(),
    }
    if threads is not None:
        info["threads"] = threads
    return info
