"""Sentences about the host a result came from, derived from what the bench recorded (never assumed).

Whether int8 should beat fp32 depends on the CPU: x86 int8 kernels gain from VNNI (the int8
dot-product instructions, ``avx512_vnni`` or ``avx_vnni``), ARM ones from the dot-product
extension (``asimddp``). A report read on another machine must describe the machine that measured.
"""

from __future__ import annotations

from typing import Any

_ARM_DOT = "asimddp"


def has_int8_dot(host: dict[str, Any]) -> bool | None:
    """True/False from the recorded host; None when the record says nothing about it."""
    isa = [str(f) for f in host.get("isa") or []]
    if host.get("has_vnni") is True or any("vnni" in f for f in isa) or _ARM_DOT in isa:
        return True
    if "has_vnni" in host or isa:
        return False
    return None


def _name(host: dict[str, Any]) -> str:
    return str(host.get("cpu") or "unknown CPU")


def _dot_name(host: dict[str, Any]) -> str:
    isa = [str(f) for f in host.get("isa") or []]
    found = [f for f in isa if "vnni" in f or f == _ARM_DOT]
    return ", ".join(found) or "VNNI"


def int8_expectation(hosts: list[dict[str, Any]]) -> str:
    """One sentence on whether int8 is expected to be faster than fp32, for the recorded host(s)."""
    unique: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}
    for h in hosts:
        unique.setdefault((_name(h), tuple(h.get("isa") or [])), h)
    verdicts = {key: has_int8_dot(h) for key, h in unique.items()}
    known = {k: v for k, v in verdicts.items() if v is not None}
    if not known:
        return "The recorded host does not say whether its CPU has int8 dot-product instructions (VNNI)."
    if all(known.values()):
        names = "; ".join(f"{_name(unique[k])} ({_dot_name(unique[k])})" for k in known)
        return (
            f"The host has int8 dot-product instructions ({names}): int8 kernels can be faster than fp32 here; "
            "where an int8 row is not, the cost is elsewhere (quantize/dequantize steps, ops left in float)."
        )
    if not any(known.values()):
        return (
            "The host has no VNNI (no int8 dot-product instructions): int8 is not expected to be faster than fp32 here."
        )
    with_dot = ", ".join(_name(unique[k]) for k, v in known.items() if v)
    without = ", ".join(_name(unique[k]) for k, v in known.items() if not v)
    return (
        f"Hosts differ: {with_dot} has int8 dot-product instructions (VNNI), {without} has none; "
        "compare int8 with fp32 within one host only."
    )
