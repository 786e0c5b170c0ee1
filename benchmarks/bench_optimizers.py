"""Training time of a BinaryNet MLP (binary weights and activations) with Bop+Adam, LAB and
plain Adam, on the current backend: ms per step on SYNTHETIC batches, or with ``--mnist`` one
epoch of real MNIST (60,000 images; squared hinge on +-1 targets, as the Larq+XLA anchor in
BENCHMARKS.md is measured), compile excluded. A step's time is the steady state (from the first
step's end to the last's); the epoch is `fit`'s wall time. Run once per backend:

    KERAS_BACKEND=jax python benchmarks/bench_optimizers.py --hidden 2048 --steps 30
    KERAS_BACKEND=tensorflow python benchmarks/bench_optimizers.py --mnist
    KERAS_BACKEND=torch python benchmarks/bench_optimizers.py --hidden 2048 --steps 30

Models compile with ``jit_compile=True`` on JAX and TensorFlow, as the zoo trains them
(``--jit-compile auto`` takes Keras's default instead: no XLA on CPU-only TensorFlow); under
torch Keras trains eagerly, its default. Freed buffers are kept for reuse, as the zoo's
training commands keep them (`keras_binary.host_memory.keep_freed_memory`); ``--malloc
default`` measures glibc's default behaviour instead (a fresh process per setting).
"""

import argparse
import time

import keras
import numpy as np

from keras_binary.host_memory import keep_freed_memory
from keras_binary.layers import QuantDense
from keras_binary.optimizers import LAB, Bop, CaseOptimizer, is_binary_variable


def binarynet_mlp(hidden: int, kernel_quantizer: str) -> keras.Model:
    x = inputs = keras.Input((784,))
    for index in range(4):
        x = QuantDense(10 if index == 3 else hidden, use_bias=False,
                       input_quantizer="ste_sign" if index else None,
                       kernel_quantizer=kernel_quantizer, kernel_constraint="weight_clip")(x)
        x = keras.layers.BatchNormalization()(x)
    return keras.Model(inputs, x)


OPTIMIZERS = {
    "adam": ("ste_sign", lambda: keras.optimizers.Adam(1e-3)),
    "bop+adam": ("ste_sign", lambda: CaseOptimizer((is_binary_variable, Bop()),
                                                   default_optimizer=keras.optimizers.Adam())),
    "lab": ("lab", lambda: LAB(1e-3)),
}


def compiled(name: str, hidden: int, jit_compile: bool | str) -> keras.Model:
    quantizer, make = OPTIMIZERS[name]
    model = binarynet_mlp(hidden, quantizer)
    model.compile(optimizer=make(), loss="squared_hinge", jit_compile=jit_compile)
    return model


class StepSpan(keras.callbacks.Callback):
    """Time from the first training step's end to the last's: the steady-state steps, without
    `fit`'s setup and teardown (on TensorFlow, tearing down the input pipeline that Keras builds
    from arrays can stall for seconds: model_zoo.training.one_iterator_per_run)."""

    def __init__(self) -> None:
        super().__init__()
        self.ends: list[float] = []

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append(time.perf_counter())

    def per_step(self) -> float:
        return (self.ends[-1] - self.ends[0]) / (len(self.ends) - 1)


def step_ms(name: str, hidden: int, steps: int, batch: int, jit_compile: bool | str) -> float:
    model = compiled(name, hidden, jit_compile)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch * steps, 784)).astype("float32")
    y = np.sign(rng.normal(size=(batch * steps, 10))).astype("float32")
    model.fit(x[: 2 * batch], y[: 2 * batch], batch_size=batch, verbose=0)  # compile
    span = StepSpan()
    model.fit(x, y, batch_size=batch, verbose=0, callbacks=[span])
    return 1000 * span.per_step()


def mnist_epoch_s(name: str, hidden: int, batch: int, x: np.ndarray, y: np.ndarray,
                  jit_compile: bool | str) -> tuple[float, float]:
    """Seconds of one ``model.fit`` epoch over (x, y) after a two-batch compile run, and of its
    steps alone (steps x the steady-state step time)."""
    model = compiled(name, hidden, jit_compile)
    model.fit(x[: 2 * batch], y[: 2 * batch], batch_size=batch, verbose=0)  # compile
    span = StepSpan()
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, shuffle=True, verbose=0, callbacks=[span])
    return time.perf_counter() - start, span.per_step() * len(span.ends)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hidden", type=int, default=2048)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--mnist", action="store_true",
                        help="one epoch of real MNIST (prepared offline) instead of --steps")
    parser.add_argument("--jit-compile", choices=("xla", "auto"), default="xla",
                        help="xla: jit_compile=True (the zoo's setting); auto: Keras's default")
    parser.add_argument("--malloc", choices=("keep", "default"), default="keep",
                        help="keep: keep_freed_memory() first (the zoo's setting); default: "
                             "glibc's default (freed large blocks go back to the system)")
    args = parser.parse_args()
    kept = args.malloc == "keep" and keep_freed_memory()
    # XLA exists on JAX and TensorFlow; PyTorch's jit_compile=True would mean torch.compile.
    xla = args.jit_compile == "xla" and keras.backend.backend() != "torch"
    jit = True if xla else "auto"
    print(f"backend {keras.backend.backend()}, MLP 784-{args.hidden}x3-10, batch {args.batch}, "
          f"jit_compile={jit}, freed memory {'kept' if kept else 'returned (malloc default)'}")
    if args.mnist:
        from model_zoo.datasets import load_numpy

        x, labels = load_numpy("mnist", "train", flatten=True)
        y = 2.0 * np.eye(10, dtype="float32")[labels] - 1.0
        for name in OPTIMIZERS:
            seconds, steps = mnist_epoch_s(name, args.hidden, args.batch, x, y, jit)
            print(f"{name:>9}: {seconds:8.1f} s/epoch (real MNIST, {len(x)} images; "
                  f"its steps {steps:.1f} s)")
        return
    for name in OPTIMIZERS:
        print(f"{name:>9}: {step_ms(name, args.hidden, args.steps, args.batch, jit):8.1f} ms/step")


if __name__ == "__main__":
    main()
