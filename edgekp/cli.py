"""The ``edgekp`` command: one subcommand per verb, user errors as one line and exit code 2."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence

from edgekp import __version__
from edgekp.config.base import nearest
from edgekp.errors import EdgeKPError
from edgekp.logs import configure_logging, filter_native_stderr, quiet_third_party

# verb -> (one-line help, module holding add_arguments(parser) and run(args) -> int)
VERBS: dict[str, tuple[str, str]] = {
    "train": ("train a model from a train recipe", "edgekp.commands.train"),
    "eval": ("measure NME, FR and AUC of a model on a dataset", "edgekp.commands.eval"),
    "predict": ("detect faces in photos and predict their landmarks", "edgekp.commands.predict"),
    "qat": ("quantization-aware training for an int8 target", "edgekp.commands.qat"),
    "prune": (
        "physically remove attention heads (and, by recipe, whole modules and MLP channels), then fine-tune",
        "edgekp.commands.prune",
    ),
    "export": ("export a model to onnx, tflite, coreml or openvino, checked against PyTorch", "edgekp.commands.export"),
    "inspect": (
        "print the contract (input, crop, outputs) embedded in an exported model file",
        "edgekp.commands.inspect",
    ),
    "bench": ("measure accuracy and latency of a run's artifacts", "edgekp.commands.bench"),
    "report": ("write Markdown/HTML/JSON reports for one or several runs", "edgekp.commands.report"),
    "run": (
        "run a whole pipeline recipe (data -> train -> prune -> qat -> export -> bench -> report)",
        "edgekp.commands.run",
    ),
    "data": ("inspect datasets, render the synthetic default, build calibration sets", "edgekp.commands.data"),
}


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one ``edgekp: error:`` line with a did-you-mean, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        if "invalid choice:" in message:
            seen = message.split("invalid choice:", 1)[1].split("(", 1)[0].strip().strip("'\"")
            choices = []
            for action in self._actions:
                if action.choices and seen not in action.choices:
                    choices.extend(str(c) for c in action.choices)
            hint = nearest(seen, choices)
            if hint:
                message = f"{message}; did you mean {hint!r}?"
        # "edgekp export" -> "export: ...": the line already starts with "edgekp: error:".
        where = self.prog.removeprefix("edgekp").strip()
        raise SystemExit(_fail(f"{where}: {message}" if where else message))


def _reader_went_away() -> int:
    """``edgekp ... --json | head``: the reader stopped reading; that is its choice, not an error to report.

    stdout is pointed at /dev/null so the interpreter's final flush does not raise a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 0


def _fail(message: str) -> int:
    print(f"edgekp: error: {message}".replace("\n", " "), file=sys.stderr)
    return 2


VERBOSE_HELP = "also show third-party library logs; tracebacks on errors (the exit code stays the same)"
QUIET_HELP = "warnings and errors only, no progress"


def common_options() -> argparse.ArgumentParser:
    """-v/-q after the verb. Their defaults are SUPPRESS so a flag given before the verb (on the main
    parser) is not overwritten by the subparser's default."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help=VERBOSE_HELP)
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help=QUIET_HELP)
    return common


def _verbosity_from_argv(argv: Sequence[str]) -> int:
    """-1 (-q), 0 or the number of -v, read from the raw arguments before anything is parsed or imported,
    so the libraries can be silenced before they load."""
    verbose, quiet = 0, False
    for token in argv:
        if token == "--":
            break
        if token == "--verbose":
            verbose += 1
        elif token == "--quiet":
            quiet = True
        elif token.startswith("-") and not token.startswith("--") and len(token) > 1 and set(token[1:]) <= {"v", "q"}:
            verbose += token.count("v")
            quiet = quiet or "q" in token
    return -1 if quiet else verbose


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="edgekp", description="Train a face-keypoint model and take it to phones.")
    parser.add_argument("--version", action="version", version=f"edgekp {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help=VERBOSE_HELP)
    parser.add_argument("-q", "--quiet", action="store_true", default=False, help=QUIET_HELP)
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    common = common_options()
    for verb, (help_text, module_name) in VERBS.items():
        verb_parser = sub.add_parser(verb, help=help_text, description=help_text, parents=[common])
        importlib.import_module(module_name).add_arguments(verb_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # OpenMP threads that spin while waiting stall for hundreds of ms when another process holds a
    # core (seen here: 670 ms per call); sleeping waits cost little. Must be set before torch loads.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    argv = list(sys.argv[1:] if argv is None else argv)
    # Before any verb module (and through it TensorFlow, NNCF, OpenVINO, torch) is imported.
    verbosity = _verbosity_from_argv(argv)
    quiet_third_party(verbosity)
    native = filter_native_stderr(verbosity)
    try:
        return _main(argv)
    finally:
        if native is not None:
            native.close()


def _main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verb is None:
        parser.print_help()
        return 2
    verbosity = -1 if args.quiet else args.verbose
    configure_logging(verbosity)
    # The composition root: compressors register their checkpoint formats with edgekp.lineage.checkpoints
    # (cheap: the quantizers themselves load only with a QAT checkpoint), so every verb reads every run.
    import edgekp.compress  # noqa: F401

    module = importlib.import_module(VERBS[args.verb][1])
    try:
        return int(module.run(args) or 0)
    except EdgeKPError as exc:
        # -v adds the traceback; the exit code stays 2, a user error whatever the verbosity.
        if args.verbose:
            traceback.print_exc()
        return _fail(str(exc))
    except KeyboardInterrupt:
        return _fail("interrupted")
    except BrokenPipeError:
        return _reader_went_away()
    except Exception as exc:
        if args.verbose:
            traceback.print_exc()
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        print(f"edgekp: internal error (a bug; -v shows the traceback): {type(exc).__name__}: {first}", file=sys.stderr)
        return 1
