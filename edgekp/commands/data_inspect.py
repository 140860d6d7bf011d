"""edgekp data inspect PATH: faces, points and scheme, image sizes, poses and problems of a dataset.

Every problem (missing or truncated image, unreadable annotation, wrong point count, NaN coordinates)
is collected and listed rather than stopping at the first. Without ``--skip-bad`` a dataset with
problems exits with code 2 after the report (training would refuse it too); with ``--skip-bad`` the
report is the same and the exit code 0 (training with ``data.skip_bad`` would leave those faces out).

JSON output (``--json``) keys:

- ``path``, ``format`` (reader(s) used, e.g. ``pts`` or ``ljson+pts``), ``scheme``, ``num_points``
- ``faces``: faces read with usable landmarks; ``photos``: distinct source photos
- ``images``: ``distinct``, ``readable``, ``bad``, ``decoded`` (fully decoded, not just headers),
  ``width``/``height`` as ``{min, max}`` in pixels (absent when no image is readable)
- ``visibility``: ``carried`` (the format has per-point visibility), ``points``: ``{visible, occluded,
  self_occluded}`` point counts (COCO v 2 / 1 / 0; self-occluded points have no location),
  ``labelled_points``, ``faces_with_self_occlusion``, ``faces_with_occlusion``, ``labelled_per_face``
  ``{min, max, mean}``
- ``pose``: ``source`` of yaw (``label``, ``estimate``, ``label+estimate`` or ``none``), ``labelled``,
  ``estimated`` (faces, by yaw), ``unknown``, ``yaw_threshold`` (degrees), ``large``/``small`` (|yaw|
  above / not above it), ``yaw_bins`` (faces with |yaw| in 0-30, 30-60, 60-90), and
  ``yaw``/``pitch``/``roll`` each ``{source, min, max, mean, abs_mean, histogram: {edges, counts}}``
  (MERL-RAV labels yaw only: its pitch and roll are estimates); ``note`` says when poses are not
  estimated (only 68-point schemes are). Estimates fit the labelled points off the jaw contour.
- ``problems``: list of ``{file, reason}``; ``problem_count``
- ``notices``: problems that do not stop a read, list of ``{file, reason}`` (a v = 0 point with
  coordinates, read as unlabelled; a face with too few labelled points, left out); ``notice_count``.
  They never change the exit code.
"""

from __future__ import annotations

import argparse

from edgekp.commands.common import add_json, print_result
from edgekp.errors import DataError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from edgekp.data.readers import ALIASES, FORMATS
    from edgekp.data.schemes import SCHEMES

    parser.add_argument("path", metavar="PATH", help="dataset folder or annotation file")
    parser.add_argument(
        "--format",
        default="auto",
        choices=["auto", *FORMATS, *ALIASES],
        help="annotation format (default: detect from the path)",
    )
    parser.add_argument(
        "--scheme", default=None, choices=sorted(SCHEMES), help="landmark scheme (default: from the point count)"
    )
    parser.add_argument("--skip-bad", action="store_true", help="report bad faces and exit 0 instead of failing")
    parser.add_argument(
        "--headers-only", action="store_true", help="read image headers for sizes instead of decoding every image"
    )
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    from edgekp.data.inspect import format_report, inspect_dataset

    report = inspect_dataset(args.path, format=args.format, scheme=args.scheme, decode=not args.headers_only)
    print_result(args, report, format_report(report))
    if report["problems"] and not args.skip_bad:
        first = report["problems"][0]
        raise DataError(
            f"{report['problem_count']} problem(s) in {report['path']} (first: {first['file']}: {first['reason']}); "
            "fix them, or pass --skip-bad (data.skip_bad in a recipe) to leave those faces out"
        )
    return 0
