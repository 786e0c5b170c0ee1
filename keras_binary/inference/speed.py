"""`compare_speed(model, x)`: times the float model and its converted binary model on the same
inputs and checks that their predictions agree.

Example::

    stats = compare_speed(model, x, repeats=20)
    stats["speedup"], stats["agree"]      # e.g. (6.3, True)
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import keras
import numpy as np

from keras_binary.inference.convert import convert


def time_predict(model: keras.Model, x: Any, repeats: int = 10, warmup: int = 2):
    """(median milliseconds of ``model.predict_on_batch(x)``, its last output)."""
    if not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive int, got {repeats!r}")
    for _ in range(max(warmup, 1)):  # the first call compiles
        y = model.predict_on_batch(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        y = model.predict_on_batch(x)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), np.asarray(y)


def compare_speed(model: keras.Model, x: Any, converted: keras.Model | None = None,
                  repeats: int = 10, warmup: int = 2, rtol: float = 1e-3,
                  atol: float = 1e-3) -> dict[str, Any]:
    """Median batch latency of ``model`` (float path) and of ``converted`` (default:
    ``convert(model)``) on ``x``, and whether their predictions agree.

    Returns a dict with ``float_ms``, ``binary_ms``, ``speedup`` (float / binary),
    ``agree`` (all outputs within ``rtol``/``atol`` relative to the largest output),
    ``max_abs_diff`` and ``argmax_agreement`` (fraction of rows with the same top class).

    On JAX's CPU backend the times can include page faults of XLA's buffers, from one process
    to the next; see the README's "Fast inference" for the glibc settings that avoid them.
    """
    fast = converted if converted is not None else convert(model, warn=False)
    float_ms, expected = time_predict(model, x, repeats, warmup)
    binary_ms, got = time_predict(fast, x, repeats, warmup)
    if expected.shape != got.shape:
        raise ValueError(f"output shapes differ: float {expected.shape}, binary {got.shape}")
    scale = max(1.0, float(np.max(np.abs(expected))))
    flat_e, flat_g = expected.reshape(len(expected), -1), got.reshape(len(got), -1)
    return {
        "float_ms": float_ms,
        "binary_ms": binary_ms,
        "speedup": float_ms / binary_ms,
        "agree": bool(np.allclose(got, expected, rtol=rtol, atol=atol * scale)),
        "max_abs_diff": float(np.max(np.abs(got - expected))),
        "argmax_agreement": float(np.mean(flat_e.argmax(-1) == flat_g.argmax(-1))),
    }
