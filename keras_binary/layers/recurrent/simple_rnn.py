"""`QuantSimpleRNN`: `keras.layers.SimpleRNN` running a `QuantSimpleRNNCell`."""

from __future__ import annotations

import keras

from keras_binary.layers.recurrent.quantized_layer import QuantizedRNNMixin
from keras_binary.layers.recurrent.simple_rnn_cell import QuantSimpleRNNCell


@keras.saving.register_keras_serializable(package="keras_binary")
class QuantSimpleRNN(QuantizedRNNMixin, keras.layers.SimpleRNN):
    """Quantized Elman RNN layer: every keyword argument of `keras.layers.SimpleRNN` plus the four
    quantizers of `QuantSimpleRNNCell`.

    >>> import numpy as np
    >>> rnn = QuantSimpleRNN(8, kernel_quantizer="ste_sign", recurrent_quantizer="ste_sign")
    >>> rnn(np.zeros((2, 5, 3), "float32")).shape
    (2, 8)
    """

    cell_class = QuantSimpleRNNCell
    cell_name = "quant_simple_rnn_cell"
