"""`QuantConv1D`, `QuantConv2D`, `QuantConv3D`: Keras convolutions with quantized inputs/kernel."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_binary.layers.base import split_init_arguments
from keras_binary.layers.conv_base import ConvMixin


class QuantConvMixin(ConvMixin):
    """`activation(conv(pad(q_in(x)), q_k(kernel)) + bias)` for `keras.layers.ConvND`."""

    def quantized_op(self, x: Any, padding: str) -> Any:
        return ops.conv(
            x,
            self.quantize_kernel(self.kernel),
            strides=list(self.strides),
            padding=padding,
            dilation_rate=self.dilation_rate,
            data_format=self.data_format,
        )


@keras.saving.register_keras_serializable(package="keras_binary")
class QuantConv1D(QuantConvMixin, keras.layers.Conv1D):
    """1D convolution with quantized inputs and kernel (and causal padding, as Conv1D).

    Takes every argument of `keras.layers.Conv1D` plus `input_quantizer`, `kernel_quantizer` and
    `pad_values` (constant for "same" padding of the quantized inputs).

    Args:
        filters: Integer, the number of output filters.
        kernel_size: Integer or tuple, the size of the convolution window.
        {{input_quantizer_arg}}
        {{kernel_quantizer_arg}}
        {{pad_values_arg}}
        {{keras_layer_kwargs}}

    Input shape:
        3D tensor `(batch_size, steps, channels)` with
        `data_format="channels_last"` (channels first otherwise), as for `keras.layers.Conv1D`.

    Output shape:
        3D tensor, with the spatial sizes `keras.layers.Conv1D` gives.

    Example:

    >>> layer = QuantConv1D(4, 3, padding="same", input_quantizer="ste_sign",
    ...                     kernel_quantizer="ste_sign", kernel_constraint="weight_clip",
    ...                     pad_values=1.0)
    >>> tuple(layer(keras.ops.ones((2, 10, 3))).shape)
    (2, 10, 4)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        input_quantizer=None,
        kernel_quantizer=None,
        pad_values=0.0,
        **kwargs,
    ):
        keras_kwargs, own = split_init_arguments(locals())
        super().__init__(**keras_kwargs)
        self.init_quant_conv(**own)


@keras.saving.register_keras_serializable(package="keras_binary")
class QuantConv2D(QuantConvMixin, keras.layers.Conv2D):
    """2D convolution with quantized inputs and kernel.

    Takes every argument of `keras.layers.Conv2D` plus `input_quantizer`, `kernel_quantizer` and
    `pad_values` (constant for "same" padding of the quantized inputs).

    Args:
        filters: Integer, the number of output filters.
        kernel_size: Integer or tuple, the size of the convolution window.
        {{input_quantizer_arg}}
        {{kernel_quantizer_arg}}
        {{pad_values_arg}}
        {{keras_layer_kwargs}}

    Input shape:
        4D tensor `(batch_size, rows, cols, channels)` with
        `data_format="channels_last"` (channels first otherwise), as for `keras.layers.Conv2D`.

    Output shape:
        4D tensor, with the spatial sizes `keras.layers.Conv2D` gives.

    Example:

    >>> layer = QuantConv2D(8, 3, padding="same", input_quantizer="ste_sign",
    ...                     kernel_quantizer="ste_sign", kernel_constraint="weight_clip",
    ...                     pad_values=1.0)
    >>> tuple(layer(keras.ops.ones((2, 6, 6, 3))).shape)
    (2, 6, 6, 8)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        input_quantizer=None,
        kernel_quantizer=None,
        pad_values=0.0,
        **kwargs,
    ):
        keras_kwargs, own = split_init_arguments(locals())
        super().__init__(**keras_kwargs)
        self.init_quant_conv(**own)


@keras.saving.register_keras_serializable(package="keras_binary")
class QuantConv3D(QuantConvMixin, keras.layers.Conv3D):
    """3D convolution with quantized inputs and kernel.

    Takes every argument of `keras.layers.Conv3D` plus `input_quantizer`, `kernel_quantizer` and
    `pad_values` (constant for "same" padding of the quantized inputs).

    Args:
        filters: Integer, the number of output filters.
        kernel_size: Integer or tuple, the size of the convolution window.
        {{input_quantizer_arg}}
        {{kernel_quantizer_arg}}
        {{pad_values_arg}}
        {{keras_layer_kwargs}}

    Input shape:
        5D tensor `(batch_size, dim1, dim2, dim3, channels)` with
        `data_format="channels_last"` (channels first otherwise), as for `keras.layers.Conv3D`.

    Output shape:
        5D tensor, with the spatial sizes `keras.layers.Conv3D` gives.

    Example:

    >>> layer = QuantConv3D(2, 3, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
    ...                     kernel_constraint="weight_clip")
    >>> tuple(layer(keras.ops.ones((1, 4, 4, 4, 1))).shape)
    (1, 2, 2, 2, 2)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1, 1),
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        input_quantizer=None,
        kernel_quantizer=None,
        pad_values=0.0,
        **kwargs,
    ):
        keras_kwargs, own = split_init_arguments(locals())
        super().__init__(**keras_kwargs)
        self.init_quant_conv(**own)
