"""Every ISA path on shapes that cross the GEMM driver's blocking and the kernels' inner limits.

Covers several row blocks and tile chunks, A rows read in place (K a multiple of 64, with a
tail of fewer than 4 rows) and copied, full and partial 32-column tiles through the
vectorized output transforms (with and without conv zero-padding corrections), and K above
31 * 64 bits, where the AVX2 kernel widens its 8-bit per-byte counters. Products of up to
FEW_ROWS rows take the driver's few-rows path (B read in its packed row layout, 512-bit steps
with a masked tail); the shapes below cross that limit too. Products of fewer rows than
columns (K a multiple of 64) take the swapped path: A's rows in panels, B's rows broadcast in
place, counts stored transposed; its tests check that the driver chooses it for their shapes.
"""

import keras
import numpy as np
import pytest

from keras_binary import kernels
from keras_binary.kernels.testing import cpu_supports, force_isa, gemm_path, gemm_path_limit
from tests.kernels import numpy_reference as npr

BACKEND = keras.backend.backend()
pytestmark = pytest.mark.skipif(
    BACKEND not in ("jax", "tensorflow", "torch") or kernels.kernel_info()["platform"] != "cpu",
    reason="needs the CPU kernel route (its ISA paths)",
)
ISAS = ["portable", "avx2", "avx512", "amx"]
FEW_ROWS = gemm_path_limit("few_rows")


@pytest.fixture(params=ISAS)
def isa(request):
    if not cpu_supports(request.param):
        pytest.skip(f"CPU lacks {request.param}")
    default = kernels.kernel_info()["isa"]
    force_isa(request.param)
    yield request.param
    force_isa(default)


@pytest.mark.parametrize("m, k, n", [(130, 2100, 70), (130, 2048, 70), (9, 70, 300),
                                     (1, 4000, 64), (FEW_ROWS, 545, 70), (3, 512, 33),
                                     (FEW_ROWS + 1, 545, 70), (2, 31, 5)])
def test_matmul_blocks(isa, m, k, n):
    check_matmul(m, k, n)


# Rows and columns not multiples of the tile (32 A rows per panel tile on this path, 4 B rows
# per broadcast group), and several row tiles and column blocks.
@pytest.mark.parametrize("m, k, n", [(30, 2048, 1001), (63, 4096, 515)])
def test_matmul_swapped_roles(isa, m, k, n):
    assert gemm_path(m, n, k) == "swapped"
    check_matmul(m, k, n)


def test_conv_swapped_roles_with_corrections(isa):
    # 30 output pixels against 500 channels; every border pixel has a zero-padding correction.
    assert gemm_path(30, 500, 128, segments=9) == "swapped"
    rng = np.random.default_rng(30)
    x, kernel = npr.random_pm(rng, (1, 5, 6, 128)), npr.random_pm(rng, (3, 3, 128, 500))
    scale, bias = npr.dyadic(rng, 500, -2, 2), npr.dyadic(rng, 500, -3, 3)
    want = npr.conv2d(x, kernel, (1, 1), "same", (1, 1), "zero") * scale + bias
    packed_kernel = kernels.pack_conv2d_kernel(kernel)
    for output in ("float", "packed"):
        got = kernels.binary_conv2d(x, packed_kernel, padding="same", pad_value="zero",
                                    scale=scale, bias=bias, output=output,
                                    implementation="kernel")
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(got),
                                      want if output == "float" else npr.pack(want))


def check_matmul(m, k, n):
    rng = np.random.default_rng(m + k + n)
    x, w = npr.random_pm(rng, (m, k)), npr.random_pm(rng, (n, k))
    scale, bias = npr.dyadic(rng, n, -2, 2), npr.dyadic(rng, n, -3, 3)
    want = (npr.signs(x) @ npr.signs(w).T) * scale + bias
    px, pw = npr.pack(x), npr.pack(w)
    got = kernels.binary_matmul(px, pw, k, scale, bias, implementation="kernel")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(got), want)
    got = kernels.binary_matmul(px, pw, k, scale, bias, output="packed", implementation="kernel")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(got), npr.pack(want))


def test_conv_zero_padding_full_tiles(isa):
    rng = np.random.default_rng(7)
    x, kernel = npr.random_pm(rng, (2, 6, 5, 35)), npr.random_pm(rng, (3, 3, 35, 40))
    scale, bias = npr.dyadic(rng, 40, -2, 2), npr.dyadic(rng, 40, -3, 3)
    want = npr.conv2d(x, kernel, (1, 1), "same", (1, 1), "zero") * scale + bias
    got = kernels.binary_conv2d(x, kernels.pack_conv2d_kernel(kernel), padding="same",
                                pad_value="zero", scale=scale, bias=bias, implementation="kernel")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(got), want)


@pytest.mark.parametrize("channels", [512, 600])
def test_conv_zero_padding_wide_taps(isa, channels):
    # The corrections' per-tap weight sums over 16 words (one 512-bit step) and over 19 with a
    # partial last word (600 channels): a masked tail step, and set padding bits ignored.
    rng = np.random.default_rng(channels)
    x, kernel = npr.random_pm(rng, (1, 4, 5, channels)), npr.random_pm(rng, (3, 3, channels, 40))
    scale, bias = npr.dyadic(rng, 40, -2, 2), npr.dyadic(rng, 40, -3, 3)
    want = npr.conv2d(x, kernel, (1, 1), "same", (1, 1), "zero") * scale + bias
    packed = np.array(kernels.pack_conv2d_kernel(kernel))
    if channels % 32:
        packed[..., -1] |= np.int32(1 << 30)  # beyond the last channel of every tap
    got = kernels.binary_conv2d(x, packed, padding="same",
                                pad_value="zero", scale=scale, bias=bias, implementation="kernel")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(got), want)


@pytest.mark.parametrize("batch, h, w", [(1, 2, 3), (2, 2, 2), (1, 3, 3)])
def test_conv_zero_padding_few_rows(isa, batch, h, w):
    # batch * h * w output rows around FEW_ROWS, every row with padded taps: corrections on
    # both GEMM paths.
    rng = np.random.default_rng(batch * 100 + h * 10 + w)
    x, kernel = npr.random_pm(rng, (batch, h, w, 35)), npr.random_pm(rng, (3, 3, 35, 40))
    scale, bias = npr.dyadic(rng, 40, -2, 2), npr.dyadic(rng, 40, -3, 3)
    want = npr.conv2d(x, kernel, (1, 1), "same", (1, 1), "zero") * scale + bias
    got = kernels.binary_conv2d(x, kernels.pack_conv2d_kernel(kernel), padding="same",
                                pad_value="zero", scale=scale, bias=bias, implementation="kernel")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(got), want)


@pytest.mark.parametrize("m", [4, 40])
def test_matmul_ignores_garbage_padding_bits(isa, m):
    # Set bits beyond k in both operands' last words, on the few-rows path (m = 4) and the
    # panel path (m = 40).
    rng = np.random.default_rng(m)
    x, w = npr.random_pm(rng, (m, 40)), npr.random_pm(rng, (45, 40))
    px, pw = npr.pack(x), npr.pack(w)
    px[:, 1] |= np.int32(-256)  # bits 8..31 of the last word
    pw[:, 1] |= np.int32(1 << 20)
    got = kernels.binary_matmul(px, pw, 40, implementation="kernel")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(got), npr.signs(x) @ npr.signs(w).T)


def test_matmul_all_bits_differ(isa):
    # Every bit of x differs from w's (and agrees with -w's): counters reach their maximum.
    k = 4000
    x = -np.ones((5, k), np.float32)
    w = np.ones((33, k), np.float32)
    w[::2] = -1.0
    want = npr.signs(x) @ npr.signs(w).T
    got = kernels.binary_matmul(npr.pack(x), npr.pack(w), k, implementation="kernel")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(got), want)
