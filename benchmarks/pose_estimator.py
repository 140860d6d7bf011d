"""Measure edgekp's head-pose estimator (edgekp.data.pose) against real yaw labels (edgekp.data.pose_validation:
the label sets, the figures, issue 12's bounds).

Usage: python -m benchmarks.pose_estimator --data ../shared/data [--json]
"""

import sys

from edgekp.data.pose_validation import main

if __name__ == "__main__":
    sys.exit(main())
