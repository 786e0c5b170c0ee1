"""`pad_values != 0` on inputs whose spatial size is unknown when the model is built.

Larq pads with the size read at run time (`tf.shape`); so must we, for fully convolutional
models built on `keras.Input((None, None, C))`, on every backend and through
`inference.convert`.
"""

import keras
import numpy as np
import pytest

from keras_binary.inference import convert
from keras_binary.layers import (
    QuantConv1D,
    QuantConv2D,
    QuantDepthwiseConv2D,
    QuantSeparableConv2D,
)
from tests.layers.helpers import random_inputs

SIGN = {"input_quantizer": "ste_sign", "bias_initializer": "random_normal"}
CASES = [
    (QuantConv2D, {"filters": 3, "kernel_size": 3, "strides": 2,
                   "kernel_quantizer": "ste_sign", "kernel_constraint": "weight_clip"}),
    (QuantConv2D, {"filters": 2, "kernel_size": (2, 3), "dilation_rate": 2,
                   "kernel_quantizer": "ste_sign", "kernel_constraint": "weight_clip"}),
    (QuantDepthwiseConv2D, {"kernel_size": 3, "strides": 2, "depthwise_quantizer": "ste_sign",
                            "depthwise_constraint": "weight_clip"}),
    (QuantSeparableConv2D, {"filters": 4, "kernel_size": 3, "depthwise_quantizer": "ste_sign",
                            "pointwise_quantizer": "ste_sign",
                            "depthwise_constraint": "weight_clip",
                            "pointwise_constraint": "weight_clip"}),
]
SHAPES = [(2, 7, 5, 2), (1, 6, 9, 2)]


def _dynamic_and_fixed(cls, kwargs, input_shape):
    """The layer in a model on unknown spatial sizes, and its twin called eagerly (known sizes)."""
    layer = cls(padding="same", pad_values=1.0, **SIGN, **kwargs)
    model = keras.Sequential([keras.Input(input_shape), layer])
    fixed = cls.from_config({**layer.get_config(), "name": "fixed"})
    fixed.build((None, *input_shape))
    fixed.set_weights(layer.get_weights())
    return model, fixed


@pytest.mark.parametrize("cls, kwargs", CASES)
def test_pad_values_follow_the_size_of_each_input(cls, kwargs):
    model, fixed = _dynamic_and_fixed(cls, kwargs, (None, None, 2))
    for shape in SHAPES:
        x = random_inputs(shape, seed=shape[1])
        expected = np.asarray(fixed(x))
        np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-5)
        zero = cls.from_config({**fixed.get_config(), "pad_values": 0.0, "name": "zero"})
        zero.build(x.shape)
        zero.set_weights(fixed.get_weights())
        assert not np.allclose(expected, zero(x)), "the +1 border must change the output"


def test_pad_values_under_a_graph_with_unknown_sizes():
    """TensorFlow traces with None dimensions (tf.function signature): the pads are tensors."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("JAX always traces with concrete shapes")
    import tensorflow as tf

    model, fixed = _dynamic_and_fixed(*CASES[0], (None, None, 2))
    run = tf.function(model, input_signature=[tf.TensorSpec((None, None, None, 2))])
    for shape in SHAPES:
        x = random_inputs(shape)
        np.testing.assert_allclose(run(x), fixed(x), rtol=1e-6, atol=1e-5)


def test_pad_values_1d_with_unknown_length():
    model, fixed = _dynamic_and_fixed(
        QuantConv1D,
        {"filters": 3, "kernel_size": 4, "strides": 3, "kernel_quantizer": "ste_sign",
         "kernel_constraint": "weight_clip"},
        (None, 2),
    )
    for length in (5, 11):
        x = random_inputs((2, length, 2), seed=length)
        np.testing.assert_allclose(model.predict(x, verbose=0), fixed(x), rtol=1e-6, atol=1e-5)


def test_convert_keeps_unknown_size_pad_values_layers_exact():
    """A fully convolutional binary model with pad_values=1 converts and predicts the same."""
    binary = {"input_quantizer": "ste_sign", "kernel_quantizer": "ste_sign",
              "kernel_constraint": "weight_clip", "padding": "same", "pad_values": 1.0}
    model = keras.Sequential([
        keras.Input((None, None, 3)),
        QuantConv2D(8, 3, **{**binary, "input_quantizer": None}),
        keras.layers.BatchNormalization(),
        QuantConv2D(4, 3, **binary),
        keras.layers.GlobalAveragePooling2D(),
    ])
    model.layers[1].set_weights([w + 0.3 for w in model.layers[1].get_weights()])
    with pytest.warns(UserWarning, match="stays float: the spatial input size is unknown"):
        fast = convert(model)
    for shape in ((2, 9, 7, 3), (1, 5, 12, 3)):
        x = random_inputs(shape, seed=shape[1])
        np.testing.assert_allclose(
            fast.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-5
        )
