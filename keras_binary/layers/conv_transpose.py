"""`QuantConv1DTranspose`, `QuantConv2DTranspose`, `QuantConv3DTranspose`: transposed
convolutions with quantized inputs and kernel.

A transposed convolution's "same" padding crops its output instead of padding its input, so
these layers have no `pad_values`.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_binary.layers.base import split_init_arguments
from keras_binary.layers.conv_base import ConvMixin


class QuantConvTransposeMixin(ConvMixin):
    """`activation(conv_transpose(q_in(x), q_k(kernel)) + bias)`."""

    supports_pad_values = False

    def quantized_op(self, x: Any, padding: str) -> Any:
        return ops.conv_transpose(
            x,
            self.quantize_kernel(self.kernel),
            strides=list(self.strides),
            padding=padding,
            output_padding=self.output_padding,
            dilation_rate=self.dilation_rate,
            data_format=self.data_format,
        )


@keras.saving.register_keras_serializable(package="keras_binary")
class QuantConv1DTranspose(QuantConvTransposeMixin, keras.layers.Conv1DTranspose):
    """1D transposed convolution with quantized inputs and kernel.

    Takes every argument of `keras.layers.Conv1DTranspose` plus `input_quantizer` and
    `kernel_quantizer`.

    Args:
        filters: Integer, the number of output filters.
        kernel_size: Integer or tuple, the size of the transposed convolution window.
        {{input_quantizer_arg}}
        {{kernel_quantizer_arg}}
        {{keras_layer_kwargs}}

    Input shape:
        3D tensor `(batch_size, steps, channels)` with
        `data_format="channels_last"` (channels first otherwise), as for
        `keras.layers.Conv1DTranspose`.

    Output shape:
        3D tensor, with the spatial sizes `keras.layers.Conv1DTranspose` gives.

    Example:

    >>> layer = QuantConv1DTranspose(2, 3, strides=2, input_quantizer="ste_sign")
    >>> tuple(layer(keras.ops.ones((1, 4, 3))).shape)
    (1, 9, 2)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=1,
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
        **kwargs,
    ):
        keras_kwargs, own = split_init_arguments(locals())
        super().__init__(**keras_kwargs)
        self.init_quantizers(**own)


@keras.saving.register_keras_serializable(package="keras_binary")
class QuantConv2DTranspose(QuantConvTransposeMixin, keras.layers.Conv2DTranspose):
    """2D transposed convolution with quantized inputs and kernel.

    Takes every argument of `keras.layers.Conv2DTranspose` plus `input_quantizer` and
    `kernel_quantizer`.

    Args:
        filters: Integer, the number of output filters.
        kernel_size: Integer or tuple, the size of the transposed convolution window.
        {{input_quantizer_arg}}
        {{kernel_quantizer_arg}}
        {{keras_layer_kwargs}}

    Input shape:
        4D tensor `(batch_size, rows, cols, channels)` with
        `data_format="channels_last"` (channels first otherwise), as for
        `keras.layers.Conv2DTranspose`.

    Output shape:
        4D tensor, with the spatial sizes `keras.layers.Conv2DTranspose` gives.

    Example:

    >>> layer = QuantConv2DTranspose(2, 3, strides=2, padding="same", input_quantizer="ste_sign",
    ...                              kernel_quantizer="ste_sign", kernel_constraint="weight_clip")
    >>> tuple(layer(keras.ops.ones((1, 4, 4, 3))).shape)
    (1, 8, 8, 2)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=(1, 1),
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
        **kwargs,
    ):
        keras_kwargs, own = split_init_arguments(locals())
        super().__init__(**keras_kwargs)
        self.init_quantizers(**own)


@keras.saving.register_keras_serializable(package="keras_binary")
class QuantConv3DTranspose(QuantConvTransposeMixin, keras.layers.Conv3DTranspose):
    """3D transposed convolution with quantized inputs and kernel.

    Takes every argument of `keras.layers.Conv3DTranspose` plus `input_quantizer` and
    `kernel_quantizer`.

    Args:
        filters: Integer, the number of output filters.
        kernel_size: Integer or tuple, the size of the transposed convolution window.
        {{input_quantizer_arg}}
        {{kernel_quantizer_arg}}
        {{keras_layer_kwargs}}

    Input shape:
        5D tensor `(batch_size, dim1, dim2, dim3, channels)` with
        `data_format="channels_last"` (channels first otherwise), as for
        `keras.layers.Conv3DTranspose`.

    Output shape:
        5D tensor, with the spatial sizes `keras.layers.Conv3DTranspose` gives.

    Example:

    >>> layer = QuantConv3DTranspose(2, 2, strides=2, kernel_quantizer="ste_sign",
    ...                              kernel_constraint="weight_clip")
    >>> tuple(layer(keras.ops.ones((1, 2, 2, 2, 1))).shape)
    (1, 4, 4, 4, 2)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1, 1),
        padding="valid",
        data_format=None,
        output_padding=None,
        dilation_rate=(1, 1, 1),
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
        **kwargs,
    ):
        keras_kwargs, own = split_init_arguments(locals())
        super().__init__(**keras_kwargs)
        self.init_quantizers(**own)
