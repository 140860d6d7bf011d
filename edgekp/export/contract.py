"""The ``edgekp-model/2`` contract: everything an app needs to run an exported file, inside the file.

One typed document, written once per export and embedded by every target (TFLite metadata entry
``edgekp``, CoreML ``user_defined_metadata["edgekp"]``, OpenVINO ``rt_info["edgekp"]``, ONNX
``metadata_props["edgekp"]``), each a JSON string. It says exactly what the app writes into the input
tensor, how to cut the crop from a face box (what ``edgekp predict`` does), what the outputs mean,
and which model made the file. docs/deploy.md explains it for app developers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from edgekp import __version__
from edgekp.config.export import DEFAULT_REFINE, REFINE_BY_BOX_SOURCE
from edgekp.errors import LineageError

if TYPE_CHECKING:
    from edgekp.export.base import ExportSpec, Target

INPUT_NAME, OUTPUT_NAME = "images", "points"  # the tensor names on every target
FORMAT = "edgekp-model/2"
KEY = "edgekp"  # the metadata entry / key that holds the contract in every format
LANDMARKS = "landmarks"  # output names of a model with a presence head (others keep "points")
PRESENCE = "presence"


def has_presence(model: Any) -> bool:
    """The model has a face-presence head (``forward_with_presence(x) -> (landmarks, logit)``)."""
    return bool(getattr(model, "has_presence", False))


def presence_threshold(model: Any) -> float | None:
    value = getattr(model, "presence_threshold", None)
    if value is None or callable(value):
        value = getattr(getattr(model, "config", None), "presence_threshold", None)
    return None if value is None else float(value)


class _Part(BaseModel):
    # Extra keys are welcome (the schema grows by adding); required keys are checked.
    model_config = ConfigDict(extra="allow")


class InputSpec(_Part):
    """Exactly what the app writes into the input tensor; everything else happens inside the graph."""

    name: str = Field(description="the input tensor's name")
    layout: Literal["NHWC", "NCHW"]
    height: int = Field(gt=0)
    width: int = Field(gt=0)
    channels: Literal[3] = 3
    color: Literal["RGB"] = "RGB"
    dtype: Literal["uint8", "float32"]
    range: tuple[float, float]

    def shape(self) -> list[int]:
        if self.layout == "NHWC":
            return [1, self.height, self.width, self.channels]
        return [1, self.channels, self.height, self.width]


class CropSpec(_Part):
    """A square centred on the face box, side = max(w, h) * side_scale, bilinear, black outside the
    image; then re-centred on the predicted landmarks' box (same side_scale) ``refine`` times."""

    side_scale: float = Field(gt=0)
    refine: int = Field(ge=0)
    center: str = "the box centre"
    sampling: str = (
        "bilinear (cv2.warpAffine INTER_LINEAR), black outside the image; when the crop shrinks the "
        "image below 0.5x, the image is first resized by f = min(1, 2 * size / side) with INTER_AREA"
    )
    refine_box: str = "the predicted landmarks' min/max box (image pixels kept as float32 between passes)"
    # Measured best refine count per box source (benchmarks/refine_choice.py); ``refine`` is the default.
    refine_by_box_source: dict[str, int] = Field(default_factory=lambda: dict(REFINE_BY_BOX_SOURCE))


class Quantization(_Part):
    scale: float
    zero_point: int


class LandmarksSpec(_Part):
    name: str
    shape: list[int]
    coordinates: Literal["crop_unit"] = "crop_unit"
    convention: str = "crop pixel x = u * width - 0.5, y = v * height - 0.5 (0 and 1 are the crop's outer edges)"
    dtype: Literal["float32", "int8"] = "float32"
    quantization: Quantization | None = None


class PresenceSpec(_Part):
    name: str
    shape: list[int] = Field(default_factory=lambda: [1, 1])
    kind: Literal["logit"] = "logit"
    threshold: float | None = None


class OutputSpec(_Part):
    landmarks: LandmarksSpec
    presence: PresenceSpec | None = None


class SchemeSpec(_Part):
    name: str
    num_points: int = Field(gt=0)
    flip_pairs: list[tuple[int, int]]


class ModelSpec(_Part):
    name: str
    weights_sha256: str
    edgekp_version: str


class Contract(_Part):
    format: Literal["edgekp-model/2"]
    input: InputSpec
    crop: CropSpec
    output: OutputSpec
    scheme: SchemeSpec
    model: ModelSpec

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json", exclude_none=True), sort_keys=True)

    @property
    def margin(self) -> float:
        """The crop margin per side that side_scale encodes (side = max(w, h) * (1 + 2 * margin))."""
        return (self.crop.side_scale - 1.0) / 2.0


def build_contract(
    *,
    input_name: str,
    layout: str,
    size: int,
    dtype: str,
    crop_margin: float,
    refine: int,
    output_name: str,
    num_points: int,
    scheme: Any,
    model_name: str,
    weights_sha256: str,
    presence: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Contract:
    """The contract of one export; ``extra`` adds keys (target, precision, the flat edgekp-export/1 metadata)."""
    rng = (0.0, 255.0) if dtype == "uint8" else (0.0, 1.0)
    output: dict[str, Any] = {"landmarks": {"name": output_name, "shape": [1, num_points, 2]}}
    if presence is not None:
        output["presence"] = presence
    return Contract.model_validate(
        {
            "format": FORMAT,
            "input": {
                "name": input_name,
                "layout": layout,
                "height": size,
                "width": size,
                "dtype": dtype,
                "range": rng,
            },
            "crop": {"side_scale": 1.0 + 2.0 * crop_margin, "refine": refine},
            "output": output,
            "scheme": {
                "name": getattr(scheme, "name", "unknown"),
                "num_points": num_points,
                "flip_pairs": [list(p) for p in getattr(scheme, "flip_pairs", ())],
            },
            "model": {"name": model_name, "weights_sha256": weights_sha256, "edgekp_version": __version__},
            **(extra or {}),
        }
    )


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(root)"


def parse_contract(text: str | bytes | None, source: str, export_hint: str) -> Contract:
    """The contract read from a file; a one-line LineageError naming the missing or wrong field and
    the export command that writes a complete one."""
    if text is None:
        raise LineageError(
            f"{source!r} holds no {KEY!r} contract ({FORMAT}): missing field {KEY!r}; "
            f"re-export it to embed one: {export_hint}"
        )
    try:
        data = json.loads(text)
    except ValueError:
        raise LineageError(f"{source!r}: its {KEY!r} contract is not JSON; re-export it: {export_hint}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise LineageError(
            f"{source!r}: its {KEY!r} metadata is {found!r}, not the {FORMAT} contract "
            f"(missing field 'format'/'input'/'crop'); re-export it: {export_hint}"
        )
    try:
        return Contract.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        what = "missing field" if err["type"] == "missing" else f"bad field ({err['msg']})"
        raise LineageError(
            f"{source!r}: its {FORMAT} contract has a {what} {_field(err['loc'])!r}; re-export it: {export_hint}"
        ) from None


def check_input_shape(contract: Contract, tensor_shape: list[int], source: str) -> None:
    """A contract whose input disagrees with the file's own input tensor is refused (one line)."""
    declared = contract.input.shape()
    if [int(v) for v in tensor_shape] != declared:
        raise LineageError(
            f"{source!r}: its contract says the input is {declared} ({contract.input.layout} "
            f"{contract.input.dtype}) but the file's input tensor is {list(tensor_shape)}; the file was altered or "
            "mislabelled"
        )


def export_contract(
    model: Any, metadata: dict[str, str], scheme: Any, layout: str, dtype: str, margin: float, source_hash: str
) -> dict[str, Any]:
    """The edgekp-model/2 contract of one export (the flat edgekp-export/1 metadata rides along as ``export``)."""
    presence = None
    if has_presence(model):
        presence = {"name": PRESENCE, "shape": [1, 1], "kind": "logit", "threshold": presence_threshold(model)}
    contract = build_contract(
        input_name=INPUT_NAME,
        layout=layout,
        size=int(metadata["input_size"]),
        dtype=dtype,
        crop_margin=margin,
        refine=DEFAULT_REFINE,
        output_name=LANDMARKS if presence else OUTPUT_NAME,
        num_points=int(metadata["num_points"]),
        scheme=scheme,
        model_name=metadata["model"],
        weights_sha256=source_hash,
        presence=presence,
        extra={
            "target": metadata["target"],
            "precision": metadata["precision"],
            "route": metadata["route"],
            "export": metadata,
        },
    )
    return contract.model_dump(mode="json", exclude_none=True)


def check_embedded_contract(target: Target, artifact: Path, spec: ExportSpec) -> list[str]:
    """Problems of the contract read back from the artifact: absent, unparsable, or not what was written."""
    try:
        found = parse_contract(target.contract_text(artifact), str(artifact), "edgekp export")
    except LineageError as exc:
        return [f"embedded contract: {exc}"]
    if found.input.shape() != Contract.model_validate(spec.contract).input.shape():
        return ["embedded contract input differs from the export's"]
    return []
