"""`PackedMaxPooling2D`: max pooling on packed sign bits, as AND/OR of bits per channel.

A packed bit is 1 where a value is negative. Max pooling followed by a per-channel increasing
map keeps a value negative only where the whole window is: the pooled bit is the AND of the
window's bits. A decreasing map (a negative BatchNorm scale after the pooling) turns the max into
a min, which is negative where any value is: the OR. ``or_mask`` (packed, one bit per channel)
selects OR for those channels. Pooling is "valid" or "same" (padded pixels never win).

Example:

>>> import numpy as np
>>> pool = PackedMaxPooling2D(channels=3, pool_size=2)
>>> bits = np.array([[[[1], [1]], [[1], [0]]]], "int32")    # 2x2 pixels, channel 0 only
>>> np.asarray(pool(bits)).ravel().tolist()                # AND: not all negative
[0]
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from keras_binary import kernels
from keras_binary.inference.binary_conv2d import _pair
from keras_binary.inference.sliced_pooling import reduce_windows, window_geometry


@keras.saving.register_keras_serializable(package="keras_binary")
class PackedMaxPooling2D(keras.layers.Layer):
    """Max pooling of packed NHWC sign bits [B, H, W, ceil(channels / 32)] (int32).

    Args:
        channels: Number of channels the packed words hold.
        pool_size: Integer or pair, the window size.
        strides: Integer or pair; None takes `pool_size`.
        padding: "valid" or "same".
        **kwargs: Keyword arguments of `keras.layers.Layer` (`name`, `dtype`).

    Example:

    >>> import numpy as np
    >>> pool = PackedMaxPooling2D(channels=32, pool_size=2)
    >>> tuple(pool(np.zeros((1, 4, 4, 1), "int32")).shape)
    (1, 2, 2, 1)
    """

    def __init__(self, channels: int, pool_size: Any = 2, strides: Any = None,
                 padding: str = "valid", **kwargs):
        super().__init__(**kwargs)
        if padding not in ("valid", "same"):
            raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
        self.channels = channels
        self.pool_size = _pair(pool_size)
        self.strides = _pair(strides if strides is not None else pool_size)
        self.padding = padding

    def geometry(self, height: int, width: int) -> kernels.Conv2dGeometry:
        """Output size and "same" padding (a pooling window has a convolution's geometry)."""
        return window_geometry(height, width, self.pool_size, self.strides, self.padding)

    def build(self, input_shape: Any) -> None:
        words = kernels.packed_words(self.channels)
        if len(input_shape) != 4 or input_shape[-1] != words:
            raise ValueError(
                f"{self.name}: expected packed input [B, H, W, {words}], got "
                f"{tuple(input_shape)}"
            )
        self.or_mask = self.add_weight(name="or_mask", shape=(kernels.packed_words(self.channels),),
                                       dtype="int32", initializer="zeros", trainable=False)

    def set_or_channels(self, flags: Any) -> None:
        """Channels (bool per channel) pooled with OR (a decreasing map follows the pooling)."""
        flags = np.asarray(flags, bool)
        if flags.shape != (self.channels,):
            raise ValueError(f"{self.name}: need {self.channels} flags, got {flags.shape}")
        padded = np.zeros(kernels.packed_words(self.channels) * 32, bool)
        padded[: self.channels] = flags
        weights = np.left_shift(np.uint32(1), np.arange(32, dtype=np.uint32))
        mask = (padded.reshape(-1, 32) * weights).sum(axis=1, dtype=np.uint64)
        self.or_mask.assign(mask.astype(np.uint32).view(np.int32))

    def _reduce(self, x: Any, fill: int, combine: Any) -> Any:
        return reduce_windows(x, self.pool_size, self.strides, self.padding, fill, combine)

    def call(self, inputs: Any) -> Any:
        every = self._reduce(inputs, -1, ops.bitwise_and)
        some = self._reduce(inputs, 0, ops.bitwise_or)
        mask = self.or_mask.value
        return ops.bitwise_or(ops.bitwise_and(every, ops.bitwise_not(mask)),
                              ops.bitwise_and(some, mask))

    def compute_output_spec(self, inputs: Any) -> keras.KerasTensor:
        g = self.geometry(inputs.shape[1], inputs.shape[2])
        return keras.KerasTensor((inputs.shape[0], g.out_h, g.out_w, inputs.shape[3]),
                                 dtype="int32")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "channels": self.channels, "pool_size": self.pool_size,
                "strides": self.strides, "padding": self.padding}
