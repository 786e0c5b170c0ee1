"""convert() rebuilds the graph from the live layers: Lambda layers, function quantizers and
custom layers whose `__init__` arguments do not serialize convert (nothing is loaded)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_binary.layers import QuantConv2D, QuantDense
from keras_binary.quantizers import NoOp
from tests.inference.models import BIN, converted


def _clip(x):
    return keras.ops.clip(x, -1.0, 1.0)


class Shift(keras.layers.Layer):
    """A custom layer holding a function: its config cannot carry it (no get_config)."""

    def __init__(self, function, **kwargs):
        super().__init__(**kwargs)
        self.function = function

    def call(self, inputs):
        return self.function(inputs)


class ShiftedQuantDense(QuantDense):
    """A Quant* layer with an extra `__init__` argument that its config leaves out."""

    def __init__(self, units, function, **kwargs):
        super().__init__(units, **kwargs)
        self.function = function

    def call(self, inputs):
        return super().call(self.function(inputs))


def _types(model):
    return [type(layer).__name__ for layer in model.layers]


def test_lambda_layer_is_reused_and_the_model_converts():
    inputs = keras.Input((20,))
    scale = keras.layers.Lambda(lambda t: t * 2.0 - 0.25)
    outputs = QuantDense(9, **BIN)(scale(inputs))
    _, fast, _, expected, got = converted(keras.Model(inputs, outputs))
    np.testing.assert_array_equal(got, expected)
    assert _types(fast) == ["InputLayer", "Lambda", "BinaryDenseInference"]
    assert fast.get_layer(scale.name) is scale


@pytest.mark.parametrize("quantizer", [_clip, lambda t: keras.ops.tanh(t)],
                         ids=["function", "lambda"])
def test_function_input_quantizer_layer_is_frozen_without_loading(quantizer):
    inputs = keras.Input((6, 6, 3))
    first = QuantConv2D(32, 3, input_quantizer=quantizer, kernel_quantizer="ste_sign",
                        kernel_constraint="weight_clip", padding="same")
    outputs = QuantConv2D(4, 3, **BIN)(first(inputs))
    _, fast, _, expected, got = converted(keras.Model(inputs, outputs))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert _types(fast) == ["InputLayer", "QuantConv2D", "BinaryConv2DInference"]
    copy = fast.get_layer(first.name)
    assert copy is not first and copy.input_quantizer is quantizer
    assert isinstance(copy.kernel_quantizer, NoOp)


def test_custom_layer_with_a_function_argument_is_reused():
    inputs = keras.Input((20,))
    shift = Shift(lambda t: t + 0.5)
    outputs = QuantDense(9, **BIN)(shift(inputs))
    _, fast, _, expected, got = converted(keras.Model(inputs, outputs))
    np.testing.assert_array_equal(got, expected)
    assert fast.get_layer(shift.name) is shift


def test_quantized_custom_layer_whose_config_does_not_rebuild_it_is_kept_with_a_warning():
    inputs = keras.Input((20,))
    layer = ShiftedQuantDense(12, lambda t: t - 0.5, kernel_quantizer="ste_sign",
                              kernel_constraint="weight_clip")
    outputs = QuantDense(5, **BIN)(layer(inputs))
    with pytest.warns(UserWarning, match=r"ShiftedQuantDense '.*' cannot be copied .*get_config"):
        _, fast, _, expected, got = converted(keras.Model(inputs, outputs))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert fast.get_layer(layer.name) is layer
    assert _types(fast) == ["InputLayer", "ShiftedQuantDense", "BinaryDenseInference"]
