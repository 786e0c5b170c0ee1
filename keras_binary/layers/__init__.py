"""Quantized layers: Keras layers whose inputs and kernels go through quantizers.

>>> import keras
>>> from keras_binary import layers
>>> model = keras.Sequential([
...     keras.Input((28, 28, 1)),
...     layers.QuantConv2D(8, 3, kernel_quantizer="ste_sign", kernel_constraint="weight_clip"),
...     keras.layers.Flatten(),
...     layers.QuantDense(10, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
...                       kernel_constraint="weight_clip"),
... ])
"""

from keras_binary.docstrings import splice, splice_modules
from keras_binary.layers.base import QuantizerMixin
from keras_binary.layers.conv import QuantConv1D, QuantConv2D, QuantConv3D
from keras_binary.layers.conv_base import ConvMixin
from keras_binary.layers.conv_transpose import (
    QuantConv1DTranspose,
    QuantConv2DTranspose,
    QuantConv3DTranspose,
)
from keras_binary.layers.dense import QuantDense
from keras_binary.layers.depthwise import QuantDepthwiseConv1D, QuantDepthwiseConv2D
from keras_binary.layers.recurrent import (
    QuantGRU,
    QuantGRUCell,
    QuantLSTM,
    QuantLSTMCell,
    QuantSimpleRNN,
    QuantSimpleRNNCell,
    quantized_cell,
    quantized_layer,
)
from keras_binary.layers.separable import QuantSeparableConv1D, QuantSeparableConv2D

__all__ = [
    "ConvMixin",
    "QuantConv1D",
    "QuantConv1DTranspose",
    "QuantConv2D",
    "QuantConv2DTranspose",
    "QuantConv3D",
    "QuantConv3DTranspose",
    "QuantDense",
    "QuantDepthwiseConv1D",
    "QuantDepthwiseConv2D",
    "QuantGRU",
    "QuantGRUCell",
    "QuantLSTM",
    "QuantLSTMCell",
    "QuantSeparableConv1D",
    "QuantSeparableConv2D",
    "QuantSimpleRNN",
    "QuantSimpleRNNCell",
    "QuantizerMixin",
]

# Fill the shared argument text ({{input_quantizer_arg}}, ...) into the layers' docstrings.
splice(*(globals()[name] for name in __all__))
splice_modules(quantized_cell, quantized_layer)
