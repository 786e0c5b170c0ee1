"""Exact float reference of the binary kernels in ``keras.ops`` (any backend).

It defines what the compiled kernels must return bit for bit, and is the fallback where no
kernel is available. Bit convention: bit 1 = -1, bit 0 = +1, sign(0) = +1. Example::

    from keras_binary.kernels import reference
    px = reference.pack_bits(x)                    # [..., ceil(K / 32)] int32
    y = reference.binary_matmul(px, reference.pack_bits(w), k=x.shape[-1])  # sign(x) @ sign(w).T
"""

from __future__ import annotations

import numpy as np
from keras import ops

from keras_binary.kernels.bits import packed_words
from keras_binary.kernels.geometry import Conv2dGeometry

_SHIFTS = np.arange(32, dtype=np.int32)


def pack_bits(x):
    """Packs ``x < 0`` along the last axis into int32 words (K padded with zero bits).

    Args:
        x: Float tensor [..., K].

    Returns:
        int32 tensor [..., ceil(K/32)]; bit j of word i is x[..., 32 i + j] < 0.
    """
    x = ops.convert_to_tensor(x)
    k = x.shape[-1]
    words = packed_words(k)
    pad = [(0, 0)] * (len(x.shape) - 1) + [(0, words * 32 - k)]
    bits = ops.cast(ops.less(ops.pad(x, pad), 0), "int32")
    bits = ops.reshape(bits, tuple(ops.shape(x)[:-1]) + (words, 32))
    # Disjoint powers of two: the sum is the bitwise or (bit 31 wraps to the int32 sign bit).
    return ops.sum(ops.left_shift(bits, ops.convert_to_tensor(_SHIFTS)), axis=-1)


def unpack_bits(packed, k: int):
    """Inverse of :func:`pack_bits`: int32 words -> float32 +-1 values, last axis of length k.

    Args:
        packed: int32 tensor [..., W].
        k: Number of values, at most 32 * W.

    Returns:
        float32 tensor [..., k] of -1.0 (bit 1) and +1.0 (bit 0).
    """
    packed = ops.convert_to_tensor(packed)
    bits = ops.bitwise_and(ops.right_shift(ops.expand_dims(packed, -1), _SHIFTS), 1)
    bits = ops.reshape(bits, tuple(ops.shape(packed)[:-1]) + (packed.shape[-1] * 32,))
    return 1.0 - 2.0 * ops.cast(bits[..., :k], "float32")


def output_transform(acc, scale=None, bias=None, output: str = "float"):
    """``y = acc * scale + bias``; for ``output="packed"`` the packed sign bits of y.

    Args:
        acc: float32 accumulators [..., N].
        scale: Optional float [N] (default 1).
        bias: Optional float [N] (default 0).
        output: "float" or "packed".

    Returns:
        float32 y, or int32 packed sign bits of y.
    """
    y = acc
    if scale is not None:
        y = y * ops.cast(scale, "float32")
    if bias is not None:
        y = y + ops.cast(bias, "float32")
    return pack_bits(y) if output == "packed" else y


def binary_matmul(packed_x, packed_w, k: int, scale=None, bias=None, output: str = "float"):
    """``sign(x) @ sign(w).T`` from packed operands: [..., Kw] x [N, Kw] -> [..., N].

    Args:
        packed_x: int32 [..., Kw].
        packed_w: int32 [N, Kw].
        k: Number of real bits per row.
        scale: Optional float [N].
        bias: Optional float [N].
        output: "float" or "packed".

    Returns:
        As `keras_binary.kernels.binary_matmul`.
    """
    x = unpack_bits(packed_x, k)
    w = unpack_bits(packed_w, k)
    return output_transform(ops.matmul(x, ops.transpose(w)), scale, bias, output)


def binary_conv2d(packed_x, packed_kernel, geometry: Conv2dGeometry, scale=None, bias=None,
                  output: str = "float"):
    """Binary NHWC conv2d from packed input [B, H, W, Cw] and kernel [Cout, kh, kw, Cw].

    Padded pixels are +1 (``geometry.zero_padding`` False) or 0 (True); patches are gathered
    explicitly so any stride/dilation combination works on every backend.

    Args:
        packed_x: int32 [B, H, W, Cw].
        packed_kernel: int32 [Cout, kh, kw, Cw].
        geometry: The `Conv2dGeometry` (sizes, strides, padding).
        scale: Optional float [Cout].
        bias: Optional float [Cout].
        output: "float" or "packed".

    Returns:
        As `keras_binary.kernels.binary_conv2d`.
    """
    g = geometry
    x = unpack_bits(packed_x, g.channels)
    w = unpack_bits(packed_kernel, g.channels)  # [Cout, kh, kw, C]
    pad_value = 0.0 if g.zero_padding else 1.0
    x = ops.pad(
        x,
        [(0, 0), (g.pad_top, g.pad_bottom), (g.pad_left, g.pad_right), (0, 0)],
        constant_values=pad_value,
    )
    taps = []
    for i in range(g.kernel_h):
        rows = i * g.dilation_h + g.stride_h * np.arange(g.out_h)
        xi = ops.take(x, rows, axis=1)
        for j in range(g.kernel_w):
            cols = j * g.dilation_w + g.stride_w * np.arange(g.out_w)
            taps.append(ops.take(xi, cols, axis=2))
    patches = ops.concatenate(taps, axis=-1)  # [B, Ho, Wo, kh * kw * C]
    w = ops.reshape(w, (w.shape[0], -1))
    return output_transform(ops.matmul(patches, ops.transpose(w)), scale, bias, output)
