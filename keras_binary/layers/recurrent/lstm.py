"""`QuantLSTM`: `keras.layers.LSTM` running a `QuantLSTMCell` (never the fused/cuDNN kernel)."""

from __future__ import annotations

from typing import Any

import keras

from keras_binary.layers.recurrent.lstm_cell import QuantLSTMCell
from keras_binary.layers.recurrent.quantized_layer import QuantizedRNNMixin


@keras.saving.register_keras_serializable(package="keras_binary")
class QuantLSTM(QuantizedRNNMixin, keras.layers.LSTM):
    """Quantized LSTM layer: the arguments of `keras.layers.LSTM` plus four quantizers.

    `input_quantizer`, `kernel_quantizer`, `recurrent_quantizer` and `recurrent_input_quantizer`
    are described in `QuantLSTMCell`. The time loop always runs the quantized cell, never
    Keras's fused/cuDNN LSTM kernel (which would use the latent float weights); the kernels are
    quantized once per call, outside the time loop. `use_cudnn=True` is refused.

    Args:
        units: Positive integer, dimensionality of the output space.
        {{recurrent_quantizer_args}}
        **kwargs: The other arguments of `keras.layers.LSTM`, with Keras's meaning and
            defaults (activations, initializers, regularizers, constraints, dropout,
            `return_sequences`, `return_state`, `go_backwards`, `stateful`, `unroll`); `use_cudnn`
            may be "auto" or False only.

    Call arguments:
        sequences: A 3D tensor `(batch_size, timesteps, features)`.
        initial_state: Optional list of initial state tensors.
        mask: Optional boolean tensor `(batch_size, timesteps)`, True where a step is used.
        training: Whether dropout is active.

    Example (the LAB paper's LAB2 variant: binary weights and binary hidden input, the one-hot
    characters left unquantized):

    >>> import numpy as np
    >>> lstm = QuantLSTM(8, kernel_quantizer="ste_sign", recurrent_quantizer="ste_sign",
    ...                  recurrent_input_quantizer="ste_sign", return_sequences=True)
    >>> tuple(lstm(np.zeros((2, 5, 3), "float32")).shape)
    (2, 5, 8)
    """

    cell_class = QuantLSTMCell
    cell_name = "quant_lstm_cell"

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        unit_forget_bias: bool = True,
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        use_cudnn: bool | str = "auto",
        input_quantizer: Any = None,
        kernel_quantizer: Any = None,
        recurrent_quantizer: Any = None,
        recurrent_input_quantizer: Any = None,
        **kwargs: Any,
    ):
        arguments = dict(locals())
        kwargs = arguments.pop("kwargs")
        for name in ("self", "__class__", "units"):
            arguments.pop(name, None)
        super().__init__(units, **arguments, **kwargs)
