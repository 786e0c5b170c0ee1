"""Locating and loading the compiled kernel library (``libkeras_binary_kernels.so``) with ctypes.

Search order: ``$KERAS_BINARY_KERNEL_LIB``, next to this file (wheel install or a developer
``cmake`` build), ``keras_binary/kernels/`` under each ``sys.path`` entry (editable installs),
then ``build/*/`` of a source checkout. Example::

    from keras_binary.kernels._library import load_library
    lib = load_library()  # raises KernelLibraryError with the reason when it cannot load
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
from pathlib import Path

LIB_NAME = "libkeras_binary_kernels.so"
ENV_LIB = "KERAS_BINARY_KERNEL_LIB"
ENV_ISA = "KERAS_BINARY_ISA"
# The XLA FFI API the handlers are built against (TF 2.21 embeds 0.2; JAX 0.10 accepts it).
FFI_API_VERSION = (0, 2)


class KernelLibraryError(RuntimeError):
    """The kernel library cannot be found, loaded, or used on this machine."""


def candidate_paths(name: str = LIB_NAME, env: str = ENV_LIB) -> list[Path]:
    """Where library ``name`` is looked for, in order (``$env`` alone when set)."""
    if os.environ.get(env):
        return [Path(os.environ[env])]
    here = Path(__file__).resolve().parent
    paths = [here / name]
    for entry in sys.path:
        if entry:
            paths.append(Path(entry) / "keras_binary" / "kernels" / name)
    repo = here.parent.parent
    if (repo / "CMakeLists.txt").exists():
        paths.extend(sorted((repo / "build").glob(f"*/{name}")))
    unique = []
    for p in paths:
        if p not in unique:
            unique.append(p)
    return unique


def _declare(lib: ctypes.CDLL) -> None:
    lib.kb_ffi_api_major.restype = ctypes.c_int
    lib.kb_ffi_api_minor.restype = ctypes.c_int
    lib.kb_isa_name.restype = ctypes.c_char_p
    lib.kb_isa_error.restype = ctypes.c_char_p
    lib.kb_cpu_supports.argtypes = [ctypes.c_char_p]
    lib.kb_cpu_supports.restype = ctypes.c_int
    lib.kb_force_isa.argtypes = [ctypes.c_char_p]
    lib.kb_force_isa.restype = ctypes.c_int
    lib.kb_set_max_threads.argtypes = [ctypes.c_int]
    lib.kb_max_threads.restype = ctypes.c_int
    lib.kb_gemm_path.argtypes = [ctypes.c_int64] * 4
    lib.kb_gemm_path.restype = ctypes.c_char_p
    lib.kb_gemm_path_limit.argtypes = [ctypes.c_char_p]
    lib.kb_gemm_path_limit.restype = ctypes.c_int64
    lib.kb_conv2d_attr_names.restype = ctypes.c_char_p
    lib.kb_register_tf.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    lib.kb_register_tf.restype = ctypes.c_char_p


def open_library(name: str, env: str, how_to_build: str, declare) -> ctypes.CDLL:
    """Finds library ``name`` (see :func:`candidate_paths`), loads it with ctypes and declares
    its C entry points with ``declare(lib)``; ``lib.path`` is where it was found.

    Raises:
        KernelLibraryError: not found (the message says ``how_to_build``) or not loadable.
    """
    paths = candidate_paths(name, env)
    path = next((p for p in paths if p.is_file()), None)
    if path is None:
        searched = "\n  ".join(str(p) for p in paths)
        raise KernelLibraryError(
            f"{name} not found. {how_to_build}, or set {env}. Searched:\n  {searched}"
        )
    try:
        lib = ctypes.CDLL(str(path))
        declare(lib)
    except (OSError, AttributeError) as e:
        raise KernelLibraryError(f"cannot load kernel library {path}: {e}") from e
    lib.path = str(path)
    return lib


@functools.cache
def load_library() -> ctypes.CDLL:
    """Loads and checks the kernel library once per process.

    Raises:
        KernelLibraryError: not found, not loadable, wrong FFI API version, or a forced ISA
            (``KERAS_BINARY_ISA``) that this CPU does not support.
    """
    lib = open_library(LIB_NAME, ENV_LIB, "Build it with `pip install -e .` or `cmake -S . -B "
                       "build/dev && cmake --build build/dev` from the repository root", _declare)
    path = lib.path
    version = (lib.kb_ffi_api_major(), lib.kb_ffi_api_minor())
    if version != FFI_API_VERSION:
        raise KernelLibraryError(
            f"kernel library {path} was built against XLA FFI API {version[0]}.{version[1]}, "
            f"but keras_binary needs {FFI_API_VERSION[0]}.{FFI_API_VERSION[1]} (the TensorFlow "
            "2.21 headers); rebuild it"
        )
    isa_error = lib.kb_isa_error().decode()
    if isa_error:
        raise KernelLibraryError(f"{isa_error} (kernel library {path})")
    return lib


def library_error() -> str | None:
    """The reason the library cannot be used, or None when it loads."""
    try:
        load_library()
    except KernelLibraryError as e:
        return str(e)
    return None
