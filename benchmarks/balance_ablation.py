"""The patent's ablation, pose balancing on against off, per |yaw| bin: a thin command over
edgekp.report.balance_ablation (its docstring and --help give the commands and what is measured).

    python -m benchmarks.balance_ablation --data-root ../shared/data --device auto --budget-min 120 --reuse
    python -m benchmarks.balance_ablation --table --paired
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from edgekp.report.balance_ablation import main

if __name__ == "__main__":
    sys.exit(main(default_levers=Path(__file__).resolve().with_name("train_levers.yaml")))
