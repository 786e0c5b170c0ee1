"""Runs exported models in ONNX Runtime with the keras-binary custom-op library, .npy in and out.

Needs only numpy and onnxruntime (not keras_binary): it is what runs on a deployment target,
e.g. an aarch64 Python under qemu in tests/inference/test_onnx_aarch64.py. Each job is a model,
its input and the output file; every output is written atomically. Prints the machine
(CPU architecture) and ONNX Runtime's version first.

Usage: python ort_run.py LIBRARY THREADS MODEL.onnx INPUT.npy OUTPUT.npy [MODEL INPUT OUTPUT ...]
"""

from __future__ import annotations

import os
import platform
import sys

import numpy as np
import onnxruntime


def save_atomically(path: str, array: np.ndarray) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        np.save(f, array)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main(argv: list[str]) -> int:
    if len(argv) < 5 or (len(argv) - 2) % 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    library, threads, jobs = argv[0], int(argv[1]), argv[2:]
    print(platform.machine(), onnxruntime.__version__, flush=True)
    options = onnxruntime.SessionOptions()
    options.register_custom_ops_library(library)
    options.intra_op_num_threads = threads
    for model, inputs, output in zip(jobs[0::3], jobs[1::3], jobs[2::3], strict=True):
        session = onnxruntime.InferenceSession(model, options,
                                               providers=["CPUExecutionProvider"])
        x = np.load(inputs)
        save_atomically(output, session.run(None, {session.get_inputs()[0].name: x})[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
