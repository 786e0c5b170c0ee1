"""Checking an exported Larq Compute Engine flatbuffer: its op histogram and its outputs in
LCE's interpreter.

`lce_op_histogram` counts the ops (custom ones by their names, ``LceBconv2d``). `lce_predict`
runs LCE's own interpreter on x86 too, where its binary kernels are the reference
implementations: right outputs, no speed claim.

LCE 0.16's interpreter extension was built against NumPy 1, whose dtype struct kept the item
size where NumPy 2 keeps the dtype flags: under NumPy 2 it reads float32 arrays as 0 bytes
long. `lce_predict` sets that field of the float32 dtype to 4 for the duration of each call
(checked against the layout first, restored afterwards, the GIL held throughout).

Example::

    lce_op_histogram("model.tflite")       # {'LceBconv2d': 5, 'LceQuantize': 4, ...}
    lce_predict("model.tflite", x[:16])     # float32 outputs, one row per sample
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np

from keras_binary.inference.lce_flatbuffer import flatbuffer_bytes, import_lce, operators

__all__ = ["LCE_BINARY_OPS", "lce_op_histogram", "lce_predict"]

# The ops that compute on bits in LCE (binary convolution and binary max pooling).
LCE_BINARY_OPS = ("LceBconv2d", "LceBMaxPool2d")

# NumPy 2's PyArray_Descr: `flags` (uint64) at byte 32, `elsize` (intp) at byte 40 on 64-bit
# CPython; NumPy 1 read `elsize` as an int at byte 32.
_NUMPY2_FLAGS_OFFSET = 32
_NUMPY2_ELSIZE_OFFSET = 40


def lce_op_histogram(flatbuffer: bytes | str | os.PathLike) -> dict[str, int]:
    """How many ops of each kind a (LCE) TFLite flatbuffer runs, over all its subgraphs.

    Args:
        flatbuffer: The flatbuffer's bytes or its path.

    Returns:
        Op name -> count: builtin ops by their TFLite names (``CONV_2D``), custom ops by their
        own (``LceBconv2d``, ``LceQuantize``, ``LceBMaxPool2d``), most frequent first.

    Example::

        lce_op_histogram(export_lce(model, "m.tflite"))["LceBconv2d"]
    """
    return dict(Counter(op.name for op in operators(flatbuffer)).most_common())


@contextlib.contextmanager
def _numpy1_float32_itemsize() -> Iterator[None]:
    """Lets a NumPy-1 extension read float32's item size under NumPy 2 (see the module doc)."""
    if int(np.__version__.split(".")[0]) < 2:
        yield
        return
    descr = np.dtype(np.float32)  # the singleton the extension compares dtypes against
    flags = ctypes.c_uint64.from_address(id(descr) + _NUMPY2_FLAGS_OFFSET)
    elsize = ctypes.c_int64.from_address(id(descr) + _NUMPY2_ELSIZE_OFFSET)
    if ctypes.sizeof(ctypes.c_void_p) != 8 or elsize.value != 4 or flags.value != descr.flags:
        raise RuntimeError(
            "LCE's interpreter reads NumPy arrays with NumPy 1's layout and this NumPy's dtype "
            f"layout is not the expected one (NumPy {np.__version__}); run lce_predict with "
            "numpy<2 or NumPy 2.0-2.4."
        )
    saved = flags.value
    flags.value = 4
    try:
        yield
    finally:
        flags.value = saved


def lce_predict(
    flatbuffer: bytes | str | os.PathLike, x: Any, num_threads: int = 1
) -> np.ndarray | list[np.ndarray]:
    """Runs a flatbuffer in Larq Compute Engine's interpreter, one batch at a time.

    On x86 LCE's binary kernels are its reference implementations: use this to check outputs,
    not speed (LCE's optimized kernels are ARM's).

    Args:
        flatbuffer: The flatbuffer's bytes or its path (float32 inputs and outputs, as
            `export_lce` writes them; its fixed batch size, usually 1, sets the step).
        x: A float array of samples (first axis), or a list of them for several inputs.
        num_threads: Interpreter threads.

    Returns:
        The outputs, samples along the first axis (a list for several outputs).

    Example::

        np.abs(lce_predict("m.tflite", x) - model.predict(x)).max()
    """
    lce = import_lce()
    interpreter = lce.testing.Interpreter(flatbuffer_bytes(flatbuffer), num_threads=num_threads)
    inputs = [np.asarray(a, np.float32) for a in (x if isinstance(x, (list, tuple)) else [x])]
    if len({len(a) for a in inputs}) != 1:
        raise ValueError(
            f"lce_predict got inputs with {[len(a) for a in inputs]} samples; give every input "
            "the same number of samples (first axis)."
        )
    batch = interpreter.input_shapes[0][0]
    if len(inputs[0]) % batch:
        raise ValueError(
            f"lce_predict got {len(inputs[0])} samples for a flatbuffer with a batch of {batch}; "
            f"give a multiple of {batch} samples."
        )
    rows = []
    for start in range(0, len(inputs[0]), batch):
        sample = [np.ascontiguousarray(a[start:start + batch]) for a in inputs]
        with _numpy1_float32_itemsize():
            outputs = interpreter.interpreter.predict(sample)
        rows.append([np.array(out, copy=True) for out in outputs])
    outputs = [np.concatenate(column) for column in zip(*rows, strict=True)]
    return outputs[0] if len(outputs) == 1 else outputs
