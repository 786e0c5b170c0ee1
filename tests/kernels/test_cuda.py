"""CUDA kernels (JAX on an NVIDIA GPU) bit-exact against numpy on every GPU GEMM path: the 1-bit
tensor-core MMA ("mma", "mma_deep"), the same tiles on the CUDA cores ("popc") and one lane
per output ("simt"). Skipped without a GPU; the library checks at the end also run on CPU
machines where the CUDA library was built."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_binary import kernels
from keras_binary.kernels import testing
from tests.kernels import checks
from tests.kernels import numpy_reference as npr


def _jax_on_gpu() -> bool:
    if keras.backend.backend() != "jax":
        return False
    import jax

    return jax.default_backend() == "gpu"


on_gpu = pytest.mark.skipif(not _jax_on_gpu(), reason="needs the JAX backend on a CUDA GPU")
cuda_built = pytest.mark.skipif(testing.cuda_library_error() is not None,
                                reason="CUDA kernel library not built (no nvcc)")


@pytest.fixture(params=["mma", "mma_deep", "popc", "simt"])
def gemm_path(request):
    before = testing.cuda_gemm_path()
    testing.force_cuda_gemm(request.param)
    yield request.param
    testing.force_cuda_gemm(before)


def to_np(x):
    return keras.ops.convert_to_numpy(x)


@pytest.mark.gpu
@on_gpu
def test_kernels_run_on_the_gpu():
    info = kernels.kernel_info()
    assert info["platform"] == "gpu" and info["available"], info
    y = kernels.binary_matmul(np.zeros((2, 1), np.int32), np.zeros((3, 1), np.int32), 5,
                              implementation="kernel")
    assert {d.platform for d in y.devices()} == {"gpu"}
    np.testing.assert_array_equal(to_np(y), np.full((2, 3), 5.0))


@pytest.mark.gpu
@on_gpu
@pytest.mark.parametrize("shape", [(1, 1), (3, 31), (2, 3, 32), (5, 33), (257, 1000)])
def test_pack_bits(shape):
    x = npr.random_pm(np.random.default_rng(sum(shape)), shape)
    np.testing.assert_array_equal(to_np(kernels.pack_bits(x, implementation="kernel")),
                                  npr.pack(x))


MATMUL_SHAPES = [(1, 1, 1), (1, 4096, 1000), (5, 70, 40), (63, 257, 33), (64, 64, 64),
                 (67, 100, 65), (129, 1000, 130), (300, 4097, 257), (1000, 96, 3)]


@pytest.mark.gpu
@on_gpu
@pytest.mark.parametrize("m, k, n", MATMUL_SHAPES)
def test_matmul(gemm_path, m, k, n):
    checks.check_matmul(m, k, n)


@pytest.mark.gpu
@on_gpu
def test_matmul_ignores_garbage_padding_bits(gemm_path):
    rng = np.random.default_rng(3)
    x, w = npr.random_pm(rng, (70, 40)), npr.random_pm(rng, (66, 40))
    px, pw = npr.pack(x), npr.pack(w)
    px[:, 1] |= np.int32(-256)  # bits 8..31 of the last word, beyond k = 40
    pw[:, 1] |= np.int32(1 << 20)
    got = kernels.binary_matmul(px, pw, 40, implementation="kernel")
    np.testing.assert_array_equal(to_np(got), npr.signs(x) @ npr.signs(w).T)


CONV_CASES = [
    # (batch, h, w, cin, kh, kw, cout, strides, dilation): channel counts cover 1-, 2- and
    # 4-word copies (33, 64, 128 channels) and rows beyond one 128-row tile.
    (1, 5, 5, 1, 1, 1, 1, (1, 1), (1, 1)),
    (2, 7, 6, 45, 3, 3, 37, (1, 1), (1, 1)),
    (1, 9, 7, 33, 3, 2, 5, (2, 1), (1, 2)),
    (2, 12, 11, 64, 3, 3, 70, (2, 2), (1, 1)),
    (2, 13, 10, 128, 3, 3, 130, (1, 1), (2, 1)),
]


@pytest.mark.gpu
@on_gpu
@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("pad_value", ["one", "zero"])
def test_conv2d(gemm_path, case, padding, pad_value):
    checks.check_conv2d(case, padding, pad_value)


@pytest.mark.gpu
@on_gpu
def test_all_gemm_paths_agree_on_a_large_random_gemm():
    rng = np.random.default_rng(11)
    m, k, n = 1000, 2000, 300
    x, w = npr.random_pm(rng, (m, k)), npr.random_pm(rng, (n, k))
    results = {}
    for path in ("mma", "mma_deep", "popc", "simt"):
        testing.force_cuda_gemm(path)
        results[path] = to_np(kernels.binary_matmul(npr.pack(x), npr.pack(w), k,
                                                    implementation="kernel"))
    testing.force_cuda_gemm("auto")
    np.testing.assert_array_equal(results["mma"], npr.signs(x) @ npr.signs(w).T)
    for path in ("mma_deep", "popc", "simt"):
        np.testing.assert_array_equal(results[path], results["mma"])


@pytest.mark.gpu
@on_gpu
def test_jit_network_on_the_gpu():
    import jax

    rng = np.random.default_rng(12)
    x, kernel, w = (npr.random_pm(rng, s) for s in [(3, 8, 8, 40), (3, 3, 40, 64), (10, 64)])
    pk, pw = kernels.pack_conv2d_kernel(kernel), npr.pack(w)

    def network(v):
        h = kernels.binary_conv2d(v, pk, padding="same", pad_value="zero", output="packed",
                                  implementation="kernel")
        return kernels.binary_matmul(h, pw, 64, implementation="kernel")

    h = npr.signs(npr.conv2d(x, kernel, (1, 1), "same", (1, 1), "zero"))
    np.testing.assert_array_equal(np.asarray(jax.jit(network)(x)), h @ npr.signs(w).T)


@pytest.mark.gpu
@on_gpu
def test_a_computation_placed_on_the_cpu_runs_the_cpu_kernels():
    import jax

    rng = np.random.default_rng(13)
    x, w = npr.random_pm(rng, (5, 70)), npr.random_pm(rng, (9, 70))
    cpu = jax.devices("cpu")[0]

    def matmul(a, b):
        return kernels.binary_matmul(a, b, 70, implementation="kernel")

    with jax.default_device(cpu):
        y = jax.jit(matmul)(npr.pack(x), npr.pack(w))
    assert {d.platform for d in y.devices()} == {"cpu"}
    np.testing.assert_array_equal(np.asarray(y), npr.signs(x) @ npr.signs(w).T)


@pytest.mark.gpu
@on_gpu
def test_gpu_without_the_cuda_library_falls_back_and_says_how_to_build_it():
    code = (
        "import numpy as np\n"
        "from keras_binary import kernels\n"
        "info = kernels.kernel_info()\n"
        "print(info['available'], 'nvcc' in info['error'])\n"
        "y = kernels.binary_matmul(np.zeros((2, 1), np.int32), np.zeros((3, 1), np.int32), 5)\n"
        "print(float(np.asarray(y).sum()))\n"
        "kernels.pack_bits([[1.0]], implementation='kernel')"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, KERAS_BACKEND="jax", KERAS_BINARY_CUDA_KERNEL_LIB="/nonexistent.so",
               PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.stdout.split() == ["False", "True", "30.0"], result.stderr[-2000:]
    assert "binary kernels unavailable" in result.stderr


@cuda_built
def test_gemm_path_selection():
    before = testing.cuda_gemm_path()
    try:
        for path in testing.CUDA_GEMM_PATHS:
            testing.force_cuda_gemm(path)
            assert testing.cuda_gemm_path() == path
    finally:
        testing.force_cuda_gemm(before)
    with pytest.raises(ValueError, match="GPU GEMM path must be one of"):
        testing.force_cuda_gemm("tensor")


def test_missing_cuda_library_is_a_clear_error(tmp_path):
    code = "from keras_binary.kernels import testing; print(testing.cuda_library_error())"
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, **{testing.CUDA_LIBRARY_ENV: str(tmp_path / "missing.so")},
               PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=300)
    error = result.stdout
    assert "libkeras_binary_cuda.so not found" in error and "nvcc" in error


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="JAX route only")
def test_the_other_platform_is_registered_where_jax_has_it(monkeypatch):
    """With JAX defaulting to the GPU, the CPU targets are registered too (and a platform whose
    library does not load is skipped, not an error); the GPU test above runs it for real."""
    import jax

    from keras_binary.kernels import jax_ffi

    registered = []

    def fake_register(platform):
        if platform == "gpu":
            raise kernels.KernelLibraryError("no CUDA library")
        registered.append(platform)

    def fake_devices(platform=None):
        if platform not in (None, "cpu", "gpu"):
            raise RuntimeError(f"Unknown backend {platform}")
        return ["device"]

    monkeypatch.setattr(jax_ffi, "register", fake_register)
    monkeypatch.setattr(jax, "devices", fake_devices)
    for default, expected in [("gpu", ["cpu"]), ("cpu", [])]:
        monkeypatch.setattr(jax, "default_backend", lambda default=default: default)
        registered.clear()
        jax_ffi.register_other_platforms.cache_clear()
        jax_ffi.register_other_platforms()  # the GPU library failing to load is skipped
        assert registered == expected
    jax_ffi.register_other_platforms.cache_clear()
