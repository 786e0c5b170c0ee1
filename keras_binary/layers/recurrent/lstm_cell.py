"""`QuantLSTMCell`: a `keras.layers.LSTMCell` whose matrix products use quantized tensors."""

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
class QuantLSTMCell(QuantizedCellMixin, keras.layers.LSTMCell):
    """LSTM cell with quantized input, kernels and hidden state; use it in `keras.layers.RNN`.

    Each step computes `z = q_in(x) @ q_k(W) + q_h(h) @ q_r(U) + b`, then the usual LSTM gates
    (i, f, c~, o = split(z)); `q_in`, `q_k`, `q_r`, `q_h` are `input_quantizer`,
    `kernel_quantizer`, `recurrent_quantizer`, `recurrent_input_quantizer` (None: not quantized).
    The carry c and output h stay real valued. All other arguments are `keras.layers.LSTMCell`'s.
    Dropout masks are applied after quantization.

    Args:
        units: Positive integer, dimensionality of the output space.
        {{recurrent_quantizer_args}}
        **kwargs: The other arguments of `keras.layers.LSTMCell`, with Keras's meaning and
            defaults (activations, initializers, regularizers, constraints, dropout, seed).

    Call arguments:
        inputs: A 2D tensor `(batch, features)`, the step input.
        states: The previous states, as `keras.layers.LSTMCell` takes them.
        training: Whether dropout is active.

    Example (BinaryConnect weights, LAB2-style binary hidden input):

    >>> import numpy as np
    >>> cell = QuantLSTMCell(4, kernel_quantizer="ste_sign", recurrent_quantizer="ste_sign",
    ...                      recurrent_input_quantizer="ste_sign")
    >>> tuple(keras.layers.RNN(cell)(np.zeros((2, 3, 5), "float32")).shape)
    (2, 4)
    """

    def call(self, inputs: Any, states: Any, training: bool = False) -> tuple[Any, list[Any]]:
        h_tm1, c_tm1 = states[0], states[1]
        kernel, recurrent_kernel = self.quantized_weights()
        x = self.quantize_input(inputs)
        h = self.quantize_state(h_tm1)
        x_mask, h_mask = dropout_masks(self, inputs, h_tm1, training)

        if isinstance(x_mask, (list, tuple)) or isinstance(h_mask, (list, tuple)):
            # One dropout mask per gate (Keras's implementation 1): one product per gate.
            xs = per_gate(x, x_mask, 4)
            hs = per_gate(h, h_mask, 4)
            ks = ops.split(kernel, 4, axis=1)
            rks = ops.split(recurrent_kernel, 4, axis=1)
            z = ops.concatenate(
                [ops.matmul(xs[g], ks[g]) + ops.matmul(hs[g], rks[g]) for g in range(4)],
                axis=-1,
            )
        else:
            x = x if x_mask is None else x * x_mask
            h = h if h_mask is None else h * h_mask
            z = ops.matmul(x, kernel) + ops.matmul(h, recurrent_kernel)
        if self.use_bias:
            z = z + self.bias
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        c = f * c_tm1 + i * self.activation(z_c)
        o = self.recurrent_activation(z_o)
        h_new = o * self.activation(c)
        return h_new, [h_new, c]
