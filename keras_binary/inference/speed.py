"""`compare_speed(model, x)`: times the float model and its converted binary model on the same
inputs and checks that their predictions agree.

Example::

    stats = compare_speed(model, x, repeats=20)
    stats["speedup"], stats["agree"]      # e.g. (6.3, True)
"""

from __future__ import annotations

import numbers
import statistics
import time
from typing import Any

import keras
import numpy as np

from keras_binary.inference.convert import convert


def time_predict(model: keras.Model, x: Any, repeats: int = 10, warmup: int = 2,
                 warmup_seconds: float = 0.5) -> tuple[float, np.ndarray]:
    """(median milliseconds of ``model.predict_on_batch(x)``, its last output).

    Before the ``repeats`` timed calls, ``model`` is called ``warmup`` times (at least once: the
    first call compiles) and then until ``warmup_seconds`` have passed since the first call
    ended: the first calls after compiling run slower on both backends (a converted Bi-Real-18
    at batch 1: 8-14 ms for the first few, settling at 6-7 ms), and a few timed calls straight
    after compiling would time that transient rather than the steady state.

    Args:
        model: A Keras model.
        x: One batch of inputs.
        repeats: Number of timed calls.
        warmup: Number of untimed calls first (at least one).
        warmup_seconds: Minimum time spent warming up after the first call.

    Returns:
        `(median milliseconds, last output as a numpy array)`.

    Example:

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2)])
    >>> ms, y = time_predict(model, np.ones((4, 8), "float32"), repeats=2, warmup_seconds=0)
    >>> y.shape
    (4, 2)
    """
    if not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive int, got {repeats!r}")
    if (isinstance(warmup_seconds, bool) or not isinstance(warmup_seconds, numbers.Real)
            or not warmup_seconds >= 0):
        raise ValueError(f"warmup_seconds must be a number >= 0, got {warmup_seconds!r}")
    y = model.predict_on_batch(x)  # compiles
    end = time.perf_counter() + warmup_seconds
    calls = 1
    while calls < warmup or time.perf_counter() < end:
        y = model.predict_on_batch(x)
        calls += 1
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        y = model.predict_on_batch(x)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), np.asarray(y)


def compare_speed(model: keras.Model, x: Any, converted: keras.Model | None = None,
                  repeats: int = 10, warmup: int = 2, rtol: float = 1e-3,
                  atol: float = 1e-3, warmup_seconds: float = 0.5) -> dict[str, Any]:
    """Median batch latency of ``model`` (float path) and of ``converted`` (default:
    ``convert(model)``) on ``x``, and whether their predictions agree.

    Returns a dict with ``float_ms``, ``binary_ms``, ``speedup`` (float / binary),
    ``agree`` (all outputs within ``rtol``/``atol`` relative to the largest output),
    ``max_abs_diff`` and ``argmax_agreement`` (fraction of rows with the same top class).
    Each model is warmed up as `time_predict` says (``warmup`` calls, then calls until
    ``warmup_seconds`` have passed) before its ``repeats`` timed calls.

    On JAX's CPU backend the times can include page faults of XLA's buffers, from one process
    to the next; the "Kernels" page of the documentation (docs/kernels.md) gives the glibc
    settings that avoid them.

    Args:
        model: The trained float model.
        x: One batch of inputs.
        converted: `convert(model)` if already built; None converts here.
        repeats: Number of timed calls per model.
        warmup: Number of untimed calls first (at least one).
        rtol: Relative tolerance of `agree`.
        atol: Absolute tolerance of `agree`, relative to the largest output.
        warmup_seconds: Minimum time spent warming up after the first call.

    Returns:
        A dict with the keys above.

    Example:

    >>> import keras, numpy as np
    >>> from keras_binary.layers import QuantDense
    >>> model = keras.Sequential([keras.Input((64,)), QuantDense(
    ...     10, input_quantizer="ste_sign", kernel_quantizer="ste_sign", use_bias=False)])
    >>> stats = compare_speed(model, np.ones((4, 64), "float32"), repeats=2, warmup_seconds=0)
    >>> stats["agree"]
    True
    """
    fast = converted if converted is not None else convert(model, warn=False)
    float_ms, expected = time_predict(model, x, repeats, warmup, warmup_seconds)
    binary_ms, got = time_predict(fast, x, repeats, warmup, warmup_seconds)
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
