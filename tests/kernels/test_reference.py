"""The keras.ops float reference against direct numpy definitions."""

import keras
import numpy as np
import pytest

from keras_binary.kernels import Conv2dGeometry, reference
from tests.kernels import numpy_reference as npr


@pytest.mark.parametrize("k", [1, 31, 32, 33, 70])
def test_pack_unpack(k):
    rng = np.random.default_rng(k)
    x = npr.random_pm(rng, (3, 2, k))
    packed = keras.ops.convert_to_numpy(reference.pack_bits(x))
    np.testing.assert_array_equal(packed, npr.pack(x))
    unpacked = keras.ops.convert_to_numpy(reference.unpack_bits(packed, k))
    np.testing.assert_array_equal(unpacked, npr.signs(x))


def test_pack_sets_top_bit():
    x = np.full((1, 32), -1.0, np.float32)
    assert keras.ops.convert_to_numpy(reference.pack_bits(x))[0, 0] == -1  # all 32 bits set


def test_matmul_with_epilogue():
    rng = np.random.default_rng(0)
    x, w = npr.random_pm(rng, (5, 45)), npr.random_pm(rng, (7, 45))
    scale, bias = npr.dyadic(rng, 7, -2, 2), npr.dyadic(rng, 7, -4, 4)
    got = reference.binary_matmul(npr.pack(x), npr.pack(w), 45, scale, bias)
    want = (npr.signs(x) @ npr.signs(w).T) * scale + bias
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(got), want)
    packed = reference.binary_matmul(npr.pack(x), npr.pack(w), 45, scale, bias, output="packed")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(packed), npr.pack(want))


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("pad_value", ["one", "zero"])
def test_conv2d(padding, pad_value):
    rng = np.random.default_rng(1)
    x, kernel = npr.random_pm(rng, (2, 7, 6, 5)), npr.random_pm(rng, (3, 2, 5, 4))
    g = Conv2dGeometry.create((7, 6), (3, 2), 5, (2, 1), padding, (1, 2), pad_value)
    packed_kernel = npr.pack(np.transpose(kernel, (3, 0, 1, 2)))
    got = reference.binary_conv2d(npr.pack(x), packed_kernel, g)
    want = npr.conv2d(x, kernel, (2, 1), padding, (1, 2), pad_value)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(got), want)


def test_zero_padding_matches_keras_conv():
    rng = np.random.default_rng(2)
    x, kernel = npr.random_pm(rng, (1, 5, 5, 3)), npr.random_pm(rng, (3, 3, 3, 2))
    g = Conv2dGeometry.create((5, 5), (3, 3), 3, 1, "same", 1, "zero")
    got = reference.binary_conv2d(npr.pack(x), npr.pack(np.transpose(kernel, (3, 0, 1, 2))), g)
    want = keras.ops.conv(npr.signs(x).astype("float32"), npr.signs(kernel).astype("float32"),
                          padding="same")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(got), keras.ops.convert_to_numpy(want))


def test_geometry_same_padding_split():
    g = Conv2dGeometry.create((32, 32), (3, 3), 64, strides=2, padding="same")
    assert (g.out_h, g.out_w, g.pad_top, g.pad_bottom) == (16, 16, 0, 1)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"padding": "full"}, "padding"),
        ({"pad_value": "two"}, "pad_value"),
        ({"strides": 0}, "strides"),
        ({"dilation_rate": (1, 2, 3)}, "dilation_rate"),
    ],
)
def test_geometry_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Conv2dGeometry.create((8, 8), (3, 3), 4, **kwargs)


def test_geometry_rejects_kernel_larger_than_input():
    with pytest.raises(ValueError, match="smaller than the dilated kernel"):
        Conv2dGeometry.create((2, 8), (3, 3), 4)
