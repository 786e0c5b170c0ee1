"""Knobs and probes of the kernel libraries for tests and benchmarks: force an ISA or a GPU GEMM
path, ask which GEMM path a shape takes and the thresholds that decide it, and read the names
the conv2d targets decode. Not needed to run models.

Example::

    from keras_binary.kernels import testing
    if testing.cpu_supports("avx2"):
        testing.force_isa("avx2")                  # later kernel calls use the AVX2 GEMM
    testing.gemm_path(3136, 64, 576)               # e.g. "panels"
    testing.gemm_path_limit("few_rows")            # up to this many rows: the "rows" path
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from keras_binary.kernels._cuda_library import (
    ENV_CUDA_LIB,
    GEMM_PATHS,
    cuda_gemm_path,
    cuda_library_error,
    force_cuda_gemm,
)
from keras_binary.kernels._library import KernelLibraryError, load_library

CUDA_GEMM_PATHS = GEMM_PATHS  # the GPU GEMM paths force_cuda_gemm accepts
CUDA_LIBRARY_ENV = ENV_CUDA_LIB  # the environment variable naming the CUDA library's path

__all__ = [
    "CUDA_GEMM_PATHS",
    "CUDA_LIBRARY_ENV",
    "active_isa",
    "conv2d_attr_names",
    "cpu_supports",
    "cuda_gemm_path",
    "cuda_library_error",
    "force_cuda_gemm",
    "force_isa",
    "forced_isa",
    "gemm_path",
    "gemm_path_limit",
]


def force_isa(isa: str) -> None:
    """Switches the CPU kernels to ``isa`` ("portable", "avx2", "avx512", "amx") for later calls.

    ``KERAS_BINARY_ISA`` does the same at load time.

    Raises:
        KernelLibraryError: an unknown name, or an ISA this CPU (or OS) does not allow.
    """
    if not load_library().kb_force_isa(isa.encode()):
        raise KernelLibraryError(
            f"cannot force ISA {isa!r}: unknown name or unsupported by this CPU (or OS)"
        )


@contextlib.contextmanager
def forced_isa(isa: str) -> Iterator[None]:
    """`force_isa` for the duration of a ``with`` block, then back to the ISA before it."""
    before = active_isa()[0]
    force_isa(isa)
    try:
        yield
    finally:
        force_isa(before)


def active_isa() -> tuple[str, str]:
    """The ISA the CPU kernels use now, and the path of the CPU library: ``("avx512", path)``."""
    lib = load_library()
    return lib.kb_isa_name().decode(), lib.path


def cpu_supports(isa: str) -> bool:
    """Whether this CPU has the instructions of ``isa`` (for "amx", also whether the OS granted
    this process the tile state)."""
    return bool(load_library().kb_cpu_supports(isa.encode()))


def gemm_path(rows: int, n: int, seg_bits: int, segments: int = 1) -> str:
    """Which path the CPU GEMM driver takes, with the active ISA, for ``rows`` x ``n`` outputs
    over rows of ``segments`` segments of ``seg_bits`` bits (a matmul: one segment of K bits; a
    conv: one segment per kernel tap, of ``channels`` bits).

    Returns:
        "rows" (few rows, B read in place), "panels" (B repacked), "swapped" (fewer rows than
        columns: A repacked, B's rows broadcast in place), "amx" (ISA "amx", many rows and
        channels: int8 products on the AMX tile unit, weights expanded to bytes once per call)
        or "amx_stream" (ISA "amx", many channels: weights expanded in small chunks as the
        products go).
    """
    return load_library().kb_gemm_path(rows, n, seg_bits, segments).decode()


def gemm_path_limit(name: str) -> int:
    """A threshold of the CPU GEMM driver's path choice, read from the library: "few_rows",
    "amx_min_rows", "amx_min_channels", "amx_stream_min_rows", "amx_stream_min_channels",
    "amx_stream_min_outputs" or "amx_max_k_bits"."""
    value = load_library().kb_gemm_path_limit(name.encode())
    if value < 0:
        raise ValueError(f"unknown GEMM path limit {name!r}; see gemm_path_limit's docstring")
    return value


def conv2d_attr_names() -> tuple[str, ...]:
    """The attribute names the conv2d targets decode (``ConvAttrs`` in csrc/ffi_checks.h)."""
    return tuple(load_library().kb_conv2d_attr_names().decode().split(","))
