"""`QuantizedRNNMixin`: what the Quant* RNN layers (subclasses of Keras's LSTM/GRU/...) share."""

from __future__ import annotations

from typing import Any

import keras

RNN_ARGUMENTS = (
    "return_sequences",
    "return_state",
    "go_backwards",
    "stateful",
    "unroll",
    "zero_output_for_mask",
    "activity_regularizer",
    "name",
    "autocast",
    "input_shape",
    "input_dim",
)
SHARED_ARGUMENTS = ("dtype", "trainable")


def split_rnn_arguments(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Splits a Keras RNN layer's keyword arguments into (its cell's, the RNN layer's).

    Args:
        kwargs: The layer's keyword arguments.

    Returns:
        `(cell arguments, RNN layer arguments)`.
    """
    cell = {k: v for k, v in kwargs.items() if k not in RNN_ARGUMENTS}
    rnn = {k: v for k, v in kwargs.items() if k in RNN_ARGUMENTS or k in SHARED_ARGUMENTS}
    return cell, rnn


class QuantizedRNNMixin:
    """Builds a `cell_class` cell and runs it through `keras.layers.RNN`'s generic time loop.

    Put it before the Keras RNN layer class in the bases and set `cell_class` and `cell_name`; the
    layer then takes the Keras layer's keyword arguments plus the four quantizers.

    Keras's LSTM and GRU may dispatch to a fused (cuDNN) kernel that reads the cell's latent float
    weights directly; a quantized layer must never take that path, so `inner_loop` always goes
    through `keras.layers.RNN.inner_loop`, with the kernels quantized once for the whole sequence.

    Args:
        units: Positive integer, dimensionality of the output space.
        {{recurrent_quantizer_args}}
        use_cudnn: "auto" or False (True is refused: cuDNN would use the latent weights).
        **kwargs: The Keras RNN layer's other arguments.
    """

    cell_class: type[keras.layers.Layer]
    cell_name: str

    def __init__(
        self,
        units: int,
        *,
        input_quantizer: Any = None,
        kernel_quantizer: Any = None,
        recurrent_quantizer: Any = None,
        recurrent_input_quantizer: Any = None,
        use_cudnn: bool | str = "auto",
        **kwargs: Any,
    ):
        if use_cudnn not in ("auto", True, False):
            raise ValueError(f"use_cudnn must be 'auto', True or False, got {use_cudnn!r}")
        if use_cudnn is True:
            raise ValueError(
                f"{type(self).__name__} cannot run on the cuDNN kernel, which would use the "
                "latent float weights instead of the quantized ones; pass use_cudnn='auto' "
                "or False."
            )
        cell_kwargs, rnn_kwargs = split_rnn_arguments(kwargs)
        cell = self.cell_class(
            units,
            input_quantizer=input_quantizer,
            kernel_quantizer=kernel_quantizer,
            recurrent_quantizer=recurrent_quantizer,
            recurrent_input_quantizer=recurrent_input_quantizer,
            name=self.cell_name,
            **cell_kwargs,
        )
        keras.layers.RNN.__init__(self, cell, **rnn_kwargs)
        self.input_spec = keras.layers.InputSpec(ndim=3)
        self.use_cudnn = False

    def inner_loop(self, sequences: Any, initial_state: Any, mask: Any, training: bool = False):
        with self.cell.kernels_quantized_once():
            return keras.layers.RNN.inner_loop(
                self, sequences, initial_state, mask=mask, training=training
            )

    @property
    def input_quantizer(self) -> Any:
        return self.cell.input_quantizer

    @property
    def kernel_quantizer(self) -> Any:
        return self.cell.kernel_quantizer

    @property
    def recurrent_quantizer(self) -> Any:
        return self.cell.recurrent_quantizer

    @property
    def recurrent_input_quantizer(self) -> Any:
        return self.cell.recurrent_input_quantizer

    @property
    def input_precision(self) -> int | None:
        return self.cell.input_precision

    @property
    def kernel_precision(self) -> int | None:
        return self.cell.kernel_precision

    @property
    def recurrent_precision(self) -> int | None:
        return self.cell.recurrent_precision

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self.cell.quantizer_config()}
