"""Small models and data shared by the optimizer tests."""

import keras
import numpy as np

from keras_binary.layers import QuantDense
from keras_binary.optimizers import LAB, Bop, CaseOptimizer, is_binary_variable


def data(n: int = 32, features: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    y = (x[:, :1] * x[:, 1:2] > 0).astype("float32")
    return x, y


def binary_model(
    kernel_quantizer="ste_sign", features: int = 6, seed: int = 1, batch_norm: bool = True
) -> keras.Model:
    """Input -> QuantDense(8, binary kernel, no bias) -> BN -> Dense(1).

    No bias before BN: its gradient is rounding noise that Adam would amplify.
    """
    keras.utils.set_random_seed(seed)
    constraint = "weight_clip" if kernel_quantizer != "ste_sign" else None
    layers = [
        keras.Input((features,)),
        QuantDense(8, kernel_quantizer=kernel_quantizer, kernel_constraint=constraint,
                   use_bias=False, name="binary"),
        keras.layers.BatchNormalization(name="bn"),
        keras.layers.Dense(1, name="head"),
    ]
    if not batch_norm:
        layers[2] = keras.layers.Activation("tanh", name="tanh")
    return keras.Sequential(layers)


def bop_adam() -> CaseOptimizer:
    return CaseOptimizer((is_binary_variable, Bop(threshold=1e-5, gamma=0.05)),
                         default_optimizer=keras.optimizers.Adam(0.01))


def optimizer_for(kind: str) -> keras.optimizers.Optimizer:
    return bop_adam() if kind == "bop" else LAB(0.01)


def model_for(kind: str, batch_norm: bool = True) -> keras.Model:
    return binary_model("ste_sign" if kind == "bop" else "lab", batch_norm=batch_norm)
