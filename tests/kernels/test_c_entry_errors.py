"""The plain C entry points (the PyTorch route's, csrc/c_kernels.cc) refuse a bad conv geometry
with a message naming no other op than the one called (both convs share one check)."""

import ctypes

import numpy as np
import pytest

from keras_binary.kernels._library import library_error, load_library

pytestmark = pytest.mark.skipif(library_error() is not None, reason="kernel library unavailable")

_I64 = ctypes.c_int64


def _ptr(array):
    return array.ctypes.data_as(ctypes.c_void_p)


@pytest.mark.parametrize("attrs, message", [
    ((0, 1, 1, 1, 1, 0, 0, 1), b"conv2d: channels, out_channels and kernel sizes must be >= 1"),
    ((3, 0, 1, 1, 1, 0, 0, 1), b"conv2d: strides and dilations must be >= 1"),
    ((3, 1, 1, 1, 0, 0, 0, 1), b"conv2d: strides and dilations must be >= 1"),
])
@pytest.mark.parametrize("entry", ["kb_c_float_conv2d", "kb_c_binary_conv2d_float"])
def test_conv_entry_refuses_a_bad_geometry(entry, attrs, message):
    lib = load_library()
    x = np.zeros((1, 4, 4, 3), "float32")
    out = np.zeros((1, 4, 4, 2), "float32")
    scale, bias = np.ones(2, "float32"), np.zeros(2, "float32")
    c_attrs = (ctypes.c_int64 * len(attrs))(*attrs)
    fn = getattr(lib, entry)
    fn.restype = ctypes.c_char_p
    sizes = [_I64(v) for v in (1, 4, 4)]
    geometry = [_I64(v) for v in (2, 1, 1, 4, 4)]  # out_channels, k_h, k_w, out_h, out_w
    if entry == "kb_c_float_conv2d":
        w = np.zeros((1, 1, 3, 2), "float32")
        args = [_ptr(x), *sizes, _ptr(w), *geometry, c_attrs, _ptr(scale), _ptr(bias), _ptr(out)]
    else:
        w = np.zeros((2, 1, 1, 1), "int32")
        args = [_ptr(x), *sizes, _ptr(w), *geometry, c_attrs, _ptr(scale), _ptr(bias), None,
                _ptr(out)]
    error = fn(*args, ctypes.c_int(1))
    assert error == message
    assert not out.any()  # nothing written
