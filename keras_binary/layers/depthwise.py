"""`QuantDepthwiseConv1D`, `QuantDepthwiseConv2D`: depthwise convolutions with quantized
inputs and depthwise kernel."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_binary.layers.base import split_init_arguments
from keras_binary.layers.conv_base import ConvMixin


class QuantDepthwiseMixin(ConvMixin):
    """`activation(depthwise_conv(pad(q_in(x)), q_d(kernel)) + bias)`."""

    quantized_kernels = (("depthwise_quantizer", "kernel", "depthwise_constraint"),)

    def quantized_op(self, x: Any, padding: str) -> Any:
        return ops.depthwise_conv(
            x,
            self.quantize_kernel(self.kernel, "depthwise_quantizer"),
            strides=self.strides,
            padding=padding,
            dilation_rate=self.dilation_rate,
            data_format=self.data_format,
        )


@keras.saving.register_keras_serializable(package="keras_binary")
class QuantDepthwiseConv1D(QuantDepthwiseMixin, keras.layers.DepthwiseConv1D):
    """1D depthwise convolution with quantized inputs and depthwise kernel.

    Takes every argument of `keras.layers.DepthwiseConv1D` plus `input_quantizer`,
    `depthwise_quantizer` and `pad_values`.

    Args:
        kernel_size: Integer or tuple, the size of the depthwise convolution window.
        {{input_quantizer_arg}}
        {{depthwise_quantizer_arg}}
        {{pad_values_arg}}
        {{keras_layer_kwargs}}

    Input shape:
        3D tensor `(batch_size, steps, channels)` with
        `data_format="channels_last"` (channels first otherwise), as for
        `keras.layers.DepthwiseConv1D`.

    Output shape:
        3D tensor, with the spatial sizes `keras.layers.DepthwiseConv1D` gives.

    Example:

    >>> layer = QuantDepthwiseConv1D(3, padding="same", depthwise_quantizer="ste_sign",
    ...                              depthwise_constraint="weight_clip")
    >>> tuple(layer(keras.ops.ones((2, 8, 4))).shape)
    (2, 8, 4)
    """

    def __init__(
        self,
        kernel_size,
        strides=1,
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        input_quantizer=None,
        depthwise_quantizer=None,
        pad_values=0.0,
        **kwargs,
    ):
        keras_kwargs, own = split_init_arguments(locals())
        super().__init__(**keras_kwargs)
        self.init_quant_conv(**own)


@keras.saving.register_keras_serializable(package="keras_binary")
class QuantDepthwiseConv2D(QuantDepthwiseMixin, keras.layers.DepthwiseConv2D):
    """2D depthwise convolution with quantized inputs and depthwise kernel.

    Takes every argument of `keras.layers.DepthwiseConv2D` plus `input_quantizer`,
    `depthwise_quantizer` and `pad_values`.

    Args:
        kernel_size: Integer or tuple, the size of the depthwise convolution window.
        {{input_quantizer_arg}}
        {{depthwise_quantizer_arg}}
        {{pad_values_arg}}
        {{keras_layer_kwargs}}

    Input shape:
        4D tensor `(batch_size, rows, cols, channels)` with
        `data_format="channels_last"` (channels first otherwise), as for
        `keras.layers.DepthwiseConv2D`.

    Output shape:
        4D tensor, with the spatial sizes `keras.layers.DepthwiseConv2D` gives.

    Example:

    >>> layer = QuantDepthwiseConv2D(3, depth_multiplier=2, input_quantizer="ste_sign",
    ...                              depthwise_quantizer="ste_sign",
    ...                              depthwise_constraint="weight_clip")
    >>> tuple(layer(keras.ops.ones((2, 5, 5, 4))).shape)
    (2, 3, 3, 8)
    """

    def __init__(
        self,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=(1, 1),
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        input_quantizer=None,
        depthwise_quantizer=None,
        pad_values=0.0,
        **kwargs,
    ):
        keras_kwargs, own = split_init_arguments(locals())
        super().__init__(**keras_kwargs)
        self.init_quant_conv(**own)
