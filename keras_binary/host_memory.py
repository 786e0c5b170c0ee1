"""`keep_freed_memory`: let a training process reuse the large host buffers it frees.

A CPU training step allocates and frees the same multi-megabyte buffers every step (XLA's
temporaries, a quantized kernel, its gradient). glibc's malloc serves each block above its
mmap threshold with a fresh ``mmap`` and returns it to the system on ``free``, so every step
touches new pages, and on a VM each 4 KiB page fault costs more than the pass that fills it.
With the thresholds raised, those blocks come from the heap and stay there once freed: the
BinaryNet MLP's step (784-2048x3-10, batch 100) took 46-48 instead of 53-64 ms on JAX and
87-114 instead of 106-145 ms on PyTorch on a 2-core Xeon; TensorFlow, which reuses its own
buffers, measured no change (BENCHMARKS.md, `bench_optimizers.py`). The price is that the
process keeps its peak heap until it exits. It is the in-process form of starting Python with
glibc's ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` set (docs/kernels.md).

The setting is process-wide, so the library never applies it on its own: the zoo's `train`
and `demo` commands and the training benchmarks call `keep_freed_memory()`, and a user's
training script can do the same.

Example (at the top of a training script)::

    from keras_binary.host_memory import keep_freed_memory

    keep_freed_memory()
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["keep_freed_memory"]

# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Both thresholds: blocks up to this size come from the heap, and up to this much free heap
# stays at its top. Above a training step's largest buffer (a 4096 x 4096 float32 kernel is
# 64 MiB); the value the benchmarks' worker processes get as MALLOC_MMAP_THRESHOLD_ and
# MALLOC_TRIM_THRESHOLD_ (docs/kernels.md).
THRESHOLD_BYTES = 1 << 30


def keep_freed_memory() -> bool:
    """Makes glibc's malloc keep freed blocks of up to 1 GiB for reuse instead of unmapping
    them, for the rest of the process.

    Repeated training steps then reuse their buffers instead of faulting in fresh pages
    (a 10-30% faster BinaryNet MLP step on JAX and PyTorch on a 2-core CPU; the module
    docstring has the numbers).
    Freed memory is not returned to the system until the process exits. Call it once, early,
    in a training script; it does nothing where the C library is not glibc (macOS, musl,
    Windows).

    Returns:
        True if glibc accepted both settings, False where they do not apply.

    Example::

        import keras_binary.host_memory

        if not keras_binary.host_memory.keep_freed_memory():
            print("not glibc: freed memory goes back to the system as usual")
    """
    mallopt = _glibc_mallopt()
    if mallopt is None:
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, THRESHOLD_BYTES)
                and mallopt(_M_TRIM_THRESHOLD, THRESHOLD_BYTES))


def _glibc_mallopt():
    """glibc's ``mallopt``, or None on another C library."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018  (only glibc has it)
    except (OSError, AttributeError):
        return None
    mallopt = libc.mallopt
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return mallopt
