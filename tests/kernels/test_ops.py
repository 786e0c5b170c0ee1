"""Compiled kernels (current ISA and backend) bit-exact against numpy, eager and compiled."""

import keras
import numpy as np
import pytest

from keras_binary import kernels
from tests.kernels import checks
from tests.kernels import numpy_reference as npr

BACKEND = keras.backend.backend()
pytestmark = pytest.mark.skipif(BACKEND not in ("jax", "tensorflow", "torch"),
                                reason="no kernel route")


def to_np(x):
    return keras.ops.convert_to_numpy(x)


def test_library_loads():
    info = kernels.kernel_info()
    assert info["available"], info["error"]
    assert info["ffi_api"] == "0.2"
    if info["platform"] == "gpu":
        assert info["gemm"] in ("auto", "mma", "simt")
    else:
        assert info["isa"] in ("portable", "avx2", "avx512", "amx")


# The last two are large enough to be packed in several chunks on several threads.
@pytest.mark.parametrize("shape", [(1, 1), (3, 31), (2, 3, 32), (5, 33), (4, 130), (300, 1000),
                                   (7, 130, 97)])
@pytest.mark.parametrize("threads", [1, 2])
def test_pack_bits(shape, threads):
    x = npr.random_pm(np.random.default_rng(sum(shape)), shape)
    kernels.set_num_threads(threads)
    try:
        got = to_np(kernels.pack_bits(x, implementation="kernel"))
    finally:
        kernels.set_num_threads(0)
    np.testing.assert_array_equal(got, npr.pack(x))


@pytest.mark.parametrize("m, k, n", [(1, 1, 1), (5, 70, 40), (9, 64, 33), (67, 100, 65),
                                     (3, 300, 129)])
def test_matmul_float_and_packed(m, k, n):
    checks.check_matmul(m, k, n)


def test_matmul_leading_dims():
    rng = np.random.default_rng(4)
    x, w = npr.random_pm(rng, (2, 3, 50)), npr.random_pm(rng, (7, 50))
    got = kernels.binary_matmul(npr.pack(x), npr.pack(w), 50, implementation="kernel")
    np.testing.assert_array_equal(to_np(got), npr.signs(x) @ npr.signs(w).T)


CONV_CASES = [
    # (batch, h, w, cin, kh, kw, cout, strides, dilation)
    (1, 5, 5, 1, 1, 1, 1, (1, 1), (1, 1)),
    (2, 7, 6, 45, 3, 3, 37, (1, 1), (1, 1)),
    (1, 9, 7, 33, 3, 2, 5, (2, 1), (1, 2)),
    (2, 6, 9, 64, 2, 3, 70, (2, 3), (2, 1)),
]


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("pad_value", ["one", "zero"])
def test_conv2d(case, padding, pad_value):
    checks.check_conv2d(case, padding, pad_value)


@pytest.mark.parametrize("pad_value", ["one", "zero"])
def test_conv2d_kernel_wider_than_input(pad_value):
    # The dilated kernel (9 x 5) covers more than the 3 x 2 input, so taps fall outside on both
    # sides of every output pixel, in a different combination for each.
    checks.check_conv2d((2, 3, 2, 40, 5, 3, 9, (1, 1), (2, 2)), "same", pad_value)


def test_packed_chaining_between_layers():
    rng = np.random.default_rng(5)
    x, w1, w2 = (npr.random_pm(rng, s) for s in [(6, 50), (40, 50), (3, 40)])
    h = kernels.binary_matmul(npr.pack(x), npr.pack(w1), 50, output="packed",
                              implementation="kernel")
    y = kernels.binary_matmul(h, npr.pack(w2), 40, implementation="kernel")
    hidden = npr.signs(npr.signs(x) @ npr.signs(w1).T)
    np.testing.assert_array_equal(to_np(y), hidden @ npr.signs(w2).T)


def test_auto_matches_reference():
    rng = np.random.default_rng(6)
    x, kernel = npr.random_pm(rng, (1, 6, 6, 20)), npr.random_pm(rng, (3, 3, 20, 8))
    pk = kernels.pack_conv2d_kernel(kernel)
    a = kernels.binary_conv2d(x, pk, padding="same", pad_value="zero")
    r = kernels.binary_conv2d(x, pk, padding="same", pad_value="zero", implementation="reference")
    np.testing.assert_array_equal(to_np(a), to_np(r))
