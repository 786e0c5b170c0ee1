"""`QuantSimpleRNN`: `keras.layers.SimpleRNN` running a `QuantSimpleRNNCell`."""

from __future__ import annotations

import keras

from keras_binary.layers.recurrent.quantized_layer import QuantizedRNNMixin
from keras_binary.layers.recurrent.simple_rnn_cell import QuantSimpleRNNCell


@keras.saving.register_keras_serializable(package="keras_binary")
class QuantSimpleRNN(QuantizedRNNMixin, keras.layers.SimpleRNN):
    """Quantized Elman RNN layer: every keyword argument of `keras.layers.SimpleRNN` plus the four
    quantizers of `QuantSimpleRNNCell`.

    Args:
        units: Positive integer, dimensionality of the output space.
        {{recurrent_quantizer_args}}
        **kwargs: The other arguments of `keras.layers.SimpleRNN`, with Keras's meaning and
            defaults (activations, initializers, regularizers, constraints, dropout,
            `return_sequences`, `return_state`, `go_backwards`, `stateful`, `unroll`); `use_cudnn`
            may be "auto" or False only.

    Call arguments:
        sequences: A 3D tensor `(batch_size, timesteps, features)`.
        initial_state: Optional list of initial state tensors.
        mask: Optional boolean tensor `(batch_size, timesteps)`, True where a step is used.
        training: Whether dropout is active.

    Example:

    >>> import numpy as np
    >>> rnn = QuantSimpleRNN(8, kernel_quantizer="ste_sign", recurrent_quantizer="ste_sign")
    >>> tuple(rnn(np.zeros((2, 5, 3), "float32")).shape)
    (2, 8)
    """

    cell_class = QuantSimpleRNNCell
    cell_name = "quant_simple_rnn_cell"
