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

from keras_binary.layers.base import QuantizerMixin
from keras_binary.layers.conv import QuantConv1D, QuantConv2D, QuantConv3D
from keras_binary.layers.dense import QuantDense

__all__ = [
    "QuantConv1D",
    "QuantConv2D",
    "QuantConv3D",
    "QuantDense",
    "QuantizerMixin",
]
