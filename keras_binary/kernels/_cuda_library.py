"""Locating and loading the CUDA kernel library (``libkeras_binary_cuda.so``) with ctypes.

Built by ``pip install`` / CMake when nvcc is found (``-DKB_CUDA=ON`` to insist, ``OFF`` to
skip); used by the JAX backend when JAX runs on an NVIDIA GPU (compute capability 8.0 or
newer: the kernels use the 1-bit tensor-core MMA). Search order as for the CPU library, with
``$KERAS_BINARY_CUDA_KERNEL_LIB`` first. Example::

    from keras_binary.kernels._cuda_library import cuda_library_error, force_cuda_gemm
    cuda_library_error()    # None when the library loads, else the reason
    force_cuda_gemm("popc")  # tiled CUDA-core GEMM for every shape (tests, benchmarks)
"""

from __future__ import annotations

import ctypes
import functools

from keras_binary.kernels._library import KernelLibraryError, open_library

CUDA_LIB_NAME = "libkeras_binary_cuda.so"
ENV_CUDA_LIB = "KERAS_BINARY_CUDA_KERNEL_LIB"
# "auto": tensor cores from 64 rows up ("mma_deep" from 4096 bits of K and 2^24 outputs, else
# "mma"), one CUDA-core lane per output below. "mma" (1-bit tensor cores), "mma_deep" (the same
# with longer K steps and a 3-stage pipeline), "popc" (the "mma" tiles with AND + popc on the
# CUDA cores) and "simt" force one.
GEMM_PATHS = ("auto", "mma", "mma_deep", "popc", "simt")


def _declare(lib: ctypes.CDLL) -> None:
    lib.kb_cuda_ffi_api_major.restype = ctypes.c_int
    lib.kb_cuda_ffi_api_minor.restype = ctypes.c_int
    lib.kb_cuda_gemm_path.restype = ctypes.c_char_p
    lib.kb_cuda_force_gemm.argtypes = [ctypes.c_char_p]
    lib.kb_cuda_force_gemm.restype = ctypes.c_int
    lib.kb_cuda_runtime_version.restype = ctypes.c_int


@functools.cache
def load_cuda_library() -> ctypes.CDLL:
    """Loads and checks the CUDA kernel library once per process.

    Raises:
        KernelLibraryError: not built, not loadable, or built against another XLA FFI major
            version.
    """
    lib = open_library(CUDA_LIB_NAME, ENV_CUDA_LIB, "The CUDA kernels are built only where nvcc "
                       "is found: rebuild with nvcc on PATH (`pip install -e .`, or `cmake -S . "
                       "-B build/dev -DKB_CUDA=ON && cmake --build build/dev`)", _declare)
    path = lib.path
    major = lib.kb_cuda_ffi_api_major()
    if major != 0:  # JAX itself refuses a newer minor version with a clear message
        raise KernelLibraryError(
            f"CUDA kernel library {path} was built against XLA FFI API {major}.x; rebuild it"
        )
    return lib


def cuda_library_error() -> str | None:
    """The reason the CUDA library cannot be used, or None when it loads."""
    try:
        load_cuda_library()
    except KernelLibraryError as e:
        return str(e)
    return None


def force_cuda_gemm(path: str) -> None:
    """Selects the GPU GEMM for later calls (one of ``GEMM_PATHS``; tests and benchmarks).
    ``KERAS_BINARY_CUDA_GEMM`` does the same at load time."""
    if path not in GEMM_PATHS:
        raise ValueError(f"GPU GEMM path must be one of {GEMM_PATHS}, got {path!r}")
    load_cuda_library().kb_cuda_force_gemm(path.encode())


def cuda_gemm_path() -> str:
    """The GPU GEMM path selected now (one of ``GEMM_PATHS``)."""
    return load_cuda_library().kb_cuda_gemm_path().decode()
