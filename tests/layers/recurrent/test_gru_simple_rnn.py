"""QuantGRU / QuantSimpleRNN against Keras's GRU / SimpleRNN with quantized weights."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_binary.layers.recurrent import (
    QuantGRU,
    QuantGRUCell,
    QuantSimpleRNN,
    QuantSimpleRNNCell,
)
from keras_binary.precision import is_binary_variable
from tests.layers.helpers import random_inputs

BINARY = {"kernel_quantizer": "ste_sign", "recurrent_quantizer": "ste_sign",
          "kernel_constraint": "weight_clip", "recurrent_constraint": "weight_clip"}
QUANTIZER_ARGS = ("input_quantizer", "kernel_quantizer", "recurrent_quantizer",
                  "recurrent_input_quantizer", "kernel_constraint", "recurrent_constraint")
CASES = [
    (QuantGRU, keras.layers.GRU, {"reset_after": True}),
    (QuantGRU, keras.layers.GRU, {"reset_after": False, "go_backwards": True}),
    (QuantSimpleRNN, keras.layers.SimpleRNN, {"return_state": True}),
]


def np_sign(x):
    return np.where(x >= 0, 1.0, -1.0).astype("float32")


def with_spread_weights(layer, x, seed=1):
    layer(x)
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.uniform(-1.5, 1.5, w.shape).astype("float32")
                       for w in layer.get_weights()])
    return layer


def keras_reference(layer, keras_class, x):
    """The Keras layer with `layer`'s configuration and its binarized kernels (bias as is)."""
    config = {k: v for k, v in layer.get_config().items() if k not in QUANTIZER_ARGS}
    if keras_class is keras.layers.GRU:
        config["use_cudnn"] = False
    reference = keras_class.from_config(config | {"name": "reference"})
    reference(x)
    kernel, recurrent_kernel, bias = layer.get_weights()
    reference.set_weights([np_sign(kernel), np_sign(recurrent_kernel), bias])
    return reference


@pytest.mark.parametrize(("quant_class", "keras_class", "options"), CASES)
def test_equals_keras_layer_with_quantized_weights_and_inputs(quant_class, keras_class, options):
    x = random_inputs((2, 5, 3))
    layer = with_spread_weights(quant_class(
        4, input_quantizer="ste_sign", return_sequences=True, **BINARY, **options), x)
    reference = keras_reference(layer, keras_class, x)
    outputs, expected = keras.tree.flatten(layer(x)), keras.tree.flatten(reference(np_sign(x)))
    assert len(outputs) == len(expected)
    for out, ref in zip(outputs, expected, strict=True):
        np.testing.assert_allclose(np.asarray(out), np.asarray(ref), atol=1e-5)
    assert is_binary_variable(layer.cell.kernel) and is_binary_variable(layer.cell.recurrent_kernel)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_gru_step(x, h, h_in, kernel, recurrent_kernel, bias):
    """Keras's GRU step (reset_after=True) with `h_in` entering the recurrent product."""
    x_z, x_r, x_h = np.split(x @ kernel + bias[0], 3, axis=-1)
    r_z, r_r, r_h = np.split(h_in @ recurrent_kernel + bias[1], 3, axis=-1)
    z, r = sigmoid(x_z + r_z), sigmoid(x_r + r_r)
    return z * h + (1 - z) * np.tanh(x_h + r * r_h)


def np_simple_rnn_step(x, h, h_in, kernel, recurrent_kernel, bias):
    return np.tanh(x @ kernel + bias + h_in @ recurrent_kernel)


@pytest.mark.parametrize(("cell_class", "np_step"), [
    (QuantGRUCell, np_gru_step), (QuantSimpleRNNCell, np_simple_rnn_step)])
def test_hidden_input_quantizer_against_numpy_step(cell_class, np_step):
    x = random_inputs((2, 3))
    h = random_inputs((2, 4), seed=4)
    cell = cell_class(4, recurrent_input_quantizer="ste_sign")
    cell(x, [h])
    rng = np.random.default_rng(0)
    cell.set_weights([rng.normal(size=w.shape).astype("float32") for w in cell.get_weights()])
    expected = np_step(x, h, np_sign(h), *cell.get_weights())
    np.testing.assert_allclose(np.asarray(cell(x, [h])[0]), expected, atol=1e-5)


def test_gru_dropout_only_in_training_and_config_round_trip():
    x = random_inputs((2, 4, 3))
    layer = with_spread_weights(QuantGRU(4, dropout=0.5, recurrent_dropout=0.5, seed=1,
                                         recurrent_input_quantizer="ste_sign", **BINARY), x)
    plain = QuantGRU.from_config(layer.get_config() | {"dropout": 0.0, "recurrent_dropout": 0.0})
    plain(x)
    plain.set_weights(layer.get_weights())
    assert plain.recurrent_input_quantizer == layer.recurrent_input_quantizer
    np.testing.assert_allclose(np.asarray(layer(x, training=False)), np.asarray(plain(x)),
                               atol=1e-6)
    assert np.abs(np.asarray(layer(x, training=True)) - np.asarray(plain(x))).max() > 1e-3
    with pytest.raises(ValueError, match="cuDNN"):
        QuantGRU(4, use_cudnn=True)
