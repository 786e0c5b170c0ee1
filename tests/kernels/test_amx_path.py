"""The GEMM driver's AMX paths: bits expanded to 0/1 bytes, products on the tile unit.

Runs only where the CPU and kernel allow AMX (ISA "amx"). Two paths: weights expanded by each
thread once per call (csrc/gemm_amx.cc) and, from 1024 channels, weights streamed
(csrc/gemm_amx_stream.cc). Shapes cross their blocking: work items of 32 / 128 rows (partial
last blocks, rows read in place and copied), 32-channel kernel calls (partial last tiles, a
16-channel half beyond n), K swept in chunks of up to 9 / 8 64-bit words (a partial last chunk,
odd 32-bit word counts), weights split into chunks that fit L2, and conv zero-padding
corrections; outputs must equal the float reference exactly (which also checks the row and
channel popcounts that turn the 0/1 products back into XOR counts).
"""

import keras
import numpy as np
import pytest

from keras_binary import kernels
from keras_binary.kernels.testing import cpu_supports, force_isa, gemm_path, gemm_path_limit
from tests.kernels import numpy_reference as npr
from tests.kernels.test_gemm_blocking import check_matmul

BACKEND = keras.backend.backend()
pytestmark = pytest.mark.skipif(
    BACKEND not in ("jax", "tensorflow", "torch") or kernels.kernel_info()["platform"] != "cpu",
    reason="needs the CPU kernel route (its ISA paths)",
)
MIN_ROWS, MIN_CHANNELS = gemm_path_limit("amx_min_rows"), gemm_path_limit("amx_min_channels")
STREAM_ROWS = gemm_path_limit("amx_stream_min_rows")
STREAM_CHANNELS = gemm_path_limit("amx_stream_min_channels")
STREAM_OUTPUTS = gemm_path_limit("amx_stream_min_outputs")
MAX_K_BITS = gemm_path_limit("amx_max_k_bits")


@pytest.fixture
def amx():
    if not cpu_supports("amx"):
        pytest.skip("CPU (or OS) does not allow AMX int8")
    default = kernels.kernel_info()["isa"]
    force_isa("amx")
    yield
    force_isa(default)


def test_amx_path_only_for_large_products(amx):
    assert gemm_path(MIN_ROWS, MIN_CHANNELS, 576) == "amx"
    assert gemm_path(MIN_ROWS - 1, 512, 576) != "amx"
    assert gemm_path(3136, MIN_CHANNELS - 1, 576) != "amx"
    assert gemm_path(MIN_ROWS, STREAM_CHANNELS - 1, 576) == "amx"
    force_isa("avx512")
    assert gemm_path(MIN_ROWS, MIN_CHANNELS, 576) != "amx"


def test_amx_paths_only_up_to_their_k_limit(amx):
    # Their byte-expanded buffers grow with K.
    assert gemm_path(512, 256, MAX_K_BITS) == "amx"
    assert gemm_path(512, 256, MAX_K_BITS + 1) == "panels"
    assert gemm_path(256, STREAM_CHANNELS, MAX_K_BITS) == "amx_stream"
    assert not gemm_path(256, STREAM_CHANNELS, MAX_K_BITS + 1).startswith("amx")


def test_amx_stream_path_for_many_channels(amx):
    assert gemm_path(STREAM_ROWS, STREAM_OUTPUTS // STREAM_ROWS, 576) == "amx_stream"
    assert gemm_path(STREAM_OUTPUTS // STREAM_CHANNELS, STREAM_CHANNELS, 576) == "amx_stream"
    assert gemm_path(512, 4096, 4096) == "amx_stream"
    assert not gemm_path(STREAM_ROWS - 1, 4096, 576).startswith("amx")
    assert not gemm_path(STREAM_ROWS, STREAM_OUTPUTS // STREAM_ROWS - 1, 576).startswith("amx")
    assert gemm_path(MIN_ROWS, STREAM_CHANNELS - 1, 576) == "amx"
    # 95 rows x 1024 channels: enough of each, too few outputs.
    assert gemm_path(STREAM_OUTPUTS // STREAM_CHANNELS - 1, STREAM_CHANNELS, 576) != "amx_stream"
    assert gemm_path(MIN_ROWS - 1, STREAM_CHANNELS, 576) == "amx_stream"
    assert gemm_path(64, 4096, 4096) == "amx_stream"  # bench_kernels.py's dense shape
    force_isa("avx512")
    assert not gemm_path(512, 4096, 4096).startswith("amx")


@pytest.mark.parametrize("m, k, n", [
    (600, 2100, 300),   # rows copied (K not a multiple of 64), 10 channel pairs: K chunks
                        # of 17 and 16 words
    (400, 2100, 200),   # 7 channel pairs: K chunks of 9, 9, 9 and 6 words
    (577, 2048, 270),   # rows read in place, one row in the last block
    (520, 990, 260),    # 31 words per row: the last 64-bit word has a zero high half
    (640, 4100, 1000),  # expanded weights 4.2 MB: three weight chunks
    (260, 700, 130),    # 130 channels: two in the last 32-channel call
    (300, 4100, 520),   # expanded weights 2.2 MB: two chunks
])
def test_amx_matmul(amx, m, k, n):
    assert gemm_path(m, n, k) == "amx"
    check_matmul(m, k, n)


def test_amx_matmul_expands_each_calls_weights(amx):
    # The threads keep their expanded weights between calls; a call with other weights of the
    # same shape must not reuse them.
    rng = np.random.default_rng(11)
    x = npr.random_pm(rng, (300, 700))
    assert gemm_path(300, 260, 700) == "amx"
    for _ in range(3):
        w = npr.random_pm(rng, (260, 700))
        got = kernels.binary_matmul(npr.pack(x), npr.pack(w), 700, implementation="kernel")
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(got),
                                      npr.signs(x) @ npr.signs(w).T)


@pytest.mark.parametrize("m, n, path", [(530, 270, "amx"), (260, 1030, "amx_stream")])
def test_amx_matmul_ignores_garbage_padding_bits(amx, m, n, path):
    rng = np.random.default_rng(5)
    x, w = npr.random_pm(rng, (m, 40)), npr.random_pm(rng, (n, 40))
    px, pw = npr.pack(x), npr.pack(w)
    px[:, 1] |= np.int32(-256)  # bits 8..31 of the last word
    pw[:, 1] |= np.int32(1 << 20)
    assert gemm_path(m, n, 40) == path
    got = kernels.binary_matmul(px, pw, 40, implementation="kernel")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(got), npr.signs(x) @ npr.signs(w).T)


@pytest.mark.parametrize("strides, dilation, padding, pad_value", [
    ((1, 1), (1, 1), "same", "zero"),
    ((2, 1), (1, 2), "same", "one"),
    ((1, 1), (2, 2), "valid", "zero"),
])
def test_amx_conv(amx, strides, dilation, padding, pad_value):
    # 70 channels: three words per tap with padding bits, which are set in the packed kernel.
    rng = np.random.default_rng(strides[0] * 10 + dilation[1])
    x, kernel = npr.random_pm(rng, (2, 27, 25, 70)), npr.random_pm(rng, (3, 3, 70, 270))
    scale, bias = npr.dyadic(rng, 270, -2, 2), npr.dyadic(rng, 270, -3, 3)
    want = npr.conv2d(x, kernel, strides, padding, dilation, pad_value) * scale + bias
    assert gemm_path(want.shape[0] * want.shape[1] * want.shape[2], 270, 70, segments=9) == "amx"
    packed = np.array(kernels.pack_conv2d_kernel(kernel))
    packed[..., -1] |= np.int32(1 << 30)  # beyond the last channel of every tap
    for output in ("float", "packed"):
        got = kernels.binary_conv2d(x, packed, strides=strides, dilation_rate=dilation,
                                    padding=padding, pad_value=pad_value, scale=scale, bias=bias,
                                    output=output, implementation="kernel")
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(got),
                                      want if output == "float" else npr.pack(want))


@pytest.mark.parametrize("m, k, n", [
    (128, 4096, 2048),  # rows read in place, one row block, 8 weight chunks of 8 words
    (300, 2100, 1100),  # rows copied, 128 + 128 + 44 rows, 33 words as 7 x 4 + 5, a half
                        # channel tile beyond n
    (260, 990, 1030),   # 31 32-bit words per row: the last 64-bit word has a zero high half
    (700, 1000, 2000),  # many rows: 6 blocks of 128 rows, the last of 60
    (50, 1100, 2100),   # few rows: one block of 64 rows, 14 of them padding
])
def test_amx_stream_matmul(amx, m, k, n):
    assert gemm_path(m, n, k) == "amx_stream"
    check_matmul(m, k, n)


@pytest.mark.parametrize("strides, padding, pad_value", [
    ((1, 1), "same", "zero"),
    ((2, 1), "same", "one"),
    ((1, 1), "valid", "zero"),
])
def test_amx_stream_conv(amx, strides, padding, pad_value):
    rng = np.random.default_rng(strides[0] * 10 + len(padding))
    x, kernel = npr.random_pm(rng, (1, 17, 31, 70)), npr.random_pm(rng, (3, 3, 70, 1030))
    scale, bias = npr.dyadic(rng, 1030, -2, 2), npr.dyadic(rng, 1030, -3, 3)
    want = npr.conv2d(x, kernel, strides, padding, (1, 1), pad_value) * scale + bias
    assert gemm_path(want.shape[1] * want.shape[2], 1030, 70, segments=9) == "amx_stream"
    packed = np.array(kernels.pack_conv2d_kernel(kernel))
    packed[..., -1] |= np.int32(1 << 30)  # beyond the last channel of every tap
    for output in ("float", "packed"):
        got = kernels.binary_conv2d(x, packed, strides=strides, padding=padding,
                                    pad_value=pad_value, scale=scale, bias=bias, output=output,
                                    implementation="kernel")
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(got),
                                      want if output == "float" else npr.pack(want))
