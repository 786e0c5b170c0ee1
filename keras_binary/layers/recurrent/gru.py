"""`QuantGRU`: `keras.layers.GRU` running a `QuantGRUCell` (never the fused/cuDNN kernel)."""

from __future__ import annotations

import keras

from keras_binary.layers.recurrent.gru_cell import QuantGRUCell
from keras_binary.layers.recurrent.quantized_layer import QuantizedRNNMixin


@keras.saving.register_keras_serializable(package="keras_binary")
class QuantGRU(QuantizedRNNMixin, keras.layers.GRU):
    """Quantized GRU layer: every keyword argument of `keras.layers.GRU` plus the four quantizers
    of `QuantGRUCell`. Always runs the quantized cell (`use_cudnn=True` is refused).

    Args:
        units: Positive integer, dimensionality of the output space.
        {{recurrent_quantizer_args}}
        **kwargs: The other arguments of `keras.layers.GRU`, with Keras's meaning and
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
    >>> gru = QuantGRU(8, kernel_quantizer="ste_sign", recurrent_quantizer="ste_sign",
    ...                return_sequences=True)
    >>> tuple(gru(np.zeros((2, 5, 3), "float32")).shape)
    (2, 5, 8)
    """

    cell_class = QuantGRUCell
    cell_name = "quant_gru_cell"
