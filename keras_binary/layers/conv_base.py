"""`ConvMixin`: the call of every quantized convolution, with `pad_values` padding.

`call` is `activation(op(pad(q_in(x)), q(kernels)) + bias)`; each layer family supplies only
`quantized_op` (conv, depthwise, separable, transposed).

Zero padding is not a binary value: after a sign input quantizer the border would hold 0 while
every other input is +/-1. `pad_values` pads the *quantized* inputs with a constant instead,
exactly where a "same" convolution pads (TensorFlow/XLA convention: the extra row or column, if
any, goes at the end), and then runs a "valid" convolution. Spatial sizes unknown when the model
is built (`keras.Input((None, None, 3))`) are read from the input at call time, so the padding
follows each input's size, as Larq's does.

Example:

>>> same_padding(size=5, kernel_size=3, stride=2, dilation=1)
(1, 1)
>>> same_padding(size=6, kernel_size=3, stride=2, dilation=1)
(0, 1)
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from keras import ops

from keras_binary.layers.base import QuantizerMixin


def same_padding(size: Any, kernel_size: int, stride: int, dilation: int) -> tuple[Any, Any]:
    """(before, after) padding of one spatial axis for a "same" convolution.

    `size` is an int, or a scalar integer tensor for a size known only at run time (the result
    is then a pair of tensors).
    """
    effective_kernel = (kernel_size - 1) * dilation + 1
    output_size = -(-size // stride)
    total = (output_size - 1) * stride + effective_kernel - size
    total = max(total, 0) if isinstance(total, int) else ops.maximum(total, 0)
    return total // 2, total - total // 2


class ConvMixin(QuantizerMixin):
    """Quantized convolutions: `pad_values`, causal padding, bias and activation.

    Layers without `pad_values` (transposed convolutions) set `supports_pad_values = False`.
    """

    pad_values = 0.0
    supports_pad_values = True

    def quantized_op(self, x: Any, padding: str) -> Any:
        """The convolution on padded quantized inputs `x` with the quantized kernel(s)."""
        raise NotImplementedError(f"{type(self).__name__} must implement quantized_op")

    def build(self, input_shape: Any) -> None:
        super().build(input_shape)
        self.tag_kernels(input_shape)

    def call(self, inputs: Any) -> Any:
        x, padding = self.pad_inputs(self.quantize_input(inputs))
        return self.add_bias_activation(self.quantized_op(x, padding))

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), **self.quantizer_config()}
        if self.supports_pad_values:
            config["pad_values"] = self.pad_values
        return config

    def init_quant_conv(self, pad_values: Any = 0.0, **quantizers: Any) -> None:
        """Validates `pad_values` and resolves the quantizers (call after the Keras `__init__`)."""
        if isinstance(pad_values, bool) or not isinstance(pad_values, numbers.Real):
            raise TypeError(f"pad_values must be a number, got {pad_values!r}")
        self.pad_values = float(pad_values)
        if not math.isfinite(self.pad_values):
            raise ValueError(f"pad_values must be finite, got {pad_values!r}; the padded inputs "
                             "are quantized values such as 0.0, 1.0 or -1.0")
        if self.pad_values != 0.0 and self.padding != "same":
            raise ValueError(
                f"pad_values={pad_values!r} only applies to padding='same'; got "
                f"padding={self.padding!r}. Use padding='same' or pad_values=0.0."
            )
        self.init_quantizers(**quantizers)

    def spatial_axes(self) -> range:
        first = 1 if self.data_format == "channels_last" else 2
        return range(first, first + len(self.kernel_size))

    def pad_inputs(self, x: Any) -> tuple[Any, str]:
        """Pads `x` for causal or non-zero-valued "same" padding; returns it and the padding
        mode left for the convolution op."""
        if self.padding == "causal":
            pads = [[0, 0]] * len(x.shape)
            axis = self.spatial_axes()[0]
            pads[axis] = [self.dilation_rate[0] * (self.kernel_size[0] - 1), 0]
            return ops.pad(x, pads), "valid"
        if self.pad_values == 0.0:
            return x, self.padding
        pads = [[0, 0]] * len(x.shape)
        shape = ops.shape(x)  # a tensor entry where the size is known only at run time
        for i, axis in enumerate(self.spatial_axes()):
            size = shape[axis]
            pads[axis] = list(
                same_padding(size, self.kernel_size[i], self.strides[i], self.dilation_rate[i])
            )
        return ops.pad(x, pads, constant_values=self.pad_values), "valid"

    def add_bias_activation(self, outputs: Any) -> Any:
        """Adds the bias along the channel axis and applies the activation."""
        if self.use_bias:
            bias = self.bias
            if self.data_format == "channels_first":
                bias = ops.reshape(bias, (1, -1) + (1,) * (len(outputs.shape) - 2))
            outputs = ops.add(outputs, bias)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs
