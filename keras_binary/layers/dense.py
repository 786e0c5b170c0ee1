"""`QuantDense`: `keras.layers.Dense` with quantized inputs and kernel."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_binary.layers.base import QuantizerMixin, split_init_arguments


@keras.saving.register_keras_serializable(package="keras_binary")
class QuantDense(QuantizerMixin, keras.layers.Dense):
    """Densely connected layer computing `activation(q_in(x) @ q_k(kernel) + bias)`.

    Takes every argument of `keras.layers.Dense` plus `input_quantizer` and `kernel_quantizer`.
    The latent float kernel is trained; its quantizer is recorded on it
    (`keras_binary.precision.get_quantizer`). Keras' post-training quantization (`quantize()`,
    `quantization_config`, int8/int4 dtype policies) is not supported; LoRA works only without a
    kernel quantizer.

    Args:
        units: Positive integer, dimensionality of the output space.
        {{input_quantizer_arg}}
        {{kernel_quantizer_arg}}
        {{keras_layer_kwargs}}

    Input shape:
        N-D tensor with shape `(batch_size, ..., input_dim)`, as `keras.layers.Dense`.

    Output shape:
        N-D tensor with shape `(batch_size, ..., units)`.

    Example:

    >>> layer = QuantDense(16, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
    ...                    kernel_constraint="weight_clip")
    >>> tuple(layer(keras.ops.ones((2, 8))).shape)
    (2, 16)
    >>> layer.kernel_precision
    1
    """

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        quantization_config=None,
        input_quantizer=None,
        kernel_quantizer=None,
        **kwargs,
    ):
        if quantization_config is not None:
            raise NotImplementedError(
                "QuantDense does not support Keras post-training quantization "
                "(quantization_config); use kernel_quantizer/input_quantizer instead."
            )
        keras_kwargs, own = split_init_arguments(locals())
        super().__init__(**keras_kwargs)
        self.init_quantizers(**own)

    def build(self, input_shape: Any) -> None:
        if self.quantization_mode is not None:
            raise NotImplementedError(
                f"QuantDense '{self.name}' does not support the Keras quantization mode "
                f"{self.quantization_mode!r} (dtype policy {self.dtype_policy.name!r})."
            )
        super().build(input_shape)
        self.tag_kernels(input_shape)

    def quantize(self, mode: Any = None, type_check: bool = True, config: Any = None) -> None:
        raise NotImplementedError(
            f"QuantDense '{self.name}' does not support Keras post-training quantization "
            f"(mode={mode!r}); its kernel is quantized by kernel_quantizer."
        )

    def call(self, inputs: Any, training: Any = None) -> Any:
        x = ops.matmul(self.quantize_input(inputs), self.quantize_kernel(self.kernel))
        if self.bias is not None:
            x = ops.add(x, self.bias)
        if self.activation is not None:
            x = self.activation(x)
        return x

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self.quantizer_config()}
