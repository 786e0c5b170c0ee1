"""Shared checks for the Quant* layer tests: reference layers, round trips, a stateful quantizer."""

from __future__ import annotations

import keras
import numpy as np

from keras_binary.precision import get_quantizer
from keras_binary.quantizers import ste_sign

OWN_ARGUMENTS = ("input_quantizer", "kernel_quantizer", "depthwise_quantizer",
                 "pointwise_quantizer", "pad_values")


@keras.saving.register_keras_serializable(package="keras_binary_tests")
class ScaledSign(keras.layers.Layer):
    """A stateful kernel quantizer: alpha * sign(w), alpha a non-trainable per-layer weight."""

    precision = 1

    def build(self, input_shape):
        self.alpha = self.add_weight(name="alpha", shape=(), initializer="ones", trainable=False)

    def call(self, w):
        return self.alpha * ste_sign(w)


def random_inputs(shape, seed=0):
    """Gaussian inputs with some exact zeros (sign(0) = +1 must match too)."""
    x = np.random.default_rng(seed).normal(size=shape).astype("float32")
    x.flat[:: 7] = 0.0
    return x


def keras_twin(layer):
    """The plain Keras layer with the same configuration as the Quant* `layer`."""
    config = layer.get_config()
    for name in OWN_ARGUMENTS:
        config.pop(name, None)
    config["name"] = layer.name + "_twin"
    parent = next(c for c in type(layer).__mro__ if c.__module__.startswith("keras.src"))
    return parent.from_config(config)


def reference_output(layer, x):
    """The Keras twin of `layer` on quantized inputs with quantized weights (numpy)."""
    twin = keras_twin(layer)
    quantized_x = x if layer.input_quantizer is None else layer.input_quantizer(x)
    twin(quantized_x)
    weights = []
    for variable in layer.weights:
        if variable.path.split("/")[-2] in OWN_ARGUMENTS:
            continue  # a Layer quantizer's own state
        quantizer = get_quantizer(variable)
        value = variable.value
        weights.append(np.asarray(value if quantizer is None else quantizer(value)))
    twin.set_weights(weights)
    return np.asarray(twin(quantized_x))


def assert_matches_keras(layer, x, atol=1e-5):
    """`layer(x)` equals its Keras twin applied to quantized inputs and quantized kernels."""
    actual = np.asarray(layer(x))
    np.testing.assert_allclose(actual, reference_output(layer, x), rtol=1e-5, atol=atol)
    return actual


def assert_config_round_trip(layer):
    """from_config(get_config()) rebuilds a layer with the same config."""
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    return clone


def assert_saved_model_predicts_the_same(layer, x, tmp_path):
    """A `.keras` save and load of a one-layer model gives identical predictions."""
    model = keras.Sequential([keras.Input(x.shape[1:]), layer])
    expected = model.predict(x, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    return loaded


def assert_jit_predict_the_same(layer, x):
    """predict() with jit_compile on and off gives the same outputs."""
    model = keras.Sequential([keras.Input(x.shape[1:]), layer])
    outputs = []
    for jit in (False, True):
        model.compile(jit_compile=jit)
        outputs.append(model.predict(x, verbose=0))
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-5, atol=1e-5)
