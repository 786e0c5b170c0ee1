"""JAX route: the handlers registered with ``jax.ffi`` for platform "cpu" and called with
``jax.ffi.ffi_call``. Only imported under the JAX backend. Example::

    out = call("binary_matmul_f32", (m, n), "float32", x, w, scale, bias, k=k)
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from keras_binary.kernels._library import load_library
from keras_binary.kernels.targets import TARGET_PREFIX, TARGETS


@functools.cache
def register() -> None:
    """Registers every kernel target with JAX (once per process)."""
    lib = load_library()
    for name, symbol in TARGETS.items():
        capsule = jax.ffi.pycapsule(getattr(lib, symbol))
        jax.ffi.register_ffi_target(TARGET_PREFIX + name, capsule, platform="cpu")


def call(name: str, shape: tuple[int, ...], dtype: str, *args, **attrs: int):
    """Calls kernel target ``name`` returning one array of ``shape`` and ``dtype``."""
    register()
    out = jax.ShapeDtypeStruct(tuple(shape), np.dtype(dtype))
    fn = jax.ffi.ffi_call(TARGET_PREFIX + name, out, vmap_method="expand_dims")
    return fn(*args, **{key: np.int64(value) for key, value in attrs.items()})
