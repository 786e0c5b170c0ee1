"""`FloatConv2DInference`: a float conv a converted model keeps, run by the float conv kernel.

`convert` turns a float conv with a spatial kernel (Bi-Real's 7x7 stem, a BinaryNet's first
QuantConv2D with its kernel quantized; not 1x1 convs, which the frameworks' GEMMs already run
on every thread and faster) into this layer, with the BatchNormalization that alone reads its
output folded into a per-channel ``scale`` and ``bias``:
``y = activation(conv(x, kernel) * scale + bias)``, zero padding.
On the CPU it is one call of `keras_binary.kernels.float_conv2d` on all of the framework's
threads, where XLA runs the conv on one; elsewhere the framework's conv and the affine.

Example:

>>> import numpy as np
>>> layer = FloatConv2DInference(2, 3, padding="same")
>>> tuple(layer(np.ones((1, 4, 4, 5), "float32")).shape)
(1, 4, 4, 2)
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from keras_binary import kernels


def _pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(int(v) for v in value)


@keras.saving.register_keras_serializable(package="keras_binary")
class FloatConv2DInference(keras.layers.Layer):
    """A float32 NHWC conv with a per-channel affine epilogue and an activation.

    `keras_binary.inference.convert` builds these from float convolutions (and the
    BatchNormalization that follows) and fills them with
    `set_float_weights(kernel, scale, bias)`.

    Args:
        filters: Positive integer, the number of output filters.
        kernel_size: Integer or pair, the window size.
        strides: Integer or pair.
        padding: "valid" or "same" (TensorFlow's convention), zero padding.
        dilation_rate: Integer or pair.
        activation: Keras activation identifier applied after the affine.
        **kwargs: Keyword arguments of `keras.layers.Layer` (`name`).

    Input shape:
        `(batch, height, width, channels)` float32, with static height, width and channels.

    Output shape:
        `(batch, out_height, out_width, filters)` float32.

    Example:

    >>> import numpy as np
    >>> layer = FloatConv2DInference(4, 3, strides=2)
    >>> tuple(layer(np.ones((1, 7, 7, 3), "float32")).shape)
    (1, 3, 3, 4)
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 dilation_rate: Any = 1, activation: Any = None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(filters, int) or filters < 1:
            raise ValueError(f"filters must be a positive int, got {filters!r}")
        self.filters = filters
        self.kernel_size = _pair(kernel_size)
        self.strides = _pair(strides)
        self.padding = padding
        self.dilation_rate = _pair(dilation_rate)
        self.activation = keras.activations.get(activation)

    def build(self, input_shape: Any) -> None:
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(f"{self.name}: expected a rank-4 NHWC input with known channels, "
                             f"got {input_shape}")
        kernels.Conv2dGeometry.create(input_shape[1:3], self.kernel_size, input_shape[-1],
                                      self.strides, self.padding, self.dilation_rate, "zero")
        self.kernel = self.add_weight(
            name="kernel", shape=(*self.kernel_size, input_shape[-1], self.filters),
            initializer="zeros", trainable=False)
        self.scale = self.add_weight(name="scale", shape=(self.filters,), initializer="ones",
                                     trainable=False)
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros",
                                    trainable=False)

    def set_float_weights(self, kernel: Any, scale: Any, bias: Any) -> None:
        """Assigns the kernel [kh, kw, C, filters] and the affine (shapes are checked)."""
        for variable, value in ((self.kernel, kernel), (self.scale, scale), (self.bias, bias)):
            value = np.asarray(value, np.float32)
            if value.shape != tuple(variable.shape):
                raise ValueError(f"{self.name}: {variable.name} needs shape "
                                 f"{tuple(variable.shape)}, got {value.shape}")
            variable.assign(value)

    def call(self, inputs: Any) -> Any:
        y = kernels.float_conv2d(
            keras.ops.cast(inputs, "float32"), self.kernel.value, strides=self.strides,
            padding=self.padding, dilation_rate=self.dilation_rate, scale=self.scale.value,
            bias=self.bias.value)
        if self.activation is None or self.activation is keras.activations.linear:
            return y
        return self.activation(y)

    def compute_output_spec(self, inputs: Any) -> keras.KerasTensor:
        g = kernels.Conv2dGeometry.create(inputs.shape[1:3], self.kernel_size, inputs.shape[-1],
                                          self.strides, self.padding, self.dilation_rate, "zero")
        return keras.KerasTensor((inputs.shape[0], g.out_h, g.out_w, self.filters), "float32")

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
            "strides": self.strides, "padding": self.padding,
            "dilation_rate": self.dilation_rate,
            "activation": keras.activations.serialize(self.activation),
        }
