"""Independent numpy definitions of the binary kernels (direct loops, no keras)."""

import numpy as np

from keras_binary.kernels import packed_words


def signs(x):
    """sign with sign(0) = +1, as float64."""
    return np.where(np.asarray(x) < 0, -1.0, 1.0)


def pack(x):
    """Bit i of word j = x[..., 32 * j + i] < 0, as int32 words."""
    x = np.asarray(x)
    k = x.shape[-1]
    words = packed_words(k)
    out = np.zeros(x.shape[:-1] + (words,), np.uint64)
    for i in range(k):
        out[..., i // 32] |= (x[..., i] < 0).astype(np.uint64) << np.uint64(i % 32)
    return out.astype(np.uint32).view(np.int32)


def conv2d(x, kernel, strides, padding, dilation, pad_value):
    """Direct NHWC conv of sign(x) with sign(kernel) [kh, kw, C, O]; pads are +1 or 0."""
    sx, sk = signs(x), signs(kernel)
    b, h, w, _ = x.shape
    kh, kw, _, o = kernel.shape
    (sh, sw), (dh, dw) = strides, dilation
    if padding == "valid":
        oh, ow = (h - (kh - 1) * dh - 1) // sh + 1, (w - (kw - 1) * dw - 1) // sw + 1
        top = left = 0
    else:
        oh, ow = -(-h // sh), -(-w // sw)
        top = max((oh - 1) * sh + (kh - 1) * dh + 1 - h, 0) // 2
        left = max((ow - 1) * sw + (kw - 1) * dw + 1 - w, 0) // 2
    fill = 1.0 if pad_value == "one" else 0.0
    out = np.zeros((b, oh, ow, o))
    for y in range(oh):
        for z in range(ow):
            for i in range(kh):
                for j in range(kw):
                    iy, ix = y * sh - top + i * dh, z * sw - left + j * dw
                    if 0 <= iy < h and 0 <= ix < w:
                        v = sx[:, iy, ix, :]
                    else:
                        v = np.full((b, sx.shape[-1]), fill)
                    out[:, y, z, :] += v @ sk[i, j]
    return out


def random_pm(rng, shape, zeros=True):
    """Random floats with some exact zeros (sign(0) = +1 must hold)."""
    x = rng.standard_normal(shape).astype(np.float32)
    if zeros:
        x[rng.random(shape) < 0.05] = 0.0
    return x


def dyadic(rng, n, low, high):
    """Random multiples of 1/8: affine epilogues stay exact in float32."""
    return (rng.integers(low * 8, high * 8, size=n) / 8).astype(np.float32)
