"""Binary ops on a float input: pack, multiply, mark NaN rows and add a residual in one call.

A converted layer that takes float activations used to run four passes around its kernel: pack
the input, check it for NaN, write NaN into the flagged rows and add a shortcut. On the CPU,
`binary_matmul_float` and `binary_conv2d_float` run all of it in one kernel call (the
``*_float_f32`` targets: an XLA custom call under JAX and TensorFlow, a ``torch.library`` op
under PyTorch; packing on the framework's threads, the residual added in the GEMM's epilogue,
bit-exact with the separate add), as the ONNX Runtime ops ``BinaryMatmulFloat`` and
``BinaryConv2dFloat`` do. On GPUs and with ``implementation="reference"`` the same result is
composed from `pack_bits`, the packed op, `nan_rows` and an add.

Example:

>>> import numpy as np
>>> from keras_binary import kernels
>>> w = kernels.pack_bits(np.array([[1.0, 1.0, 1.0], [1.0, -1.0, 1.0]], "float32"))
>>> x = np.array([[1.0, -1.0, 1.0], [np.nan, 1.0, 1.0]], "float32")
>>> np.asarray(binary_matmul_float(x, w, residual=np.ones((2, 2), "float32"))).tolist()
[[2.0, 4.0], [nan, nan]]
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_binary.kernels import ops as packed_ops
from keras_binary.kernels.bits import packed_words
from keras_binary.kernels.geometry import Conv2dGeometry
from keras_binary.kernels.nan_rows import mark_nan_rows, nan_rows

SAMPLE_AXES = (1, 2, 3)  # a conv sample's NaN flag covers its whole input


def _fused(implementation: str) -> bool:
    """Whether the one-call CPU targets serve this call (the CPU kernels of any backend)."""
    return (packed_ops._use_kernel(implementation)
            and packed_ops._platform(keras.backend.backend()) == "cpu")


def _float_input(x) -> Any:
    return packed_ops._check_dtype(x, ("float32",), "float input")


def _residual(residual, shape: tuple) -> Any:
    """The residual as float32 of the output's ``shape``, or None."""
    if residual is None:
        return None
    residual = ops.cast(ops.convert_to_tensor(residual), "float32")
    matches = len(residual.shape) == len(shape) and all(
        a is None or b is None or a == b for a, b in zip(residual.shape, shape, strict=True))
    if not matches:
        raise ValueError(f"residual {tuple(residual.shape)} must have the output's shape "
                         f"{tuple(shape)}")
    return residual


def _operands(x, w, scale, bias, residual) -> list:
    """The fused target's operands: x, w, the epilogue vectors, then the residual if any."""
    n = w.shape[0]
    args = [x, w, packed_ops._channel_vector(scale, n, "scale", 1.0),
            packed_ops._channel_vector(bias, n, "bias", 0.0)]
    return args if residual is None else args + [residual]


def _composed(x, y, residual, axes: tuple[int, ...]) -> Any:
    """The unfused tail: the residual added to the packed op's output, NaN rows marked."""
    if residual is not None:
        y = y + residual
    return mark_nan_rows(y, nan_rows(x, axes))


def binary_matmul_float(x, packed_w, scale=None, bias=None, residual=None,
                        implementation: str = "auto"):
    """``sign(x) @ sign(w).T * scale + bias (+ residual)`` for a float ``x``, NaN rows kept NaN.

    Args:
        x: float32 [..., K], binarized by sign (packed inside).
        packed_w: int32 [N, ceil(K / 32)], from `pack_bits`.
        scale: Optional float [N] multiplying the popcount product (default 1).
        bias: Optional float [N] added after scaling (default 0).
        residual: Optional float32 [..., N] added to the output (a shortcut).
        implementation: "auto", "kernel" or "reference", as in `binary_matmul`.

    Returns:
        float32 [..., N]; a row of ``x`` holding a NaN gives a row of NaN.

    Example:

    >>> import numpy as np
    >>> from keras_binary import kernels
    >>> w = kernels.pack_bits(np.ones((1, 3), "float32"))
    >>> np.asarray(binary_matmul_float(np.array([[1.0, -2.0, 3.0]], "float32"), w)).tolist()
    [[1.0]]
    """
    x = _float_input(x)
    w = packed_ops._check_dtype(packed_w, ("int32",), "packed_w")
    k = x.shape[-1]
    n = w.shape[0]
    residual = _residual(residual, tuple(x.shape[:-1]) + (n,))
    if not _fused(implementation):
        y = packed_ops.binary_matmul(packed_ops.pack_bits(x, implementation), w, k=k,
                                     scale=scale, bias=bias, implementation=implementation)
        return _composed(x, y, residual, (-1,))
    if len(w.shape) != 2 or w.shape[1] != packed_words(k):
        raise ValueError(f"packed_w {tuple(w.shape)} does not hold k={k} bits per row "
                         f"(expected [N, {packed_words(k)}])")
    args = _operands(x, w, scale, bias, residual)
    leading = [(0, a) for a in range(len(x.shape) - 1)]
    return packed_ops._call("binary_matmul_float_f32", args, leading + [n], "float32", k=k)


def binary_conv2d_float(x, packed_kernel, strides=1, padding="valid", dilation_rate=1,
                        pad_value: str = "one", scale=None, bias=None, residual=None,
                        implementation: str = "auto"):
    """Binary NHWC conv2d of a float input with its epilogue and an optional residual; a sample
    whose input holds a NaN gives NaN outputs.

    Args:
        x: float32 [B, H, W, C], binarized by sign (packed inside).
        packed_kernel: int32 [Cout, kh, kw, ceil(C / 32)], from `pack_conv2d_kernel`.
        strides: int or pair.
        padding: "valid" or "same" (TensorFlow's convention).
        dilation_rate: int or pair.
        pad_value: "one" (padded pixels are +1) or "zero", as in `binary_conv2d`.
        scale: Optional float [Cout].
        bias: Optional float [Cout].
        residual: Optional float32 [B, out_h, out_w, Cout] added to the output (a shortcut).
        implementation: "auto", "kernel" or "reference", as in `binary_conv2d`.

    Returns:
        float32 [B, out_h, out_w, Cout].

    Example:

    >>> import numpy as np
    >>> from keras_binary import kernels
    >>> kernel = kernels.pack_conv2d_kernel(np.ones((3, 3, 4, 2), "float32"))
    >>> shortcut = np.ones((1, 3, 3, 2), "float32")
    >>> y = binary_conv2d_float(np.ones((1, 5, 5, 4), "float32"), kernel, residual=shortcut)
    >>> tuple(y.shape), float(y[0, 0, 0, 0])
    ((1, 3, 3, 2), 37.0)
    """
    x = _float_input(x)
    w = packed_ops._check_dtype(packed_kernel, ("int32",), "packed_kernel")
    if len(x.shape) != 4 or len(w.shape) != 4:
        raise ValueError(f"conv input and kernel must have rank 4, got {x.shape} and {w.shape}")
    channels = x.shape[-1]
    g = Conv2dGeometry.create(x.shape[1:3], w.shape[1:3], channels, strides, padding,
                              dilation_rate, pad_value)
    n = w.shape[0]
    residual = _residual(residual, (x.shape[0], g.out_h, g.out_w, n))
    if not _fused(implementation):
        y = packed_ops.binary_conv2d(x, w, strides=strides, padding=padding,
                                     dilation_rate=dilation_rate, pad_value=pad_value,
                                     scale=scale, bias=bias, implementation=implementation)
        return _composed(x, y, residual, SAMPLE_AXES)
    if w.shape[-1] != packed_words(channels):
        raise ValueError(f"packed kernel {tuple(w.shape)} does not hold the input's {channels} "
                         f"channels ({packed_words(channels)} words)")
    args = _operands(x, w, scale, bias, residual)
    return packed_ops._call("binary_conv2d_float_f32", args, [(0, 0), g.out_h, g.out_w, n],
                            "float32", **g.kernel_attrs())
