"""NaN flags of a float input's rows, and NaN in the outputs of the flagged rows.

Packed bits cannot hold NaN (packing reads only ``x < 0``), so an op or layer that packs a float
input and must give what the float model gives (sign(NaN) = NaN spreads over a dense row or a
conv sample) flags the input rows holding a NaN and writes NaN into those rows' outputs
(`keras_binary.inference.nan_rows` explains the rule).

Example:

>>> import numpy as np
>>> x = np.array([[1.0, -2.0], [np.nan, 3.0]], "float32")
>>> flags = nan_rows(x, axes=(-1,))
>>> np.asarray(mark_nan_rows(np.ones((2, 3), "float32"), flags)).tolist()
[[1.0, 1.0, 1.0], [nan, nan, nan]]
"""

from __future__ import annotations

from typing import Any

from keras import ops


def nan_rows(x: Any, axes: tuple[int, ...]) -> Any:
    """Bool flags, True where ``x`` holds a NaN along ``axes`` (dense: (-1,); conv: (1, 2, 3))."""
    return ops.any(ops.isnan(x), axis=axes)


def mark_nan_rows(y: Any, flags: Any) -> Any:
    """``y`` with NaN in the rows (leading axes) whose ``flags`` are True."""
    flags = ops.reshape(flags, tuple(ops.shape(flags)) + (1,) * (len(y.shape) - len(flags.shape)))
    return ops.where(flags, ops.cast(float("nan"), y.dtype), y)
