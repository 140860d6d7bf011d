"""One exception hierarchy for everything a user can get wrong.

The CLI turns any ``EdgeKPError`` into a single ``edgekp: error: ...`` line and exit code 2;
anything else is a bug and keeps its traceback (exit 1).
"""

from __future__ import annotations


class EdgeKPError(Exception):
    """Base class of user-facing errors: the message must say what was wrong and how to fix it."""

    exit_code = 2


class ConfigError(EdgeKPError):
    """A recipe, an override or a command-line option is invalid."""


class DataError(EdgeKPError):
    """A dataset, image or annotation cannot be used; the message names the file."""


class MissingBackendError(EdgeKPError):
    """An optional backend is not installed; the message names the pip extra that brings it."""

    def __init__(self, package: str, extra: str, purpose: str = "") -> None:
        what = f" (needed for {purpose})" if purpose else ""
        super().__init__(
            f"the optional package {package!r} is not installed{what}; install it with: pip install 'edgekp[{extra}]'"
        )
        self.package = package
        self.extra = extra


class UnsupportedOptionError(EdgeKPError):
    """A combination of options that edgekp does not support (e.g. a target/precision pair)."""


class LineageError(EdgeKPError):
    """A run directory is missing, corrupt, or of a kind this stage cannot follow."""


class ExportValidationError(EdgeKPError):
    """An exported artifact failed its parity checks against PyTorch (all failures listed)."""


class NotBuiltError(EdgeKPError):
    """A verb whose implementation has not landed yet; never a fake result."""

    def __init__(self, verb: str, issue: str) -> None:
        super().__init__(f"'edgekp {verb}' is not built yet ({issue}); no result was produced")


class TrainingError(EdgeKPError):
    """Training cannot go on (e.g. a non-finite loss); the last good checkpoint is left intact."""
