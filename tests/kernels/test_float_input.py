"""The float-input ops (packing, NaN rows and a residual in one call) bit-exact against numpy,
on the fused CPU targets (JAX, TensorFlow) and the composed route (PyTorch, the reference)."""

import keras
import numpy as np
import pytest

from keras_binary import kernels
from keras_binary.kernels import float_input
from keras_binary.kernels import ops as packed_ops
from tests.kernels import numpy_reference as npr

BACKEND = keras.backend.backend()
pytestmark = pytest.mark.skipif(BACKEND not in ("jax", "tensorflow", "torch"),
                                reason="no kernel route")
IMPLEMENTATIONS = ["auto", "reference"]

CONV_CASES = [
    # (batch, h, w, cin, kh, kw, cout, strides, dilation, padding, pad_value)
    (1, 5, 5, 1, 1, 1, 1, 1, 1, "valid", "one"),
    (3, 9, 7, 37, 3, 3, 40, 2, 1, "same", "zero"),
    (2, 8, 8, 64, 3, 3, 64, 1, 1, "same", "one"),
    (2, 11, 10, 70, 3, 2, 33, 1, 2, "same", "zero"),
    (4, 6, 6, 32, 1, 1, 96, 2, 1, "valid", "one"),
]


def to_np(x):
    return keras.ops.convert_to_numpy(x)


def test_the_cpu_kernels_take_the_fused_targets():
    """One kernel call on the CPU (every backend); GPUs compose the ops."""
    assert float_input._fused("auto") == (kernels.kernel_info()["platform"] == "cpu")
    assert not float_input._fused("reference")


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("with_residual", [False, True])
def test_conv2d_float_is_exact_with_nan_samples(case, implementation, with_residual):
    b, h, w, cin, kh, kw, cout, strides, dilation, padding, pad_value = case
    rng = np.random.default_rng(h * w + cin + cout)
    x = rng.normal(size=(b, h, w, cin)).astype("float32")
    x[0, 0, 0, 0] = 0.0  # sign(0) = +1, as the kernels pack it
    kernel = npr.random_pm(rng, (kh, kw, cin, cout))
    scale, bias = npr.dyadic(rng, cout, -2, 2), npr.dyadic(rng, cout, -3, 3)
    acc = npr.conv2d(x, kernel, (strides, strides), padding, (dilation, dilation), pad_value)
    want = acc.astype("float32") * scale + bias
    residual = rng.normal(size=want.shape).astype("float32") if with_residual else None
    if residual is not None:
        want = want + residual  # one float add, as the epilogue does
    if b > 1:
        x[-1, h // 2, w // 2, cin // 2] = np.nan
        want[-1] = np.nan
    got = kernels.binary_conv2d_float(
        x, kernels.pack_conv2d_kernel(kernel), strides=strides, padding=padding,
        dilation_rate=dilation, pad_value=pad_value, scale=scale, bias=bias, residual=residual,
        implementation=implementation)
    np.testing.assert_array_equal(to_np(got), want)


@pytest.mark.parametrize("shape, n", [((1, 1), 1), ((5, 70), 33), ((2, 3, 64), 40),
                                      ((67, 300), 129)])
@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("with_residual", [False, True])
def test_matmul_float_is_exact_with_nan_rows(shape, n, implementation, with_residual):
    rng = np.random.default_rng(sum(shape) + n)
    x = rng.normal(size=shape).astype("float32")
    w = npr.random_pm(rng, (n, shape[-1]))
    scale, bias = npr.dyadic(rng, n, -2, 2), npr.dyadic(rng, n, -3, 3)
    want = (npr.signs(x) @ npr.signs(w).T).astype("float32") * scale + bias
    residual = rng.normal(size=want.shape).astype("float32") if with_residual else None
    if residual is not None:
        want = want + residual
    rows = x.reshape(-1, shape[-1])
    for row, column in ((-1, 0), (1, -1)):  # a NaN in a row's first word, and in its last bit
        if len(rows) > 2:
            rows[row, column] = np.nan
            want.reshape(-1, n)[row] = np.nan
    got = kernels.binary_matmul_float(x, npr.pack(w), scale=scale, bias=bias,
                                      residual=residual, implementation=implementation)
    np.testing.assert_array_equal(to_np(got), want)


def test_a_residual_of_another_shape_is_refused():
    x = np.ones((2, 5, 5, 8), "float32")
    kernel = kernels.pack_conv2d_kernel(np.ones((3, 3, 8, 4), "float32"))
    with pytest.raises(ValueError, match=r"residual \(2, 5, 5, 4\) must have the output's shape "
                                         r"\(2, 3, 3, 4\)"):
        kernels.binary_conv2d_float(x, kernel, residual=np.ones((2, 5, 5, 4), "float32"))
    with pytest.raises(ValueError, match="residual"):
        kernels.binary_matmul_float(np.ones((2, 8), "float32"), npr.pack(np.ones((3, 8))),
                                    residual=np.ones((2, 4), "float32"))


def test_the_target_checks_the_residual_itself():
    """Called directly (past the Python checks), the handler names the residual's problem."""
    x = np.ones((2, 6), "float32")
    args = [keras.ops.convert_to_tensor(a) for a in (
        x, npr.pack(np.ones((3, 6))), np.ones(3, "float32"), np.zeros(3, "float32"),
        np.ones((2, 4), "float32"))]
    with pytest.raises(Exception, match=r"residual .2, 4. must have the output.s shape"):
        to_np(packed_ops._call("binary_matmul_float_f32", args, [2, 3], "float32", k=6))
