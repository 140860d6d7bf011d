"""The JSON schema of bench results (``<run>/bench/bench.json``), as pydantic models.

One ``BenchResult`` per run; one ``BenchRow`` per artifact (the run's own PyTorch fp32 model, each
export under it, and optional peer models). A row carries its status, size/params/FLOPs, accuracy on
one dataset and any number of latency measurements (one per thread count and device).

Adding a latency measured on a phone by hand: write ``<run>/bench/manual.json`` as

    {"schema": "edgekp-bench-manual/1",
     "entries": [{"target": "tflite", "precision": "int8", "route": "litert",
                  "latency": [{"threads": 4, "p50_ms": 3.1, "p90_ms": 3.6, "runs": 200,
                               "device": "Pixel 7 (Tensor G2), CPU", "runtime": "LiteRT 1.4",
                               "source": "manual"}]}]}

Each entry's latencies are appended to the matching (target, precision, route) row, or form a
new row when none matches; ``edgekp report`` shows every device's figures in its own row.
Validation is strict (unknown keys are refused) so a typo does not silently vanish.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA = "edgekp-bench/1"
MANUAL_SCHEMA = "edgekp-bench-manual/1"
Status = Literal["ok", "parity failed", "export failed", "skipped"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Latency(_Model):
    """Per-call latency of one face (batch 1), measured with perf_counter after a warm-up."""

    threads: int = Field(ge=1, description="runtime threads (intra-op)")
    p50_ms: float = Field(ge=0, description="median milliseconds per call")
    p90_ms: float = Field(ge=0, description="90th percentile milliseconds per call")
    runs: int = Field(ge=1, description="timed calls")
    seconds: float | None = Field(None, ge=0, description="wall time of the timed calls")
    warmup: int = Field(0, ge=0, description="untimed calls before timing")
    device: str = Field("host", description="'host' (see BenchResult.host) or the phone/board, in words")
    runtime: str = ""
    runtime_version: str = ""
    source: Literal["measured", "manual"] = "measured"


class YawBin(_Model):
    """Mean NME of the faces in one |yaw| bin, with the normalization it uses."""

    n: int
    nme: float | None = None
    norm: str


class Accuracy(_Model):
    """Landmark accuracy on one dataset, over each face's labelled points. ``nme``/``fr``/``auc`` are
    fractions of the inter-ocular distance (faces whose outer eye corners are not both labelled are
    left out and counted in ``n_unscored``); the ``*_box`` fields divide by sqrt(w * h) of the labelled
    points' box and score every face. ``by_yaw`` maps a normalization to its |yaw| bins."""

    data: str
    data_hash: str
    norm: str = "inter_ocular"
    threshold: float = 0.10
    n: int
    nme: float
    fr: float = Field(description="failure rate: fraction of faces with NME > threshold")
    auc: float = Field(description="area under the CED from 0 to threshold, divided by threshold")
    nme_large: float | None = None
    nme_small: float | None = None
    n_large: int = 0
    n_small: int = 0
    large_pose_rule: str = ""
    points: str = Field("all", description="which points were scored: 'all' or the subset, in words")
    nme_corners: float | None = Field(None, description="NME over eye and mouth corners only (36, 39, 42, 45, 48, 54)")
    n_unscored: int = Field(
        0, description="faces left out of the inter-ocular figures: an outer eye corner has no location"
    )
    nme_box: float | None = Field(None, description="NME normalized by sqrt(w * h) of the labelled points' box")
    nme_corners_box: float | None = Field(None, description="box-normalized NME over the eye and mouth corners only")
    fr_box: float | None = None
    auc_box: float | None = None
    by_yaw: dict[str, dict[str, YawBin]] = Field(
        default_factory=dict, description="normalization -> |yaw| bin ('0-30', '30-60', '60-90') -> n and NME"
    )
    pose_source: str = Field("", description="where |yaw| came from: label, estimate or label+estimate")
    per_landmark: list[float | None] = Field(
        default_factory=list, description="mean error per point (scored points only)"
    )
    errors: list[float] = Field(default_factory=list, description="per-face NME, for CED curves")


class BenchRow(_Model):
    run: str = Field(description="run directory name")
    variant: str = Field(description="the run's kind: train, prune, qat; 'peer' for peer models")
    target: str = Field(description="pytorch, onnx, tflite, coreml, openvino, or a peer: dlib, mediapipe")
    precision: str
    route: str = ""
    status: Status
    reason: str = ""
    artifact: str | None = None
    sha256: str | None = None
    size_bytes: int | None = None
    params: int | None = None
    flops: int | None = Field(None, description="FLOPs of one forward pass (2 per multiply-add)")
    num_points: int | None = None
    scheme: str | None = None
    accuracy: Accuracy | None = None
    latency: list[Latency] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class BenchResult(_Model):
    schema_: str = Field(SCHEMA, alias="schema")
    run: str = Field(description="absolute path of the run directory")
    run_name: str
    kind: str
    created: str
    command: str = ""
    host: dict = Field(
        default_factory=dict, description="edgekp.measure.host.host_info(): CPU, ISA flags, cores, versions"
    )
    data: str | None = None
    threads: list[int] = Field(default_factory=list)
    samples: str | None = Field(None, description="npz (relative to bench/) with sample crops and predictions")
    rows: list[BenchRow]

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ManualEntry(_Model):
    target: str
    precision: str
    route: str = ""
    latency: list[Latency]
    notes: list[str] = Field(default_factory=list)


class ManualLatencies(_Model):
    schema_: Literal["edgekp-bench-manual/1"] = Field(MANUAL_SCHEMA, alias="schema")
    entries: list[ManualEntry]

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
