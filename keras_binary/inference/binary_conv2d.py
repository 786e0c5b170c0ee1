"""`BinaryConv2DInference`: a binary NHWC conv2d on packed weights (popcount kernel).

Computes ``acc = conv(sign(x), sign(K))`` with "valid" or "same" padding, the padded pixels
being +1 (``pad_value="one"``) or 0 (``"zero"``), then ``y = acc * scale + bias`` per filter;
returns ``activation(y)`` or, with ``output="packed"``, the packed sign bits of ``y``. Inputs
are float [B, H, W, channels] (packed inside) or packed int32 [B, H, W, ceil(channels / 32)].
A float input sample holding a NaN gives NaN outputs for that whole sample (the float layers'
sign(NaN) = NaN, per sample: `keras_binary.inference.nan_rows`; a packed output cannot hold NaN).
Called on ``[x, residual]`` (float input and output, one group), it adds ``residual`` to ``y``
in the kernel's epilogue, before the activation: `convert` fuses a shortcut's Add this way.

With ``groups`` > 1 (as in `keras.layers.Conv2D`) each group of ``channels / groups`` input
channels feeds ``filters / groups`` filters, one kernel call per group. A packed input then
needs ``channels / groups`` and a packed output ``filters / groups`` to be multiples of 32
(whole words per group); a float input is sliced by channel and packed per group.

Example:

>>> import numpy as np
>>> layer = BinaryConv2DInference(2, 3, channels=5, padding="same")
>>> tuple(layer(np.ones((1, 4, 4, 5), "float32")).shape)
(1, 4, 4, 2)
"""

from __future__ import annotations

from typing import Any

import keras

from keras_binary import kernels
from keras_binary.inference.base import EpilogueMixin
from keras_binary.inference.nan_rows import mark_nan_rows, nan_rows
from keras_binary.kernels.float_input import SAMPLE_AXES


def packs_per_group(channels: int, groups: int) -> bool:
    """Whether ``channels`` split into ``groups`` can be packed group by group: each group
    must fill whole 32-bit words (always true ungrouped)."""
    return groups == 1 or (channels // groups) % 32 == 0


def _pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(int(v) for v in value)


@keras.saving.register_keras_serializable(package="keras_binary")
class BinaryConv2DInference(EpilogueMixin, keras.layers.Layer):
    """``filters`` binary filters of ``kernel_size`` over ``channels`` binary input channels.

    `keras_binary.inference.convert` builds these from trained binary convolutions and fills
    them with `set_packed_weights(packed_kernel, scale, bias)`; the module docstring above
    gives the arithmetic.

    Args:
        filters: Positive integer, the number of output filters.
        kernel_size: Integer or pair, the window size.
        channels: Number of input channels (unpacked).
        strides: Integer or pair.
        padding: "valid" or "same" (TensorFlow's convention: the extra row or column at the end).
        dilation_rate: Integer or pair.
        pad_value: "one" pads the binary input with +1, "zero" with 0 (the float reference's
            zero padding).
        output: "float" returns `activation(acc * scale + bias)`; "packed" returns the packed
            sign bits of `acc * scale + bias` (int32, bit 1 where negative) for a next binary
            layer, and takes no activation.
        activation: Keras activation identifier applied to a float output.
        **kwargs: Keyword arguments of `keras.layers.Layer` (`name`, `dtype`).
        groups: Number of channel groups, dividing `filters` and `channels`.

    Input shape:
        Float `(batch, height, width, channels)`, or packed int32
        `(batch, height, width, ceil(channels / 32))`.

    Output shape:
        `(batch, out_height, out_width, filters)` float, or packed int32 words of `filters` bits.

    Example:

    >>> import numpy as np
    >>> layer = BinaryConv2DInference(4, 3, channels=8)
    >>> tuple(layer(np.ones((1, 5, 5, 8), "float32")).shape)
    (1, 3, 3, 4)
    """

    def __init__(self, filters: int, kernel_size: Any, channels: int, strides: Any = 1,
                 padding: str = "valid", dilation_rate: Any = 1, pad_value: str = "one",
                 output: str = "float", activation=None, groups: int = 1, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(filters, int) or filters < 1:
            raise ValueError(f"filters must be a positive int, got {filters!r}")
        if not isinstance(groups, int) or groups < 1 or filters % groups or channels % groups:
            raise ValueError(f"groups={groups!r} must be a positive int dividing filters "
                             f"({filters}) and channels ({channels})")
        if output == "packed" and not packs_per_group(filters, groups):
            raise ValueError(f"a packed output needs filters / groups = {filters // groups} to "
                             "be a multiple of 32 (whole words per group); use output='float'")
        self.filters = filters
        self.groups = groups
        self.kernel_size = _pair(kernel_size)
        self.channels = channels
        self.strides = _pair(strides)
        self.padding = padding
        self.dilation_rate = _pair(dilation_rate)
        self.pad_value = pad_value
        self.init_epilogue(output, activation)

    def geometry(self, input_shape: Any) -> kernels.Conv2dGeometry:
        """Output size and padding for an input of ``input_shape`` (errors name the problem)."""
        if len(input_shape) != 4:
            raise ValueError(f"{self.name}: expected a rank-4 NHWC input, got {input_shape}")
        return kernels.Conv2dGeometry.create(
            input_shape[1:3], self.kernel_size, self.channels // self.groups, self.strides,
            self.padding, self.dilation_rate, self.pad_value,
        )

    def build(self, input_shape: Any) -> None:
        self.geometry(self.input_shape_of(input_shape))
        words = kernels.packed_words(self.channels // self.groups)
        shape = (self.filters, *self.kernel_size, words)
        self.add_epilogue_weights(shape, self.filters)

    def call(self, inputs: Any) -> Any:
        inputs, residual = self.split_residual(inputs)
        if residual is not None and self.groups > 1:
            raise ValueError(f"{self.name}: a residual needs groups=1, got {self.groups}")
        packed = keras.backend.standardize_dtype(inputs.dtype) == "int32"
        per_in = self.channels // self.groups
        if not packed:
            inputs = keras.ops.cast(inputs, "float32")
            if self.output_mode == "float" and self.groups == 1:  # packing, NaN, residual
                return self.finish(kernels.binary_conv2d_float(
                    inputs, self.packed_kernel.value, strides=self.strides,
                    padding=self.padding, dilation_rate=self.dilation_rate,
                    pad_value=self.pad_value, scale=self.scale.value, bias=self.bias.value,
                    residual=residual), keep_nan=True)
        elif not packs_per_group(self.channels, self.groups):
            raise ValueError(
                f"{self.name}: a packed input needs channels / groups = {per_in} to be a "
                "multiple of 32; pass float inputs"
            )
        marks_nan = not packed and self.output_mode == "float"
        flags = nan_rows(inputs, axes=SAMPLE_AXES) if marks_nan else None
        step_in = per_in // 32 if packed else per_in  # words or channels per group
        step_out = self.filters // self.groups
        ys = []
        for g in range(self.groups):
            out = slice(g * step_out, (g + 1) * step_out)
            ys.append(kernels.binary_conv2d(
                inputs[..., g * step_in:(g + 1) * step_in] if self.groups > 1 else inputs,
                self.packed_kernel.value[out], channels=per_in, strides=self.strides,
                padding=self.padding, dilation_rate=self.dilation_rate,
                pad_value=self.pad_value, scale=self.scale.value[out],
                bias=self.bias.value[out], output=self.output_mode,
            ))
        y = self.finish(ys[0] if self.groups == 1 else keras.ops.concatenate(ys, axis=-1))
        return y if flags is None else mark_nan_rows(y, flags)

    def compute_output_spec(self, inputs: Any) -> keras.KerasTensor:
        inputs, _ = self.split_residual(inputs)
        g = self.geometry(tuple(inputs.shape))
        last = self.filters if self.output_mode == "float" else kernels.packed_words(self.filters)
        return keras.KerasTensor((inputs.shape[0], g.out_h, g.out_w, last),
                                 dtype=self.output_dtype())

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
            "channels": self.channels, "strides": self.strides, "padding": self.padding,
            "dilation_rate": self.dilation_rate, "pad_value": self.pad_value,
            "groups": self.groups, **self.epilogue_config(),
        }
