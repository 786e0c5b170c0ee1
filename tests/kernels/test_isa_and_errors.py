"""Each ISA path forced in a subprocess (dispatch is fixed at load time), and bad input."""

import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_binary import kernels
from keras_binary.kernels import KernelLibraryError
from keras_binary.kernels.testing import (
    conv2d_attr_names,
    cpu_supports,
    force_isa,
    forced_isa,
)
from tests.kernels import numpy_reference as npr

BACKEND = keras.backend.backend()
# The CPU library's ISA dispatch and loader (on a GPU, JAX runs the CUDA library instead).
needs_kernels = pytest.mark.skipif(
    BACKEND not in ("jax", "tensorflow", "torch") or kernels.kernel_info()["platform"] != "cpu",
    reason="needs the CPU kernel route",
)


def check_all_kernels():
    rng = np.random.default_rng(0)
    x, w = npr.random_pm(rng, (37, 99)), npr.random_pm(rng, (45, 99))
    px = keras.ops.convert_to_numpy(kernels.pack_bits(x, implementation="kernel"))
    np.testing.assert_array_equal(px, npr.pack(x))
    y = kernels.binary_matmul(px, npr.pack(w), 99, output="packed", implementation="kernel")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(y),
                                  npr.pack(npr.signs(x) @ npr.signs(w).T))
    xi, ki = npr.random_pm(rng, (2, 5, 6, 35)), npr.random_pm(rng, (3, 3, 35, 9))
    c = kernels.binary_conv2d(xi, kernels.pack_conv2d_kernel(ki), strides=2, padding="same",
                              pad_value="zero", implementation="kernel")
    want = npr.conv2d(xi, ki, (2, 2), "same", (1, 1), "zero")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(c), want)


def run_python(code, **env):
    full_env = dict(os.environ, KERAS_BACKEND=BACKEND, **env)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    full_env["PYTHONPATH"] = os.pathsep.join([root, full_env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-c", code], env=full_env, capture_output=True,
                          text=True, timeout=300)


@needs_kernels
@pytest.mark.parametrize("isa", ["portable", "avx2", "avx512", "amx"])
def test_forced_isa_is_bit_exact(isa):
    if not cpu_supports(isa):
        pytest.skip(f"CPU lacks {isa}")
    with forced_isa(isa):
        assert kernels.kernel_info()["isa"] == isa
        check_all_kernels()


@needs_kernels
def test_auto_isa_is_the_best_supported():
    # A fresh process with KERAS_BINARY_ISA=auto picks the first ISA this CPU (and OS) allows;
    # with "avx512" forced, an AMX CPU stays on the popcount kernels.
    best = next(isa for isa in ("amx", "avx512", "avx2", "portable") if cpu_supports(isa))
    code = "from keras_binary import kernels; print(kernels.kernel_info()['isa'])"
    result = run_python(code, KERAS_BINARY_ISA="auto")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-1] == best
    if cpu_supports("avx512"):
        result = run_python(code, KERAS_BINARY_ISA="avx512")
        assert result.stdout.split()[-1] == "avx512", result.stderr[-2000:]


@needs_kernels
def test_amx_refused_by_the_os_falls_back_to_avx512(tmp_path):
    # Linux hands out the AMX tile state only on request (arch_prctl ARCH_REQ_XCOMP_PERM); under
    # a seccomp policy or an older kernel the request fails. The library must then report "amx"
    # unsupported, pick the AVX-512 kernels and stay exact, and refuse a forced "amx" clearly.
    if not cpu_supports("amx"):
        pytest.skip("CPU (or OS) does not allow AMX int8")
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler for the seccomp launcher")
    launcher = tmp_path / "deny_amx_tile_state"
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "deny_amx_tile_state.c")
    subprocess.run([compiler, "-O1", "-o", str(launcher), source], check=True, timeout=120)
    code = (
        "import numpy as np\n"
        "from keras_binary import kernels\n"
        "from keras_binary.kernels.testing import cpu_supports, gemm_path\n"
        "from tests.kernels.test_isa_and_errors import check_all_kernels\n"
        "from tests.kernels.test_gemm_blocking import check_matmul\n"
        "print(kernels.kernel_info()['isa'], cpu_supports('amx'), gemm_path(600, 300, 2100))\n"
        "check_all_kernels()\n"
        "check_matmul(600, 2100, 300)\n"
    )
    env = dict(os.environ, KERAS_BACKEND=BACKEND, KERAS_BINARY_ISA="auto")
    root = os.path.dirname(os.path.dirname(os.path.dirname(source)))
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])
    result = subprocess.run([str(launcher), sys.executable, "-c", code], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-3:] == ["avx512", "False", "panels"]
    env["KERAS_BINARY_ISA"] = "amx"
    forced = "from keras_binary import kernels; kernels.pack_bits([[1.0]], implementation='kernel')"
    result = subprocess.run([str(launcher), sys.executable, "-c", forced], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "KERAS_BINARY_ISA=amx was requested but this CPU (or, for amx, the OS) does not " \
        "allow it" in result.stderr, result.stderr[-2000:]


@needs_kernels
def test_forced_isa_errors():
    with pytest.raises(KernelLibraryError, match="cannot force ISA 'sse9'"):
        force_isa("sse9")
    for isa in ("avx2", "avx512", "amx"):
        if not cpu_supports(isa):
            with pytest.raises(KernelLibraryError, match="unsupported by this CPU"):
                force_isa(isa)
    code = "from keras_binary import kernels; kernels.pack_bits([[1.0]], implementation='kernel')"
    result = run_python(code, KERAS_BINARY_ISA="sse9")
    assert result.returncode != 0
    assert "KERAS_BINARY_ISA='sse9' is not one of" in result.stderr


@needs_kernels
def test_missing_library_errors():
    code = (
        "from keras_binary import kernels\n"
        "print(kernels.kernel_available(), 'not found' in kernels.kernel_info()['error'])\n"
        "kernels.pack_bits([[1.0]], implementation='kernel')"
    )
    result = run_python(code, KERAS_BINARY_KERNEL_LIB="/nonexistent/libkb.so")
    assert result.stdout.startswith("False True"), result.stderr[-2000:]
    assert "binary kernels unavailable" in result.stderr


def test_bad_dtypes():
    with pytest.raises(TypeError, match="pack_bits input must have dtype float32"):
        kernels.pack_bits(np.ones((2, 3), np.int32))
    with pytest.raises(TypeError, match="packed_x must have dtype int32"):
        kernels.binary_matmul(np.ones((2, 1), np.float32), np.ones((2, 1), np.int32), 3)
    with pytest.raises(TypeError, match="conv input must have dtype"):
        kernels.binary_conv2d(np.ones((1, 3, 3, 1), np.int16), np.ones((1, 1, 1, 1), np.int32))


def test_mismatched_packed_shapes():
    px, pw = np.zeros((4, 2), np.int32), np.zeros((5, 3), np.int32)
    with pytest.raises(ValueError, match="packed shapes do not match k=40"):
        kernels.binary_matmul(px, pw, 40)
    with pytest.raises(ValueError, match="packed shapes do not match k=6"):
        kernels.binary_matmul(np.zeros((4, 3), np.int32), pw, 6)  # 6 bits fit in 1 word
    with pytest.raises(ValueError, match="scale must have shape"):
        kernels.binary_matmul(np.zeros((4, 3), np.int32), pw, 70, scale=np.ones(4))
    with pytest.raises(ValueError, match="do not match 40 channels"):
        kernels.binary_conv2d(np.zeros((1, 4, 4, 2), np.int32), np.zeros((3, 1, 1, 1), np.int32),
                              channels=40)
    with pytest.raises(ValueError, match="channels is required"):
        kernels.binary_conv2d(np.zeros((1, 4, 4, 2), np.int32), np.zeros((3, 1, 1, 2), np.int32))


def test_bad_options():
    px = np.zeros((1, 1), np.int32)
    with pytest.raises(ValueError, match="output must be one of"):
        kernels.binary_matmul(px, px, 3, output="int8")
    with pytest.raises(ValueError, match="implementation must be one of"):
        kernels.binary_matmul(px, px, 3, implementation="gpu")
    with pytest.raises(ValueError, match="num_threads"):
        kernels.set_num_threads(-1)


def test_jax_import_does_not_import_tensorflow():
    code = (
        "import sys, numpy as np\n"
        "from keras_binary import kernels\n"
        "kernels.binary_matmul(np.zeros((2, 1), np.int32), np.zeros((3, 1), np.int32), 5)\n"
        "print('tensorflow' in sys.modules)"
    )
    full = dict(os.environ, KERAS_BACKEND="jax")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    full["PYTHONPATH"] = root
    result = subprocess.run([sys.executable, "-c", code], env=full, capture_output=True,
                            text=True, timeout=300)
    assert result.stdout.strip() == "False", result.stderr[-2000:]


@needs_kernels
def test_conv2d_sends_the_attributes_the_kernels_decode():
    """The conv2d handlers decode their attributes by name: the Python side sends each once."""
    g = kernels.Conv2dGeometry.create((9, 9), (3, 3), 40, strides=2, padding="same")
    attrs = g.kernel_attrs()
    assert sorted(attrs) == sorted(conv2d_attr_names())
    assert all(isinstance(value, int) for value in attrs.values())
