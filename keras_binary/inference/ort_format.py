"""ONNX Runtime's own model format (``.ort``): what its minimal and mobile builds load.

An exported ``.onnx`` file converts with ONNX Runtime's tool
(``python -m onnxruntime.tools.convert_onnx_models_to_ort``), run here with the custom-op
library registered so the ``ai.keras_binary`` nodes are kept as they are. The optimizations
are applied once, for one CPU family (``--target_platform``), and saved in the file.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from keras_binary.inference.onnx_runtime import ort_library_path

# ONNX Runtime's names for the CPU families its tool optimizes for.
TARGET_PLATFORMS = ("amd64", "arm")
# Converting starts a Python process that imports onnxruntime and optimizes the graph.
CONVERT_TIMEOUT_S = 600


def _this_platform() -> str:
    return "arm" if platform.machine().lower() in ("aarch64", "arm64") else "amd64"


def export_ort_format(onnx_path: str | os.PathLike, ort_path: str | os.PathLike | None = None,
                      target_platform: str | None = None) -> str:
    """Converts an exported ONNX model to ONNX Runtime's ``.ort`` format.

    Runs ``onnxruntime.tools.convert_onnx_models_to_ort`` with the custom-op library and the
    "Fixed" optimization style (the graph optimized for ``target_platform`` once, then saved).
    The file is written atomically; the tool's operator config files are not kept.

    Args:
        onnx_path: A file written by ``export_onnx``.
        ort_path: Where to write the ``.ort`` file; None puts it next to ``onnx_path`` with
            the suffix ``.ort``.
        target_platform: ``"amd64"`` (x86-64) or ``"arm"`` (aarch64): the CPU that will run
            the file. None takes this machine's.

    Returns:
        The ``.ort`` file's path. ``onnx_session`` opens it like an ``.onnx`` file.

    Raises:
        ValueError: an unknown ``target_platform``, or ``onnx_path`` is not a file.
        RuntimeError: the conversion failed (the message ends with the tool's last line).

    Example::

        onnx_path = inference.export_onnx(fast, "model.onnx")
        ort_path = inference.export_ort_format(onnx_path, target_platform="arm")
    """
    target = target_platform or _this_platform()
    if target not in TARGET_PLATFORMS:
        raise ValueError(f"target_platform must be one of {TARGET_PLATFORMS} or None, "
                         f"got {target_platform!r}")
    source = Path(onnx_path)
    if not source.is_file():
        raise ValueError(f"{source} is not a file: pass the path export_onnx returned")
    destination = Path(ort_path) if ort_path is not None else source.with_suffix(".ort")
    # The tool writes <stem>.ort into its output folder: a temporary one beside the
    # destination, so the finished file moves into place with one rename.
    with tempfile.TemporaryDirectory(dir=destination.parent, prefix=".ort-") as work:
        command = [sys.executable, "-m", "onnxruntime.tools.convert_onnx_models_to_ort",
                   "--custom_op_library", os.fspath(ort_library_path()),
                   "--optimization_style", "Fixed", "--target_platform", target,
                   "--output_dir", work, os.fspath(source)]
        result = subprocess.run(command, capture_output=True, text=True,
                                timeout=CONVERT_TIMEOUT_S, check=False)
        converted = Path(work) / f"{source.stem}.ort"
        if result.returncode != 0 or not converted.is_file():
            lines = (result.stderr or result.stdout).strip().splitlines() or ["(no output)"]
            raise RuntimeError(f"converting {source} to the ORT format failed: {lines[-1]}")
        with open(converted, "rb") as f:
            os.fsync(f.fileno())
        os.replace(converted, destination)
    return os.fspath(destination)
