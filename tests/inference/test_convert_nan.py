"""A NaN in one input sample: the converted model gives NaN outputs for that sample exactly where
the float model does (sign(NaN) = NaN), and the other samples are untouched.

The models have no max pooling: Keras's float MaxPooling2D may turn NaN into +-inf or drop it
(backend-dependent), which sign then absorbs; the converted model flags the sample regardless.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_binary import inference
from keras_binary.inference import BinaryDenseInference
from keras_binary.inference.nan_rows import MarkNaNRows, NaNRows
from keras_binary.layers import QuantConv2D, QuantDense
from tests.inference import models
from tests.inference.models import BIN


def packed_convnet() -> keras.Model:
    """Float-input binary conv -> packed convs -> Flatten -> packed dense -> float dense."""
    inputs = keras.Input((8, 7, 3))
    x = keras.layers.Conv2D(8, 3, padding="same")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = QuantConv2D(16, 3, padding="same", **BIN)(x)
    x = keras.layers.BatchNormalization()(x)
    x = QuantConv2D(32, 3, strides=2, padding="valid", **BIN)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Flatten()(x)
    x = QuantDense(24, **BIN)(x)
    x = keras.layers.BatchNormalization()(x)
    return keras.Model(inputs, QuantDense(10, **BIN)(x))


def residual_convnet() -> keras.Model:
    """Bi-Real style: float-input, float-output binary convs added to a float shortcut."""
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.BatchNormalization()(keras.layers.Conv2D(8, 3, padding="same")(inputs))
    for _ in range(2):
        y = QuantConv2D(8, 3, padding="same", input_quantizer="approx_sign",
                        kernel_quantizer="magnitude_aware_sign", use_bias=False)(x)
        x = keras.layers.Add()([keras.layers.BatchNormalization()(y), x])
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(10)(x))


MODELS = {
    "binarynet_mlp": models.binarynet_mlp,  # packed chain of dense layers: flags ride along
    "packed_convnet": packed_convnet,  # packed convs, Flatten, dense
    "residual_convnet": residual_convnet,  # float-in, float-out convs (the flag in the layer)
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_nan_sample_gives_nan_outputs_like_the_float_model(name):
    model = MODELS[name]()
    x = models.sample_inputs(model, batch=3)
    models.randomize(model, x)
    fast = inference.convert(model)
    x[1].reshape(-1)[x[1].size // 2] = np.nan
    expected = model.predict_on_batch(x)
    got = fast.predict_on_batch(x)
    assert np.isnan(expected[1]).all() and np.isnan(got[1]).all()
    assert np.isfinite(got[[0, 2]]).all()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)  # NaN where NaN


def test_packed_chain_carries_the_flags_to_its_float_end():
    fast = inference.convert(models.binarynet_mlp())
    kinds = [type(layer) for layer in fast.layers]
    assert kinds.count(NaNRows) == 1 and kinds.count(MarkNaNRows) == 1


def test_layer_marks_nan_rows_of_a_float_input_and_binarizes_inf():
    layer = BinaryDenseInference(2, input_bits=3)
    x = np.array([[1.0, -1.0, 1.0], [np.nan, 1.0, 1.0], [np.inf, -np.inf, 1.0]], "float32")
    layer(x)
    layer.set_packed_weights(np.zeros((2, 1), "int32"), np.ones(2), np.zeros(2))
    y = np.asarray(layer(x))
    np.testing.assert_array_equal(y, [[1.0, 1.0], [np.nan, np.nan], [1.0, 1.0]])


def test_conv_layer_marks_the_whole_sample_of_a_float_input():
    from keras_binary.inference import BinaryConv2DInference

    layer = BinaryConv2DInference(2, 3, channels=4, padding="same")
    x = np.random.default_rng(0).normal(size=(2, 5, 5, 4)).astype("float32")
    x[1, 0, 0, 0] = np.nan  # a corner: the float conv would reach only 4 of 25 positions
    y = np.asarray(layer(x))
    assert np.isnan(y[1]).all() and np.isfinite(y[0]).all()
