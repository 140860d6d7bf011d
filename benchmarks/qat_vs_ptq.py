"""fp32 vs post-training int8 vs QAT int8, per target that runs here, from the exported artifacts in
their real runtimes, on every face set of the reference report (edgekp.report.qat_vs_ptq: the face
sets, how they are read and scored, the routes).

    python -m benchmarks.qat_vs_ptq --from runs/kp_hvit_s_merlrav --data-root ../shared/data --qat-minutes 8
    python -m benchmarks.qat_vs_ptq --from RUN --data-root ../shared/data --qat-minutes 0.5 \
        --max-train-faces 60 --eval-faces 40
"""

import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # busy cores: OpenMP spin-waits distort timings

from edgekp.report.qat_vs_ptq import main

if __name__ == "__main__":
    sys.exit(main())
