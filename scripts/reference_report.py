"""Build the committed reference report (reports/reference/) from finished runs on real faces:
every step an ordinary edgekp command, printed before it runs (edgekp.report.reference).

    python scripts/reference_report.py --data-root ../shared/data \\
        --train runs/kp_hvit_s_merlrav --prune runs/prune_sweep/taylor_50 --variant runs/kp_hvit_t_q_merlrav \\
        --qat openvino=runs/qat/openvino --qat onnx=runs/qat/onnx --qat tflite=runs/qat/tflite \\
        --qat coreml=runs/qat/coreml
"""

import sys

from edgekp.report.reference import main

if __name__ == "__main__":
    sys.exit(main())
