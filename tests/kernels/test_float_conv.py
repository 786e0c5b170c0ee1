"""The float conv kernel (`kernels.float_conv2d`) against the framework's conv and the affine,
on every ISA: the two sum the same float32 products in their own orders, so they must agree
within the float32 summation error bound, and NaN must reach exactly the outputs it covers."""

import keras
import numpy as np
import pytest

from keras_binary import kernels
from keras_binary.kernels.testing import cpu_supports, forced_isa

BACKEND = keras.backend.backend()
needs_kernels = pytest.mark.skipif(not kernels.kernel_available(),
                                   reason="no CPU kernel route here")

CASES = [
    # (batch, h, w, cin, kernel, cout, strides, dilation, padding)
    (2, 23, 23, 3, (7, 7), 64, 2, 1, "same"),   # a stem
    (3, 13, 11, 5, (3, 3), 37, 1, 2, "same"),   # dilation, channels not a multiple of 16
    (1, 9, 10, 20, (2, 3), 100, (2, 1), 1, "valid"),
    (2, 6, 7, 8, (1, 1), 130, 1, 1, "valid"),    # 1x1, three channel blocks
    (1, 1, 1, 1, (1, 1), 1, 1, 1, "same"),
]


def to_np(x):
    return keras.ops.convert_to_numpy(x)


def error_bound(x, w, strides, dilation, padding, scale, bias):
    """|kernel - reference| <= 2 * gamma_{K+2} * (conv(|x|, |w|) * |scale| + |bias|): each
    float32 sum of K products (then the affine) is within gamma of the exact value."""
    magnitude = to_np(kernels.float_conv2d(np.abs(x), np.abs(w), strides, padding, dilation,
                                           np.abs(scale), np.abs(bias),
                                           implementation="reference")).astype(np.float64)
    k = w.shape[0] * w.shape[1] * w.shape[2] + 2
    gamma = k * 2.0**-24 / (1 - k * 2.0**-24)
    return 2 * gamma * magnitude


def check_case(case, seed):
    b, h, w_, cin, ksize, cout, strides, dilation, padding = case
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(b, h, w_, cin)).astype("float32")
    w = rng.normal(size=(*ksize, cin, cout)).astype("float32")
    scale = rng.normal(size=cout).astype("float32")
    bias = rng.normal(size=cout).astype("float32")
    got = to_np(kernels.float_conv2d(x, w, strides, padding, dilation, scale, bias,
                                     implementation="kernel"))
    want = to_np(kernels.float_conv2d(x, w, strides, padding, dilation, scale, bias,
                                      implementation="reference"))
    assert got.shape == want.shape
    bound = error_bound(x, w, strides, dilation, padding, scale, bias)
    assert np.all(np.abs(got.astype(np.float64) - want) <= bound)


@needs_kernels
@pytest.mark.parametrize("isa", ["portable", "avx2", "avx512", "amx"])
def test_float_conv_matches_the_framework_conv_on_every_isa(isa):
    if not cpu_supports(isa):
        pytest.skip(f"CPU lacks {isa}")
    with forced_isa(isa):
        for seed, case in enumerate(CASES):
            check_case(case, seed)


@needs_kernels
def test_float_conv_on_random_shapes():
    rng = np.random.default_rng(7)
    for seed in range(12):
        kh, kw = rng.integers(1, 6, size=2)
        sh, sw, dh, dw = rng.integers(1, 4, size=4)
        if seed % 3:  # TensorFlow's conv (the reference) takes strides or dilation, not both
            dh = dw = 1
        else:
            sh = sw = 1
        padding = ["valid", "same"][seed % 2]
        h = int(rng.integers((kh - 1) * dh + 1, 20))
        w = int(rng.integers((kw - 1) * dw + 1, 20))
        case = (int(rng.integers(1, 4)), h, w, int(rng.integers(1, 40)), (int(kh), int(kw)),
                int(rng.integers(1, 90)), (int(sh), int(sw)), (int(dh), int(dw)), padding)
        check_case(case, seed)


@needs_kernels
def test_float_conv_sends_nan_to_exactly_the_outputs_it_covers():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 12, 12, 3)).astype("float32")
    x[0, 5, 6, 1] = np.nan
    x[1, 0, 0, 2] = np.inf
    w = rng.normal(size=(3, 3, 3, 20)).astype("float32")
    got = to_np(kernels.float_conv2d(x, w, 2, "same", implementation="kernel"))
    want = to_np(kernels.float_conv2d(x, w, 2, "same", implementation="reference"))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    assert np.isnan(got[0]).any() and not np.isnan(got[0, 0, 0]).any()


@pytest.mark.parametrize("args, message", [
    (((1, 4, 4), (3, 3, 3, 2)), "rank 4"),
    (((1, 4, 4, 3), (3, 3, 2, 2)), "reads 2 channels, the input has 3"),
    (((1, 2, 2, 3), (3, 3, 3, 2)), "smaller than the dilated kernel"),
])
def test_float_conv_names_bad_arguments(args, message):
    x_shape, w_shape = args
    with pytest.raises(ValueError, match=message):
        kernels.float_conv2d(np.ones(x_shape, "float32"), np.ones(w_shape, "float32"))
    with pytest.raises(ValueError, match="one value per output"):
        kernels.float_conv2d(np.ones((1, 4, 4, 3), "float32"), np.ones((3, 3, 3, 2), "float32"),
                             scale=np.ones(3, "float32"))
    with pytest.raises(TypeError, match="float32"):
        kernels.float_conv2d(np.ones((1, 4, 4, 3), "int32"), np.ones((3, 3, 3, 2), "float32"))


@pytest.mark.skipif(BACKEND != "torch", reason="PyTorch only")
@needs_kernels
def test_float_conv_compiles_into_one_torch_graph():
    import torch

    torch.compiler.reset()
    rng = np.random.default_rng(5)
    x = torch.tensor(rng.normal(size=(2, 9, 9, 3)).astype("float32"))
    w = torch.tensor(rng.normal(size=(3, 3, 3, 8)).astype("float32"))
    eager = to_np(kernels.float_conv2d(x, w, 2, "same"))
    # fullgraph: a graph break (an op torch.compile cannot trace) fails the test.
    f = torch.compile(lambda x: kernels.float_conv2d(x, w, 2, "same"), fullgraph=True,
                      backend="aot_eager")
    np.testing.assert_array_equal(to_np(f(x)), eager)
