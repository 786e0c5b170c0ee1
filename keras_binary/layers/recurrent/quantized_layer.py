"""`QuantizedRNNMixin`: what the Quant* RNN layers (subclasses of Keras's LSTM/GRU/...) share."""

from __future__ import annotations

from typing import Any

import keras


class QuantizedRNNMixin:
    """Runs a quantized cell through `keras.layers.RNN`'s generic time loop.

    Keras's LSTM and GRU may dispatch to a fused (cuDNN) kernel that reads the cell's latent float
    weights directly; a quantized layer must never take that path, so `inner_loop` always goes
    through `keras.layers.RNN.inner_loop`, with the kernels quantized once for the whole sequence.
    """

    def _init_rnn(self, cell: keras.Layer, use_cudnn: bool | str = "auto", **kwargs: Any) -> None:
        if use_cudnn not in ("auto", True, False):
            raise ValueError(f"use_cudnn must be 'auto', True or False, got {use_cudnn!r}")
        if use_cudnn is True:
            raise ValueError(
                f"{type(self).__name__} cannot run on the cuDNN kernel, which would use the "
                "latent float weights instead of the quantized ones; pass use_cudnn='auto' "
                "or False."
            )
        keras.layers.RNN.__init__(self, cell, **kwargs)
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
