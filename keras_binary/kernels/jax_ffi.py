"""JAX route: the handlers registered with ``jax.ffi`` (CPU library for platform "cpu", CUDA
library for platform "CUDA") and called with ``jax.ffi.ffi_call``. The targets of every platform
JAX has are registered (where that platform's library loads), so a computation placed on the CPU
while JAX defaults to the GPU (``jax.default_device``, ``jax.jit(..., device=...)``) finds the
CPU handlers. Only imported under the JAX backend. Example::

    out = call("binary_matmul_f32", (m, n), "float32", x, w, scale, bias, k=k)
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from keras_binary.kernels._cuda_library import load_cuda_library
from keras_binary.kernels._library import KernelLibraryError, load_library
from keras_binary.kernels.targets import CPU_TARGETS, CUDA_TARGETS, TARGET_PREFIX


@functools.cache
def register(platform: str) -> None:
    """Registers every kernel target for JAX platform ``platform`` ("cpu" or "gpu"), once."""
    if platform == "cpu":
        lib, symbols, xla_platform = load_library(), CPU_TARGETS, "cpu"
    elif platform == "gpu":
        lib, symbols, xla_platform = load_cuda_library(), CUDA_TARGETS, "CUDA"
    else:
        raise ValueError(f"no binary kernels for JAX platform {platform!r}")
    for name, symbol in symbols.items():
        capsule = jax.ffi.pycapsule(getattr(lib, symbol))
        jax.ffi.register_ffi_target(TARGET_PREFIX + name, capsule, platform=xla_platform)


@functools.cache
def register_other_platforms() -> None:
    """Registers the targets of the platforms JAX has besides its default one, where their
    library loads; the default platform's own library errors are raised by ``register``."""
    default = jax.default_backend()
    for platform in ("cpu", "gpu"):
        if platform == default:
            continue
        try:
            jax.devices(platform)
        except RuntimeError:  # JAX has no such platform here
            continue
        try:
            register(platform)
        except KernelLibraryError:
            continue


def call(name: str, shape: tuple[int, ...], dtype: str, *args, **attrs: int):
    """Calls kernel target ``name`` returning one array of ``shape`` and ``dtype``."""
    register(jax.default_backend())
    register_other_platforms()
    out = jax.ShapeDtypeStruct(tuple(shape), np.dtype(dtype))
    fn = jax.ffi.ffi_call(TARGET_PREFIX + name, out, vmap_method="expand_dims")
    return fn(*args, **{key: np.int64(value) for key, value in attrs.items()})
