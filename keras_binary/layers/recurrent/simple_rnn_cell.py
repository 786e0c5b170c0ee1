"""`QuantSimpleRNNCell`: a `keras.layers.SimpleRNNCell` whose matrix products use quantized
tensors."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_binary.layers.recurrent.quantized_cell import (
    QuantizedCellMixin,
    dropout_masks,
)


@keras.saving.register_keras_serializable(package="keras_binary")
class QuantSimpleRNNCell(QuantizedCellMixin, keras.layers.SimpleRNNCell):
    """Elman cell `h = activation(q_in(x) @ q_k(W) + b + q_h(h) @ q_r(U))`; quantizer arguments as
    in `QuantLSTMCell`, the others are `keras.layers.SimpleRNNCell`'s.

    Args:
        units: Positive integer, dimensionality of the output space.
        {{recurrent_quantizer_args}}
        **kwargs: The other arguments of `keras.layers.SimpleRNNCell`, with Keras's meaning and
            defaults (activations, initializers, regularizers, constraints, dropout, seed).

    Call arguments:
        sequence: A 2D tensor `(batch, features)`, the step input.
        states: The previous states, as `keras.layers.SimpleRNNCell` takes them.
        training: Whether dropout is active.

    Example:

    >>> import numpy as np
    >>> cell = QuantSimpleRNNCell(4, kernel_quantizer="ste_sign", recurrent_quantizer="ste_sign")
    >>> tuple(keras.layers.RNN(cell)(np.zeros((2, 3, 5), "float32")).shape)
    (2, 4)
    """

    def call(self, sequence: Any, states: Any, training: bool = False) -> tuple[Any, Any]:
        nested = isinstance(states, (list, tuple))
        h_tm1 = states[0] if nested else states
        kernel, recurrent_kernel = self.quantized_weights()
        x_mask, h_mask = dropout_masks(self, sequence, h_tm1, training)
        x = self.quantize_input(sequence)
        h = self.quantize_state(h_tm1)
        x = x if x_mask is None else x * x_mask
        h = h if h_mask is None else h * h_mask
        output = ops.matmul(x, kernel) + ops.matmul(h, recurrent_kernel)
        if self.bias is not None:
            output = output + self.bias
        if self.activation is not None:
            output = self.activation(output)
        return output, ([output] if nested else output)
