"""Kernel checks shared by the CPU and GPU tests: one GEMM or conv2d case, every output form,
bit-exact against the numpy definitions."""

import keras
import numpy as np

from keras_binary import kernels
from tests.kernels import numpy_reference as npr


def to_np(x):
    return keras.ops.convert_to_numpy(x)


def check_matmul(m: int, k: int, n: int) -> None:
    """sign(x) @ sign(w).T plain, with a dyadic affine epilogue, and packed."""
    rng = np.random.default_rng(m * k + n)
    x, w = npr.random_pm(rng, (m, k)), npr.random_pm(rng, (n, k))
    scale, bias = npr.dyadic(rng, n, -2, 2), npr.dyadic(rng, n, -3, 3)
    px, pw = npr.pack(x), npr.pack(w)
    acc = npr.signs(x) @ npr.signs(w).T
    got = kernels.binary_matmul(px, pw, k, implementation="kernel")
    np.testing.assert_array_equal(to_np(got), acc)
    got = kernels.binary_matmul(px, pw, k, scale, bias, implementation="kernel")
    np.testing.assert_array_equal(to_np(got), acc * scale + bias)
    got = kernels.binary_matmul(px, pw, k, scale, bias, output="packed", implementation="kernel")
    np.testing.assert_array_equal(to_np(got), npr.pack(acc * scale + bias))


def check_conv2d(case: tuple, padding: str, pad_value: str) -> None:
    """case = (batch, h, w, cin, kh, kw, cout, strides, dilation): float input with a float
    output, and packed input with a packed output."""
    b, h, w, cin, kh, kw, cout, strides, dilation = case
    rng = np.random.default_rng(h * w + cin)
    x, kernel = npr.random_pm(rng, (b, h, w, cin)), npr.random_pm(rng, (kh, kw, cin, cout))
    scale, bias = npr.dyadic(rng, cout, -2, 2), npr.dyadic(rng, cout, -3, 3)
    pk = kernels.pack_conv2d_kernel(kernel)
    want = npr.conv2d(x, kernel, strides, padding, dilation, pad_value) * scale + bias
    args = dict(strides=strides, padding=padding, dilation_rate=dilation, pad_value=pad_value,
                scale=scale, bias=bias, implementation="kernel")
    np.testing.assert_array_equal(to_np(kernels.binary_conv2d(x, pk, **args)), want)
    packed = kernels.binary_conv2d(npr.pack(x), pk, channels=cin, output="packed", **args)
    np.testing.assert_array_equal(to_np(packed), npr.pack(want))
