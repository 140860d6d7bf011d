"""How many lines an edgekp command prints (stdout and stderr together), and how many of them are edgekp's own.

Runs each command once in a fresh process, from the current folder, and prints a table: the command, its exit
code, total lines, edgekp's lines (its log lines, its one-line errors and the verb's own summary) and the rest
(third-party output), with the host's CPU and ISA. The transcripts are written beside, one file per command.

    python benchmarks/cli_noise.py --out /tmp/noise
    python benchmarks/cli_noise.py --out /tmp/noise -- run recipes/quickstart.yaml     # one command of your own
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
from pathlib import Path

from edgekp.measure.host import host_info

DEFAULT = [
    "export --target tflite --out {out}/tflite",
    "-q export --target tflite --out {out}/tflite_q",
    "-v export --target tflite --out {out}/tflite_v",
]
# edgekp's logger format ("HH:MM:SS LEVEL ..."), its error prefix, and the export verb's result lines.
OWN = re.compile(r"^(\d\d:\d\d:\d\d (DEBUG|INFO|WARNING|ERROR) |edgekp: |written to: |\S+ -> \S+ \(\d+ KB)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for exports and transcripts")
    parser.add_argument("command", nargs="*", help="one edgekp command line (after --); default: the export trio")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    commands = [" ".join(args.command)] if args.command else [c.format(out=args.out) for c in DEFAULT]
    host = host_info()
    print(f"host: {host.get('cpu')}, ISA {', '.join(host.get('isa', []))}, {host.get('cores')} cores")
    print("| command | exit | lines | edgekp's | other |\n|---|---|---|---|---|")
    for n, command in enumerate(commands):
        proc = subprocess.run(
            [sys.executable, "-m", "edgekp", *shlex.split(command)], capture_output=True, text=True, check=False
        )
        text = proc.stdout + proc.stderr
        (args.out / f"transcript_{n}.txt").write_text(f"$ edgekp {command}\n{proc.stderr}{proc.stdout}")
        lines = text.splitlines()
        own = sum(bool(OWN.match(line)) for line in lines)
        print(f"| `edgekp {command}` | {proc.returncode} | {len(lines)} | {own} | {len(lines) - own} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
