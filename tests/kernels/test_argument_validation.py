"""Sizes and options of the kernel ops: bools and non-integers are refused in one line."""

import numpy as np
import pytest

from keras_binary import kernels
from keras_binary.inference import BinaryConv2DInference

PX = np.zeros((2, 1), np.int32)
PW = np.zeros((3, 1), np.int32)


@pytest.mark.parametrize("k", [True, np.bool_(True), 2.0, "3", 0, -1, None])
def test_binary_matmul_refuses_a_k_that_is_not_a_positive_int(k):
    with pytest.raises(ValueError, match=r"^k must be a positive int \(real bits per row\), got"):
        kernels.binary_matmul(PX, PW, k, implementation="reference")


def test_binary_matmul_takes_numpy_integers():
    y = kernels.binary_matmul(PX, PW, np.int64(5), implementation="reference")
    np.testing.assert_array_equal(np.asarray(y), np.full((2, 3), 5.0))


def test_unpack_bits_and_num_threads_refuse_bools():
    with pytest.raises(ValueError, match="does not fit"):
        kernels.unpack_bits(PX, True)
    with pytest.raises(ValueError, match="num_threads must be an int >= 0"):
        kernels.set_num_threads(True)


@pytest.mark.parametrize("argument", [dict(strides=True), dict(dilation_rate=(1, False)),
                                      dict(strides=1.5), dict(channels=True)])
def test_conv_geometry_refuses_bools_and_non_integers(argument):
    with pytest.raises(ValueError, match="must be a positive int"):
        kernels.binary_conv2d(np.zeros((1, 4, 4, 1), np.int32), np.zeros((2, 1, 1, 1), np.int32),
                              **{"channels": 3, **argument}, implementation="reference")


@pytest.mark.parametrize("pad_value", [float("nan"), 1.0, "nan"])
def test_conv_pad_value_must_be_one_or_zero(pad_value):
    x, kernel = np.ones((1, 4, 4, 3), np.float32), np.zeros((2, 3, 3, 1), np.int32)
    with pytest.raises(ValueError, match="pad_value must be 'one' or 'zero'"):
        kernels.binary_conv2d(x, kernel, padding="same", pad_value=pad_value,
                              implementation="reference")
    with pytest.raises(ValueError, match="pad_value must be 'one' or 'zero'"):
        BinaryConv2DInference(2, 3, channels=3, padding="same", pad_value=pad_value)(x)
