"""The TensorFlow route to TFLite: torch -> ONNX (opset 20) -> onnx2tf -> TFLite converter.

Two onnx2tf traps handled here:
- it downloads a calibration sample file from the internet even when given calibration data, unless
  ``calibration_image_sample_data_20x128x128x3_float32.npy`` sits in the working directory; we run it
  in a scratch directory holding such a file, so it works offline;
- ``non_verbose`` hides int8 failures, so we check which files it actually wrote.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from edgekp.errors import EdgeKPError
from edgekp.logs import get_logger

log = get_logger(__name__)

_SAMPLE = "calibration_image_sample_data_20x128x128x3_float32.npy"
# onnx2tf writes one file per variant; ours picks one: int8 static keeps float I/O (integer_quant)
# so the app feeds the same [0, 1] floats as every other artifact.
_VARIANT = {
    "fp32": "float32",
    "fp16": "float16",
    ("int8", "dynamic"): "dynamic_range_quant",
    ("int8", "static"): "integer_quant",
}


def convert_via_onnx2tf(
    model: Any,
    size: int,
    precision: str,
    int8_mode: str,
    calibration: np.ndarray | None,
    path: Path,
    *,
    exporter: str = "dynamo",
) -> None:
    import onnx2tf

    from edgekp.export.onnx import INPUT_NAME, export_onnx, simplify_onnx

    key: Any = (precision, int8_mode) if precision == "int8" else precision
    variant = _VARIANT[key]
    with tempfile.TemporaryDirectory(prefix="edgekp-onnx2tf-") as tmp:
        work = Path(tmp)
        onnx_path = work / "model.onnx"
        export_onnx(model, size, onnx_path, dynamic_batch=False, exporter=exporter)
        simplify_onnx(onnx_path)
        # Offline trap: a dummy sample file of the exact name and shape it looks for.
        np.save(work / _SAMPLE, np.zeros((20, 128, 128, 3), np.float32))
        kwargs: dict[str, Any] = {}
        if precision == "int8":
            kwargs["output_dynamic_range_quantized_tflite"] = int8_mode == "dynamic"
            if int8_mode == "static":
                if calibration is None or len(calibration) == 0:
                    raise EdgeKPError("tflite int8 static (route tf) needs a calibration set (--calib)")
                calib_file = work / "calib.npy"
                np.save(calib_file, np.ascontiguousarray(calibration.transpose(0, 2, 3, 1), np.float32))
                # mean 0 / std 1: the graph already normalizes; onnx2tf must feed the raw [0, 1] pixels.
                kwargs["output_integer_quantized_tflite"] = True
                kwargs["custom_input_op_name_np_data_path"] = [
                    [INPUT_NAME, str(calib_file), [[[[0.0, 0.0, 0.0]]]], [[[[1.0, 1.0, 1.0]]]]]
                ]
        out = work / "tf"
        with contextlib.chdir(work):
            try:
                onnx2tf.convert(
                    input_onnx_file_path=str(onnx_path),
                    output_folder_path=str(out),
                    batch_size=1,
                    copy_onnx_input_output_names_to_tflite=True,
                    non_verbose=True,
                    **kwargs,
                )
            except (SystemExit, Exception) as exc:  # onnx2tf calls sys.exit on some failures
                raise EdgeKPError(
                    f"onnx2tf failed to convert the model ({type(exc).__name__}: {str(exc)[:200]})"
                ) from None
        produced = out / f"model_{variant}.tflite"
        if not produced.is_file():
            written = sorted(p.name for p in out.glob("*.tflite"))
            raise EdgeKPError(
                f"onnx2tf did not write the {variant} model (it wrote: {', '.join(written) or 'nothing'}); "
                "run with -v to see its log"
            )
        shutil.copyfile(produced, path)
