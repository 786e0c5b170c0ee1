"""`SlicedMaxPooling2D`: float max pooling as an elementwise max of strided slices.

XLA on CPU lowers MaxPooling2D to a slow reduce-window loop (about 1.2 ms for Bi-Real's
112x112x64 stem pooling); the max of the ``pool_h * pool_w`` shifted, strided views of the
padded input is the same result (max is exact, padding is -inf so it never wins) and fuses into
one fast elementwise loop. `convert` uses it for the float max pooling layers it copies. The
slices are used under JAX only: TensorFlow runs converted models as graphs (no XLA), where its
pooling op is fast and strided slices are slow (19 ms instead of 0.3 ms here), so it calls
``keras.ops.max_pool``; PyTorch pools the NHWC data as a channels-last view.
`reduce_windows` is the shared window walk (also used on packed bits).

Example:

>>> import numpy as np
>>> pool = SlicedMaxPooling2D(pool_size=3, strides=2, padding="same")
>>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
>>> np.asarray(pool(x))[0, :, :, 0].tolist()
[[10.0, 11.0], [14.0, 15.0]]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
from keras import ops

from keras_binary import kernels
from keras_binary.inference.binary_conv2d import _pair


def reduce_windows(x: Any, pool_size: tuple[int, int], strides: tuple[int, int], padding: str,
                   fill: Any, combine: Callable[[Any, Any], Any]) -> Any:
    """``combine`` over each pooling window of NHWC ``x`` ("valid" or TF-style "same" padding
    with ``fill``), as a fold of the ``pool_h * pool_w`` strided views.

    Args:
        x: NHWC tensor.
        pool_size: `(pool_h, pool_w)`.
        strides: `(stride_h, stride_w)`.
        padding: "valid" or "same".
        fill: Value of the padded pixels (one that never wins `combine`).
        combine: Binary elementwise op, e.g. `keras.ops.maximum`.

    Returns:
        The pooled NHWC tensor.
    """
    g = window_geometry(x.shape[1], x.shape[2], pool_size, strides, padding)
    pads = [(0, 0), (g.pad_top, g.pad_bottom), (g.pad_left, g.pad_right), (0, 0)]
    if any(pads[1] + pads[2]):
        x = ops.pad(x, pads, constant_values=fill)
    result = None
    for i in range(pool_size[0]):
        for j in range(pool_size[1]):
            window = x[:, i: i + (g.out_h - 1) * strides[0] + 1: strides[0],
                       j: j + (g.out_w - 1) * strides[1] + 1: strides[1], :]
            result = window if result is None else combine(result, window)
    return result


def window_geometry(height: int, width: int, pool_size: tuple[int, int],
                    strides: tuple[int, int], padding: str) -> kernels.Conv2dGeometry:
    """Output size and "same" padding (a pooling window has a convolution's geometry).

    Args:
        height: Input height.
        width: Input width.
        pool_size: `(pool_h, pool_w)`.
        strides: `(stride_h, stride_w)`.
        padding: "valid" or "same".

    Returns:
        The `Conv2dGeometry` of the window.
    """
    return kernels.Conv2dGeometry.create((height, width), pool_size, 1, strides, padding)


def _torch_max_pool(x: Any, pool_size: tuple[int, int], strides: tuple[int, int],
                    padding: str) -> Any:
    """PyTorch's pooling on the NHWC data in place (a channels-last view), "same" padding
    with -inf: Keras's torch ``max_pool`` copies to NCHW and pads by replication, about 10x
    slower (docs/performance-notes.md, "Converted models")."""
    import torch

    g = window_geometry(x.shape[1], x.shape[2], pool_size, strides, padding)
    pads = (g.pad_top, g.pad_left)
    nchw = x.permute(0, 3, 1, 2)
    # PyTorch pads top/left implicitly and, with ceil_mode, lets the last windows run past the
    # bottom/right edge: TF's "same" windows whenever the output sizes agree (no pad pass).
    if all(p <= k // 2 for p, k in zip(pads, pool_size, strict=True)) and all(
            _torch_pool_size(n, k, s, p) == out for n, k, s, p, out in zip(
                x.shape[1:3], pool_size, strides, pads, (g.out_h, g.out_w), strict=True)):
        y = torch.nn.functional.max_pool2d(nchw, pool_size, strides, pads, ceil_mode=True)
    else:
        padded = torch.nn.functional.pad(
            x, (0, 0, g.pad_left, g.pad_right, g.pad_top, g.pad_bottom), value=float("-inf"))
        y = torch.nn.functional.max_pool2d(padded.permute(0, 3, 1, 2), pool_size, strides)
    return y.permute(0, 2, 3, 1)


def _torch_pool_size(size: int, pool: int, stride: int, pad: int) -> int:
    """PyTorch's pooled size with ``pad`` on both sides and ``ceil_mode=True``: a window must
    start inside the input or its leading padding."""
    out = -(-(size + 2 * pad - pool) // stride) + 1
    return out - 1 if (out - 1) * stride >= size + pad else out


@keras.saving.register_keras_serializable(package="keras_binary")
class SlicedMaxPooling2D(keras.layers.Layer):
    """NHWC float max pooling equal to ``keras.layers.MaxPooling2D`` (channels_last).

    Args:
        pool_size: Integer or pair, the window size.
        strides: Integer or pair; None takes `pool_size`.
        padding: "valid" or "same".
        **kwargs: Keyword arguments of `keras.layers.Layer` (`name`, `dtype`).

    Example:

    >>> import numpy as np
    >>> pool = SlicedMaxPooling2D(pool_size=2)
    >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    >>> np.asarray(pool(x))[0, :, :, 0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    """

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 **kwargs):
        super().__init__(**kwargs)
        if padding not in ("valid", "same"):
            raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
        self.pool_size = _pair(pool_size)
        self.strides = _pair(strides if strides is not None else pool_size)
        self.padding = padding

    def call(self, inputs: Any) -> Any:
        if len(inputs.shape) != 4:
            raise ValueError(f"{self.name}: expected a rank-4 NHWC input, got {inputs.shape}")
        backend = keras.backend.backend()
        if backend == "torch":
            return _torch_max_pool(inputs, self.pool_size, self.strides, self.padding)
        if backend != "jax":  # TF graph mode's pooling op is fast, slices slow
            return ops.max_pool(inputs, self.pool_size, self.strides, self.padding)
        return reduce_windows(inputs, self.pool_size, self.strides, self.padding,
                              float("-inf"), ops.maximum)

    def compute_output_spec(self, inputs: Any) -> keras.KerasTensor:
        g = window_geometry(inputs.shape[1], inputs.shape[2], self.pool_size, self.strides,
                            self.padding)
        return keras.KerasTensor((inputs.shape[0], g.out_h, g.out_w, inputs.shape[3]),
                                 dtype=inputs.dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding}
