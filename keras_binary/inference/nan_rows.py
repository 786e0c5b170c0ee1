"""How the converted binary layers treat NaN: as the float layers do, per row or sample.

The float layers binarize with sign(NaN) = NaN (`keras_binary.quantizers.base.sign`), and a dense
matmul spreads it over every output of that row. Packed bits cannot hold NaN (packing reads only
``x < 0``), so the converted layers check their float input instead: a dense row (all leading
axes) or a conv sample (the batch axis) whose input holds a NaN gets NaN outputs. +-inf binarize
to +-1 on both paths, as sign does. A layer that packs its output cannot write NaN into bits:
`convert` then carries the row flags beside the packed tensor (`NaNRows`) and applies them where
the packed chain ends in a float output (`MarkNaNRows`).

Example:

>>> import numpy as np
>>> flags = NaNRows(axes=(-1,))(np.array([[1.0, -2.0], [np.nan, 3.0]], "float32"))
>>> np.asarray(MarkNaNRows()([np.ones((2, 3), "float32"), flags])).tolist()
[[1.0, 1.0, 1.0], [nan, nan, nan]]
"""

from __future__ import annotations

from typing import Any

import keras

from keras_binary.kernels.nan_rows import mark_nan_rows, nan_rows

__all__ = ["MarkNaNRows", "NaNRows", "mark_nan_rows", "nan_rows"]


@keras.saving.register_keras_serializable(package="keras_binary")
class NaNRows(keras.layers.Layer):
    """The NaN flags of a packed layer's float input (`nan_rows`), carried to `MarkNaNRows`."""

    def __init__(self, axes: tuple[int, ...] = (-1,), **kwargs: Any):
        super().__init__(**kwargs)
        self.axes = tuple(int(a) for a in axes)

    def call(self, inputs: Any) -> Any:
        return nan_rows(inputs, self.axes)

    def compute_output_spec(self, inputs: Any) -> keras.KerasTensor:
        rank = len(inputs.shape)
        kept = [d for i, d in enumerate(inputs.shape) if i not in {a % rank for a in self.axes}]
        return keras.KerasTensor(tuple(kept), dtype="bool")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axes": self.axes}


@keras.saving.register_keras_serializable(package="keras_binary")
class MarkNaNRows(keras.layers.Layer):
    """``[y, flags]`` -> ``y`` with NaN in the flagged rows (`mark_nan_rows`)."""

    def call(self, inputs: Any) -> Any:
        y, flags = inputs
        return mark_nan_rows(y, flags)

    def compute_output_spec(self, inputs: Any) -> keras.KerasTensor:
        return keras.KerasTensor(inputs[0].shape, dtype=inputs[0].dtype)
