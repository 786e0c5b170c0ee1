"""`QuantGRUCell`: a `keras.layers.GRUCell` whose matrix products use quantized tensors."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_binary.layers.recurrent.quantized_cell import (
    QuantizedCellMixin,
    dropout_masks,
    per_gate,
)


@keras.saving.register_keras_serializable(package="keras_binary")
class QuantGRUCell(QuantizedCellMixin, keras.layers.GRUCell):
    """GRU cell with quantized input, kernels and hidden-state input; use it in `keras.layers.RNN`.

    The gates are Keras's (update z, reset r, candidate h~, `reset_after` as in
    `keras.layers.GRUCell`) computed from `q_in(x) @ q_k(W)` and `q_h(h) @ q_r(U)`; the state
    carried to the next step, `z * h + (1 - z) * h~`, uses the real-valued h. Quantizer arguments
    as in `QuantLSTMCell`; the others are `keras.layers.GRUCell`'s.

    Args:
        units: Positive integer, dimensionality of the output space.
        {{recurrent_quantizer_args}}
        **kwargs: The other arguments of `keras.layers.GRUCell`, with Keras's meaning and
            defaults (activations, initializers, regularizers, constraints, dropout, seed).

    Call arguments:
        inputs: A 2D tensor `(batch, features)`, the step input.
        states: The previous states, as `keras.layers.GRUCell` takes them.
        training: Whether dropout is active.

    Example:

    >>> import numpy as np
    >>> cell = QuantGRUCell(4, kernel_quantizer="ste_sign", recurrent_quantizer="ste_sign")
    >>> tuple(keras.layers.RNN(cell)(np.zeros((2, 3, 5), "float32")).shape)
    (2, 4)
    """

    def _biases(self) -> tuple[list[Any], list[Any]]:
        zeros = [0.0] * 3
        if not self.use_bias:
            return zeros, zeros
        bias = ops.convert_to_tensor(self.bias)
        if not self.reset_after:
            return ops.split(bias, 3, axis=-1), zeros
        return ops.split(bias[0], 3, axis=-1), ops.split(bias[1], 3, axis=-1)

    def call(self, inputs: Any, states: Any, training: bool = False) -> tuple[Any, Any]:
        nested = isinstance(states, (list, tuple))
        h_tm1 = states[0] if nested else states
        kernel, recurrent_kernel = self.quantized_weights()
        x_mask, h_mask = dropout_masks(self, inputs, h_tm1, training)
        xs = per_gate(self.quantize_input(inputs), x_mask, 3)
        hs = per_gate(self.quantize_state(h_tm1), h_mask, 3)
        ks = ops.split(kernel, 3, axis=1)
        rks = ops.split(recurrent_kernel, 3, axis=1)
        input_bias, recurrent_bias = self._biases()
        x_z, x_r, x_h = (ops.matmul(xs[g], ks[g]) + input_bias[g] for g in range(3))
        z = self.recurrent_activation(x_z + ops.matmul(hs[0], rks[0]) + recurrent_bias[0])
        r = self.recurrent_activation(x_r + ops.matmul(hs[1], rks[1]) + recurrent_bias[1])
        if self.reset_after:
            recurrent_h = r * (ops.matmul(hs[2], rks[2]) + recurrent_bias[2])
        else:
            recurrent_h = ops.matmul(r * hs[2], rks[2])
        h = z * h_tm1 + (1 - z) * self.activation(x_h + recurrent_h)
        return h, ([h] if nested else h)
