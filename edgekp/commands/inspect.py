"""edgekp inspect: print the edgekp-model/2 contract embedded in an exported file (any format)."""

from __future__ import annotations

import argparse
from typing import Any

from edgekp.commands.common import add_json, print_result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="an exported .tflite, .onnx, .mlpackage or OpenVINO .xml file")
    add_json(parser)


def describe(contract: Any, target: str) -> str:
    """The contract in a few human lines: what the app writes, how it crops, what it reads back."""
    i, c, o = contract.input, contract.crop, contract.output
    extra = contract.model_extra or {}
    lines = [
        f"format:  {contract.format} ({target} {extra.get('precision', '?')}, route {extra.get('route', '?')})",
        f"input:   {i.name} {i.shape()} {i.layout} {i.color} {i.dtype} in [{i.range[0]:g}, {i.range[1]:g}]"
        + (f"; {(i.model_extra or {})['kind']}" if "kind" in (i.model_extra or {}) else ""),
        f"crop:    square on the face box centre, side = max(w, h) * {c.side_scale:g}; bilinear, black outside; "
        f"refine {c.refine}x on the predicted landmarks' box"
        + (
            f" (best per box source: {', '.join(f'{k} {v}' for k, v in c.refine_by_box_source.items())})"
            if getattr(c, "refine_by_box_source", None)
            else ""
        ),
        f"output:  {o.landmarks.name} {o.landmarks.shape} {o.landmarks.dtype}, {o.landmarks.coordinates} "
        "(crop pixel = u * width - 0.5)",
    ]
    if o.presence is not None:
        lines.append(
            f"         {o.presence.name} {o.presence.shape} {o.presence.kind}, threshold {o.presence.threshold}"
        )
    s, m = contract.scheme, contract.model
    lines.append(f"scheme:  {s.name}, {s.num_points} points, {len(s.flip_pairs)} flip pairs")
    lines.append(f"model:   {m.name}, weights sha256 {m.weights_sha256[:16]}..., edgekp {m.edgekp_version}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from edgekp.bench.predictor import read_contract
    from edgekp.errors import DataError

    path = Path(args.file)
    if not path.exists():
        raise DataError(f"file not found: {str(path)!r}")
    contract, target = read_contract(path)
    print_result(args, contract.model_dump(mode="json", exclude_none=True), describe(contract, target))
    return 0
