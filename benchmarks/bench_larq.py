"""The Larq anchor of `bench_optimizers.py`: the same BinaryNet MLP (784-2048x3-10, binary
weights and activations, BatchNorm, squared hinge) trained by Larq 0.14 on tf-keras 2, ms per
steady-state step on SYNTHETIC batches, with and without XLA (``jit_compile``), for Adam and
Bop+Adam. Larq cannot share a process or a virtual environment with Keras 3, so this script
imports neither keras_binary nor Keras 3; run it in Larq's environment (its set-up:
docs/performance-notes.md, "Measuring") right after `bench_optimizers.py` on the same machine:

    TF_USE_LEGACY_KERAS=1 PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python \\
        /path/to/larq-venv/bin/python benchmarks/bench_larq.py --hidden 2048 --steps 30
"""

import argparse
import os
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", "python")

import larq as lq  # noqa: E402
import numpy as np  # noqa: E402
import tf_keras  # noqa: E402

keras = tf_keras


def binarynet_mlp(hidden: int) -> keras.Model:
    """`bench_optimizers.binarynet_mlp` in Larq's layers."""
    x = inputs = keras.Input((784,))
    for index in range(4):
        x = lq.layers.QuantDense(10 if index == 3 else hidden, use_bias=False,
                                 input_quantizer="ste_sign" if index else None,
                                 kernel_quantizer="ste_sign", kernel_constraint="weight_clip")(x)
        x = keras.layers.BatchNormalization()(x)
    return keras.Model(inputs, x)


OPTIMIZERS = {
    "adam": lambda: keras.optimizers.Adam(1e-3),
    # Larq's CaseOptimizer takes tf-keras's legacy optimizers only.
    "bop+adam": lambda: lq.optimizers.CaseOptimizer(
        (lq.optimizers.Bop.is_binary_variable, lq.optimizers.Bop()),
        default_optimizer=keras.optimizers.legacy.Adam()),
}


class StepSpan(keras.callbacks.Callback):
    """Time from the first training step's end to the last's (`bench_optimizers.StepSpan`)."""

    def __init__(self) -> None:
        super().__init__()
        self.ends: list[float] = []

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append(time.perf_counter())

    def per_step(self) -> float:
        return (self.ends[-1] - self.ends[0]) / (len(self.ends) - 1)


def step_ms(name: str, hidden: int, steps: int, batch: int, jit_compile: bool) -> float:
    model = binarynet_mlp(hidden)
    model.compile(optimizer=OPTIMIZERS[name](), loss="squared_hinge", jit_compile=jit_compile)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch * steps, 784)).astype("float32")
    y = np.sign(rng.normal(size=(batch * steps, 10))).astype("float32")
    model.fit(x[: 2 * batch], y[: 2 * batch], batch_size=batch, verbose=0)  # compile
    span = StepSpan()
    model.fit(x, y, batch_size=batch, verbose=0, callbacks=[span])
    return 1000 * span.per_step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=2048)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    print(f"Larq {lq.__version__} on tf-keras {tf_keras.__version__}, MLP 784-{args.hidden}x3-10, "
          f"batch {args.batch}, synthetic batches")
    for jit in (True, False):
        for name in OPTIMIZERS:
            ms = step_ms(name, args.hidden, args.steps, args.batch, jit)
            print(f"{name:>9} jit_compile={jit!s:<5}: {ms:8.1f} ms/step")


if __name__ == "__main__":
    main()
