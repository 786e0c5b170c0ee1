"""hard_tanh and leaky_tanh: values, gradients and the string aliases."""

import keras
import numpy as np
import pytest

from keras_binary import activations
from keras_binary.activations import hard_tanh, leaky_tanh
from tests.autodiff import vjp

X = np.array([-3.0, -1.0, -0.4, 0.0, 0.7, 1.0, 2.5], "float32")


def leaky_reference(x, alpha):
    s = np.sign(x)
    return np.where(np.abs(x) <= 1, x, s + alpha * (x - s))


def test_values():
    np.testing.assert_allclose(hard_tanh(X), np.clip(X, -1, 1))
    np.testing.assert_allclose(leaky_tanh(X), leaky_reference(X, 0.2), rtol=1e-6)
    np.testing.assert_allclose(leaky_tanh(X, alpha=0.5), leaky_reference(X, 0.5), rtol=1e-6)


@pytest.mark.parametrize("compiled", [False, True])
def test_gradients(compiled):
    x = np.array([-3.0, -0.4, 0.7, 2.5], "float32")
    ones = np.ones_like(x)
    _, d_hard = vjp(hard_tanh, x, ones, compiled)
    _, d_leaky = vjp(leaky_tanh, x, ones, compiled)
    np.testing.assert_allclose(d_hard, [0.0, 1.0, 1.0, 0.0])
    np.testing.assert_allclose(d_leaky, [0.2, 1.0, 1.0, 0.2], rtol=1e-6)


def test_aliases_in_layers_and_serialization():
    assert activations.get("leaky_tanh") is leaky_tanh
    assert activations.get("hard_tanh") is hard_tanh
    assert activations.get("relu") is keras.activations.relu
    layer = keras.layers.Dense(2, activation=activations.get("leaky_tanh"))
    clone = keras.layers.Dense.from_config(layer.get_config())
    np.testing.assert_allclose(clone.activation(X), leaky_reference(X, 0.2), rtol=1e-6)


def test_unknown_alias():
    with pytest.raises(ValueError, match="Unknown activation 'leaky_tan'.*leaky_tanh"):
        activations.get("leaky_tan")
