"""Measurements in a fresh process: a child that has loaded only what it measures.

What else a process holds changes timings (another runtime's thread pools and allocations; an
OpenMP wait policy that libgomp read when it loaded), so a study runs its timing in a child:
``run_in_fresh_process`` writes a JSON spec, runs ``python -m MODULE SPEC.json`` and returns the
JSON the child wrote next to the spec; the child module's ``__main__`` calls ``child_main`` with
the function that does the work. ``preload`` imports modules before the child's own (before
``import edgekp``, which sets an OpenMP wait policy), e.g. torch under a policy the environment gives.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from edgekp.errors import EdgeKPError


def _result_path(spec_path: Path) -> Path:
    return spec_path.with_suffix(".out.json")


def run_in_fresh_process(
    module: str,
    spec: dict[str, Any],
    spec_path: Path,
    what: str,
    env: Mapping[str, str] | None = None,
    preload: tuple[str, ...] = (),
    timeout: float | None = None,
) -> dict[str, Any]:
    """The result of ``module``'s child run on ``spec`` (written to ``spec_path``) in a new interpreter.

    A child that fails, or writes no result, is an EdgeKPError naming ``what`` and the end of its stderr."""
    spec_path.write_text(json.dumps(spec))
    result_path = _result_path(spec_path)
    result_path.unlink(missing_ok=True)
    if preload:
        imports = "".join(f"import {name}; " for name in preload)
        code = f"{imports}import runpy; runpy.run_module({module!r}, run_name='__main__', alter_sys=True)"
        command = [sys.executable, "-c", code, str(spec_path)]
    else:
        command = [sys.executable, "-m", module, str(spec_path)]
    done = subprocess.run(
        command,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0 or not result_path.is_file():
        raise EdgeKPError(f"{what} in its own process failed: {done.stderr.strip()[-500:]}")
    return json.loads(result_path.read_text())


def child_main(work: Callable[[dict[str, Any]], dict[str, Any]], argv: list[str] | None = None) -> None:
    """The child's side: read the spec named on the command line, write ``work(spec)`` beside it."""
    spec_path = Path((argv or sys.argv)[1])
    result = work(json.loads(spec_path.read_text()))
    _result_path(spec_path).write_text(json.dumps(result))


def loaded_modules(names: Iterable[str]) -> list[str]:
    """Which of these top-level modules this process has loaded (what shared a child's process)."""
    return sorted(name for name in names if name in sys.modules)
