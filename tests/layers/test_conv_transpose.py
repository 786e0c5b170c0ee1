"""QuantConv{1,2,3}DTranspose against keras transposed convolutions on quantized operands."""

import numpy as np
import pytest

from keras_binary.layers import QuantConv1DTranspose, QuantConv2DTranspose, QuantConv3DTranspose
from keras_binary.precision import get_precision
from tests.layers.helpers import (
    assert_config_round_trip,
    assert_jit_predict_the_same,
    assert_matches_keras,
    assert_saved_model_predicts_the_same,
    random_inputs,
)

BINARY = {"input_quantizer": "ste_sign", "kernel_quantizer": "ste_sign",
          "kernel_constraint": "weight_clip", "bias_initializer": "random_normal"}


@pytest.mark.parametrize(
    "cls, shape, kwargs",
    [
        (QuantConv2DTranspose, (2, 4, 5, 3), {"strides": 2, "padding": "same"}),
        (QuantConv2DTranspose, (1, 3, 4, 4), {"data_format": "channels_first",
                                              "output_padding": 1, "strides": 2}),
        (QuantConv1DTranspose, (2, 5, 3), {"dilation_rate": 2}),
        (QuantConv3DTranspose, (1, 3, 2, 3, 2), {"strides": (2, 1, 2)}),
    ],
)
def test_equals_keras_transpose_on_quantized_operands(cls, shape, kwargs):
    layer = cls(4, 3, **BINARY, **kwargs)
    assert_matches_keras(layer, random_inputs(shape))
    assert get_precision(layer.kernel) == 1


def test_binary_transpose_equals_hand_computed_scatter():
    layer = QuantConv1DTranspose(1, 2, strides=2, **BINARY)
    x = random_inputs((1, 3, 2))
    y = np.asarray(layer(x))
    kernel, bias = (np.asarray(w) for w in layer.get_weights())  # kernel: (2, filters, in)
    sx, sk = np.where(x >= 0, 1.0, -1.0), np.where(kernel >= 0, 1.0, -1.0)
    expected = np.zeros((1, 6, 1))
    for t in range(3):
        for k in range(2):
            expected[0, 2 * t + k, 0] += sk[k, 0] @ sx[0, t]
    np.testing.assert_allclose(y, expected + bias, rtol=1e-6, atol=1e-5)


def test_round_trips_and_jit(tmp_path):
    layer = QuantConv2DTranspose(2, 3, strides=2, padding="same", **BINARY)
    config = assert_config_round_trip(layer).get_config()
    assert "pad_values" not in config and config["kernel_quantizer"]["class_name"] == "SteSign"
    x = random_inputs((2, 3, 3, 2))
    assert_saved_model_predicts_the_same(layer, x, tmp_path)
    assert_jit_predict_the_same(QuantConv2DTranspose(2, 3, **BINARY), x)


def test_has_no_pad_values_and_warns_without_constraint():
    with pytest.raises(ValueError, match="Unrecognized keyword arguments.*pad_values"):
        QuantConv2DTranspose(2, 3, pad_values=1.0)
    with pytest.warns(UserWarning, match="latent weights may grow"):
        QuantConv2DTranspose(2, 3, kernel_quantizer="swish_sign")
