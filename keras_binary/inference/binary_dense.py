"""`BinaryDenseInference`: a binary dense layer on packed weights (popcount GEMM).

Computes ``acc = sign(x) @ sign(W)`` over ``input_bits`` inputs with the popcount kernel, then
``y = acc * scale + bias`` per unit; returns ``activation(y)`` or, with ``output="packed"``,
the packed sign bits of ``y``. Inputs are float (packed inside) or packed int32 words. A float
input row holding a NaN gives NaN outputs in that row, as sign(NaN) = NaN does in the float
layers (`keras_binary.inference.nan_rows`; a packed output cannot hold NaN). Called on
``[x, residual]`` (float input and output), it adds ``residual`` to ``y`` in the kernel's
epilogue, before the activation: `convert` fuses a shortcut's Add this way.

Example:

>>> import numpy as np
>>> layer = BinaryDenseInference(3, input_bits=40)
>>> y = layer(np.ones((2, 40), "float32"))          # builds the layer
>>> layer.set_packed_weights(np.zeros((3, 2), "int32"), np.ones(3), np.zeros(3))
>>> np.asarray(layer(np.ones((2, 40), "float32"))).tolist()[0]   # all +1 inputs and weights
[40.0, 40.0, 40.0]
"""

from __future__ import annotations

from typing import Any

import keras

from keras_binary import kernels
from keras_binary.inference.base import EpilogueMixin


@keras.saving.register_keras_serializable(package="keras_binary")
class BinaryDenseInference(EpilogueMixin, keras.layers.Layer):
    """``units`` binary units over ``input_bits`` binary inputs; kernel packed [units, words].

    `keras_binary.inference.convert` builds these from trained binary dense layers and fills
    them with `set_packed_weights(packed_kernel, scale, bias)`.

    Args:
        units: Positive integer, the number of output units.
        input_bits: Number of binary inputs K (the unpacked feature size).
        output: "float" returns `activation(acc * scale + bias)`; "packed" returns the packed
            sign bits of `acc * scale + bias` (int32, bit 1 where negative) for a next binary
            layer, and takes no activation.
        activation: Keras activation identifier applied to a float output.
        **kwargs: Keyword arguments of `keras.layers.Layer` (`name`, `dtype`).

    Input shape:
        Float `(batch, ..., input_bits)`, or packed int32 `(batch, ..., ceil(input_bits / 32))`.

    Output shape:
        `(batch, ..., units)` float, or packed int32 words of `units` bits.

    Example:

    >>> import numpy as np
    >>> layer = BinaryDenseInference(16, input_bits=64, output="packed")
    >>> tuple(layer(np.ones((2, 64), "float32")).shape)
    (2, 1)
    """

    def __init__(self, units: int, input_bits: int, output: str = "float", activation=None,
                 **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units < 1:
            raise ValueError(f"units must be a positive int, got {units!r}")
        if not isinstance(input_bits, int) or input_bits < 1:
            raise ValueError(f"input_bits must be a positive int, got {input_bits!r}")
        self.units = units
        self.input_bits = input_bits
        self.init_epilogue(output, activation)

    def _check_input(self, shape: tuple, dtype: str) -> None:
        expected = self.input_bits if dtype != "int32" else kernels.packed_words(self.input_bits)
        if shape[-1] != expected:
            kind = "packed words" if dtype == "int32" else "features"
            raise ValueError(
                f"{self.name}: expected {expected} {kind} on the last axis for "
                f"input_bits={self.input_bits}, got input shape {tuple(shape)}"
            )

    def build(self, input_shape: Any) -> None:
        self.add_epilogue_weights((self.units, kernels.packed_words(self.input_bits)), self.units)

    def call(self, inputs: Any) -> Any:
        inputs, residual = self.split_residual(inputs)
        dtype = keras.backend.standardize_dtype(inputs.dtype)
        self._check_input(tuple(inputs.shape), dtype)
        if dtype != "int32":
            inputs = keras.ops.cast(inputs, "float32")
            if self.output_mode == "float":  # packing, NaN rows and residual in one call
                return self.finish(kernels.binary_matmul_float(
                    inputs, self.packed_kernel.value, scale=self.scale.value,
                    bias=self.bias.value, residual=residual), keep_nan=True)
            inputs = kernels.pack_bits(inputs)
        y = kernels.binary_matmul(inputs, self.packed_kernel.value, k=self.input_bits,
                                  scale=self.scale.value, bias=self.bias.value,
                                  output=self.output_mode)
        return self.finish(y)

    def compute_output_spec(self, inputs: Any) -> keras.KerasTensor:
        inputs, _ = self.split_residual(inputs)
        dtype = keras.backend.standardize_dtype(inputs.dtype)
        self._check_input(tuple(inputs.shape), dtype)
        last = self.units if self.output_mode == "float" else kernels.packed_words(self.units)
        return keras.KerasTensor(tuple(inputs.shape[:-1]) + (last,), dtype=self.output_dtype())

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units, "input_bits": self.input_bits,
                **self.epilogue_config()}
