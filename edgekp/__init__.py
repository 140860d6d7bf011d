"""edgekp: train a face-keypoint model and take it to phones (TFLite, CoreML, OpenVINO)."""

__version__ = "0.1.0"
