"""edgekp bench: accuracy and latency of every artifact of a run."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from edgekp.commands.common import add_json, add_source, print_result, resolve_from
from edgekp.errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_source(parser, help_text="the run whose artifacts to measure (its model.pt and every export under it)")
    parser.add_argument(
        "--data",
        metavar="PATH",
        action="append",
        help="dataset to measure accuracy on; repeat to score several as one set (default: the run's validation set)",
    )
    parser.add_argument(
        "--holdout",
        action="store_true",
        help="score only the faces of --data that the run's training held out (its 300W validation photos)",
    )
    parser.add_argument("--format", dest="data_format", default="auto", help="dataset format (default: detect)")
    parser.add_argument(
        "--targets", metavar="T,T", help="only these targets, e.g. onnx,tflite (PyTorch fp32 is always measured)"
    )
    parser.add_argument("--threads", default="1", help="comma-separated thread counts for latency, e.g. 1,2")
    parser.add_argument(
        "--max-faces", type=int, default=None, help="score at most this many faces (first ones, sorted)"
    )
    parser.add_argument(
        "--min-runs", type=int, default=100, help="timed calls per latency (or --min-seconds, whichever first)"
    )
    parser.add_argument("--min-seconds", type=float, default=2.0, help="seconds of timed calls per latency")
    parser.add_argument("--warmup", type=int, default=10, help="untimed calls before timing")
    parser.add_argument(
        "--peers", action="store_true", help="also measure dlib and MediaPipe (downloads them with pip into a cache)"
    )
    parser.add_argument(
        "--peers-cache", metavar="DIR", default=None, help="peer cache folder (default: ~/.cache/edgekp/peers)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="per-operator breakdown of each TFLite/OpenVINO/ONNX artifact instead "
        "(op kinds, int8 vs float, Q/DQ count)",
    )
    add_json(parser)


def parse_threads(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(t) for t in str(text).split(",") if t.strip())
    except ValueError:
        raise ConfigError(f"--threads expects comma-separated integers such as 1,2; got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise ConfigError(f"--threads expects positive integers such as 1,2; got {text!r}")
    return values


def _ms(row) -> str:
    return ", ".join(f"{lat.threads}t p50 {lat.p50_ms:.2f} ms" for lat in row.latency) or "-"


def run(args: argparse.Namespace) -> int:
    from edgekp.bench.core import BenchOptions, bench_run
    from edgekp.bench.latency import LatencySettings

    if getattr(args, "profile", False):
        return _profile(args)
    targets = tuple(t.strip() for t in args.targets.split(",") if t.strip()) if args.targets else None
    if targets:
        from edgekp.export.base import get_target

        for t in targets:
            if t != "pytorch":
                get_target(t)  # an unknown name fails here, with a did-you-mean
    opts = BenchOptions(
        data=tuple(args.data) if args.data else None,
        holdout=args.holdout,
        data_format=args.data_format,
        targets=targets,
        threads=parse_threads(args.threads),
        latency=LatencySettings(warmup=args.warmup, min_runs=args.min_runs, min_seconds=args.min_seconds),
        max_faces=args.max_faces,
        peers=args.peers,
        peers_cache=args.peers_cache,
        command="edgekp " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
    )
    result = bench_run(resolve_from(args), opts)
    lines = [f"{result.run_name}: {len(result.rows)} rows on {result.data} ({result.host.get('cpu')})"]
    for row in result.rows:
        acc = f"NME {100 * row.accuracy.nme:.2f}%" if row.accuracy else (row.reason or "; ".join(row.notes)[:80] or "-")
        lines.append(f"  {row.target:9} {row.precision:5} {row.route:10} {row.status:13} {acc:24} {_ms(row)}")
    lines.append(f"written to: {result.run}/bench/bench.json")
    print_result(args, result.model_dump(mode="json", by_alias=True), "\n".join(lines))
    return 0


def _profile(args: argparse.Namespace) -> int:
    import json

    from edgekp.bench.profile import PROFILE_FILE, format_profile, profile_run

    targets = tuple(t.strip() for t in args.targets.split(",") if t.strip()) if args.targets else None
    run = resolve_from(args)
    threads = parse_threads(args.threads)[0]
    profiles = profile_run(run, targets, threads)
    if not profiles:
        raise ConfigError(
            f"{str(run)!r} has no finished TFLite, OpenVINO or ONNX artifact to profile; export one first"
        )
    from edgekp.host import host_info

    # The machine matters for reading int8 against fp32 (VNNI or not), so every entry says where it was measured.
    host = {k: v for k, v in host_info(threads).items() if k in ("cpu", "isa", "has_vnni", "cores")}
    data = [{**p.summary(), "threads": threads, "host": host} for p in profiles]
    out = Path(run) / "bench" / PROFILE_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2))
    print_result(args, data, "\n\n".join(format_profile(p) for p in profiles) + f"\nwritten to: {out}")
    return 0
