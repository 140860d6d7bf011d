"""edgekp data calib: build a calibration set definition (which faces, chosen how, with hashes)."""

from __future__ import annotations

import argparse
from pathlib import Path

from edgekp.commands.common import add_json, print_result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        metavar="PATH",
        action="append",
        default=[],
        help="dataset folder/file (repeatable); 'synthetic' renders faces with the embedded generator",
    )
    parser.add_argument(
        "--data-root",
        metavar="DIR",
        help="paths are stored relative to this folder (default: the first --data's parent)",
    )
    parser.add_argument("--n", type=int, required=True, help="number of faces")
    parser.add_argument("--out", metavar="FILE", required=True, help="definition to write, e.g. calibration/NAME.yaml")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--balanced",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="half large-pose, half small-pose faces, as far as the source allows (default on)",
    )
    parser.add_argument("--yaw-threshold", type=float, default=30.0, help="|yaw| above this is large pose (degrees)")
    parser.add_argument(
        "--exclude-holdout",
        metavar="RUN",
        help="never choose the faces this training run held out for validation (so reports score unseen faces)",
    )
    parser.add_argument("--render-size", type=int, default=160, help="synthetic: rendered image size")
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    from edgekp.data.calibration import SyntheticSource, build_definition, write_definition
    from edgekp.errors import ConfigError

    if args.n < 1:
        raise ConfigError(f"--n must be at least 1 (got {args.n})")
    out = Path(args.out)
    name = out.stem
    if args.data == ["synthetic"]:
        definition = build_definition(
            name,
            n=args.n,
            seed=args.seed,
            balanced=args.balanced,
            yaw_threshold=args.yaw_threshold,
            # Render a larger pool so a balanced choice is possible (the generator's poses are mostly small).
            synthetic=SyntheticSource(
                size=args.render_size, seed=args.seed, pool=args.n * 4 if args.balanced else None
            ),
        )
    elif not args.data or "synthetic" in args.data:
        raise ConfigError("give --data PATH (repeatable) for real faces, or --data synthetic alone")
    else:
        root = Path(args.data_root) if args.data_root else Path(args.data[0]).expanduser().resolve().parent
        exclude = None
        if args.exclude_holdout:
            from edgekp.bench.holdout import holdout_of_run

            exclude = {key: set(sources) for key, sources in holdout_of_run(args.exclude_holdout).items()}
        definition = build_definition(
            name,
            n=args.n,
            seed=args.seed,
            balanced=args.balanced,
            yaw_threshold=args.yaw_threshold,
            datasets=args.data,
            data_root=root,
            exclude=exclude,
        )
    write_definition(definition, out)
    n_large = sum(1 for f in definition.faces if f.large_pose)
    result = {
        "out": str(out),
        "name": name,
        "faces": len(definition.faces),
        "large_pose": n_large,
        "source": definition.source,
        "datasets": [d.path for d in definition.datasets],
    }
    text = (
        f"wrote {out}: {len(definition.faces)} faces ({n_large} large-pose at |yaw| > {args.yaw_threshold:g}), "
        f"source {definition.source}" + (f" {', '.join(result['datasets'])}" if result["datasets"] else "")
    )
    print_result(args, result, text)
    return 0
