"""Training-step time of a BinaryNet MLP (binary weights and activations) with Bop+Adam, LAB and
plain Adam, on the current backend. Run once per backend:

    KERAS_BACKEND=jax python benchmarks/bench_optimizers.py --hidden 2048 --steps 30
"""

import argparse
import time

import keras
import numpy as np

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


def step_ms(name: str, hidden: int, steps: int, batch: int) -> float:
    quantizer, make = OPTIMIZERS[name]
    model = binarynet_mlp(hidden, quantizer)
    model.compile(optimizer=make(), loss="squared_hinge")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch * steps, 784)).astype("float32")
    y = np.sign(rng.normal(size=(batch * steps, 10))).astype("float32")
    model.fit(x[: 2 * batch], y[: 2 * batch], batch_size=batch, verbose=0)  # compile
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, verbose=0)
    return 1000 * (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hidden", type=int, default=2048)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    print(f"backend {keras.backend.backend()}, MLP 784-{args.hidden}x3-10, batch {args.batch}")
    for name in OPTIMIZERS:
        print(f"{name:>9}: {step_ms(name, args.hidden, args.steps, args.batch):8.1f} ms/step")


if __name__ == "__main__":
    main()
