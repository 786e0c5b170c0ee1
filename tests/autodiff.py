"""Backend-specific gradient helper for tests: the vector-Jacobian product of `fn` at `x`."""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np


def vjp(fn: Callable, x: np.ndarray, upstream: np.ndarray, compiled: bool) -> tuple:
    """Returns (fn(x), upstream^T d fn / dx) as numpy arrays, eager or XLA-compiled."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        def run(x, g):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = fn(x)
            return y, tape.gradient(y, x, output_gradients=g)

        if compiled:
            run = tf.function(run, jit_compile=True)
        y, dx = run(tf.constant(x), tf.constant(upstream))
        return np.asarray(y), np.asarray(dx)
    if backend == "jax":
        import jax

        def run(x, g):
            y, pullback = jax.vjp(fn, x)
            return y, pullback(g)[0]

        if compiled:
            run = jax.jit(run)
        y, dx = run(x, upstream)
        return np.asarray(y), np.asarray(dx)
    if backend == "torch":
        import torch

        # "compiled" traces fn with TorchDynamo and AOTAutograd (forward and backward graphs, as
        # torch.compile does) but runs the graphs eagerly: Inductor's C++ codegen would cost
        # seconds per test and checks nothing of this project.
        if compiled:
            torch.compiler.reset()  # a fresh trace per call, not a recompile of the last one
            fn = torch.compile(fn, backend="aot_eager")
        x = torch.tensor(x, requires_grad=True)
        y = fn(x)
        (dx,) = torch.autograd.grad(y, x, grad_outputs=torch.as_tensor(upstream))
        return keras.ops.convert_to_numpy(y), keras.ops.convert_to_numpy(dx)
    raise NotImplementedError(f"no gradient helper for backend {backend!r}")
