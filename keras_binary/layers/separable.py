"""`QuantSeparableConv1D`, `QuantSeparableConv2D`: separable convolutions with quantized inputs,
depthwise and pointwise kernels."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_binary import quantizers
from keras_binary.layers.base import split_init_arguments
from keras_binary.layers.conv_base import ConvMixin


class QuantSeparableMixin(ConvMixin):
    """`activation(separable_conv(pad(q_in(x)), q_d(depthwise), q_p(pointwise)) + bias)`.

    `kernel_precision` is the depthwise kernel's; `pointwise_precision` the pointwise one's.
    """

    quantized_kernels = (
        ("depthwise_quantizer", "depthwise_kernel", "depthwise_constraint"),
        ("pointwise_quantizer", "pointwise_kernel", "pointwise_constraint"),
    )

    @property
    def pointwise_precision(self) -> int | None:
        """Bits of the quantized pointwise kernel; None without a quantizer or when unknown."""
        return quantizers.precision_of(self.pointwise_quantizer)

    def quantized_op(self, x: Any, padding: str) -> Any:
        return ops.separable_conv(
            x,
            self.quantize_kernel(self.depthwise_kernel, "depthwise_quantizer"),
            self.quantize_kernel(self.pointwise_kernel, "pointwise_quantizer"),
            strides=self.strides,
            padding=padding,
            dilation_rate=self.dilation_rate,
            data_format=self.data_format,
        )


@keras.saving.register_keras_serializable(package="keras_binary")
class QuantSeparableConv1D(QuantSeparableMixin, keras.layers.SeparableConv1D):
    """1D separable convolution with quantized inputs, depthwise and pointwise kernels.

    Takes every argument of `keras.layers.SeparableConv1D` plus `input_quantizer`,
    `depthwise_quantizer`, `pointwise_quantizer` and `pad_values`.

    Args:
        filters: Integer, the number of output filters (of the pointwise convolution).
        kernel_size: Integer or tuple, the size of the depthwise convolution window.
        {{input_quantizer_arg}}
        {{depthwise_quantizer_arg}}
        {{pointwise_quantizer_arg}}
        {{pad_values_arg}}
        {{keras_layer_kwargs}}

    Input shape:
        3D tensor `(batch_size, steps, channels)` with
        `data_format="channels_last"` (channels first otherwise), as for
        `keras.layers.SeparableConv1D`.

    Output shape:
        3D tensor, with the spatial sizes `keras.layers.SeparableConv1D` gives.

    Example:

    >>> layer = QuantSeparableConv1D(6, 3, input_quantizer="ste_sign")
    >>> tuple(layer(keras.ops.ones((2, 8, 4))).shape)
    (2, 6, 6)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        input_quantizer=None,
        depthwise_quantizer=None,
        pointwise_quantizer=None,
        pad_values=0.0,
        **kwargs,
    ):
        keras_kwargs, own = split_init_arguments(locals())
        super().__init__(**keras_kwargs)
        self.init_quant_conv(**own)


@keras.saving.register_keras_serializable(package="keras_binary")
class QuantSeparableConv2D(QuantSeparableMixin, keras.layers.SeparableConv2D):
    """2D separable convolution with quantized inputs, depthwise and pointwise kernels.

    Takes every argument of `keras.layers.SeparableConv2D` plus `input_quantizer`,
    `depthwise_quantizer`, `pointwise_quantizer` and `pad_values`.

    Args:
        filters: Integer, the number of output filters (of the pointwise convolution).
        kernel_size: Integer or tuple, the size of the depthwise convolution window.
        {{input_quantizer_arg}}
        {{depthwise_quantizer_arg}}
        {{pointwise_quantizer_arg}}
        {{pad_values_arg}}
        {{keras_layer_kwargs}}

    Input shape:
        4D tensor `(batch_size, rows, cols, channels)` with
        `data_format="channels_last"` (channels first otherwise), as for
        `keras.layers.SeparableConv2D`.

    Output shape:
        4D tensor, with the spatial sizes `keras.layers.SeparableConv2D` gives.

    Example:

    >>> layer = QuantSeparableConv2D(6, 3, padding="same", input_quantizer="ste_sign",
    ...                              pointwise_quantizer="ste_sign",
    ...                              pointwise_constraint="weight_clip", pad_values=1.0)
    >>> tuple(layer(keras.ops.ones((2, 5, 5, 4))).shape)
    (2, 5, 5, 6)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        input_quantizer=None,
        depthwise_quantizer=None,
        pointwise_quantizer=None,
        pad_values=0.0,
        **kwargs,
    ):
        keras_kwargs, own = split_init_arguments(locals())
        super().__init__(**keras_kwargs)
        self.init_quant_conv(**own)
