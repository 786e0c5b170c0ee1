"""QuantSeparableConv1D/2D against keras separable convolutions on quantized operands."""

import numpy as np
import pytest
from keras import ops

from keras_binary.layers import QuantSeparableConv1D, QuantSeparableConv2D
from keras_binary.layers.conv_base import same_padding
from keras_binary.precision import get_precision
from tests.layers.helpers import (
    assert_config_round_trip,
    assert_jit_predict_the_same,
    assert_matches_keras,
    assert_saved_model_predicts_the_same,
    random_inputs,
)

BINARY = {"input_quantizer": "ste_sign", "depthwise_quantizer": "ste_sign",
          "pointwise_quantizer": "ste_sign", "depthwise_constraint": "weight_clip",
          "pointwise_constraint": "weight_clip", "bias_initializer": "random_normal"}


@pytest.mark.parametrize(
    "cls, shape, kwargs",
    [
        (QuantSeparableConv2D, (2, 7, 6, 3), {"padding": "same", "strides": 2,
                                              "depth_multiplier": 2}),
        (QuantSeparableConv2D, (1, 3, 7, 6), {"data_format": "channels_first",
                                              "dilation_rate": 2}),
        (QuantSeparableConv1D, (2, 9, 4), {"padding": "same"}),
    ],
)
def test_equals_keras_separable_on_quantized_operands(cls, shape, kwargs):
    layer = cls(5, 3, **BINARY, **kwargs)
    assert_matches_keras(layer, random_inputs(shape))
    assert get_precision(layer.depthwise_kernel) == get_precision(layer.pointwise_kernel) == 1


def test_only_pointwise_quantized():
    layer = QuantSeparableConv2D(4, 3, pointwise_quantizer="ste_tern",
                                 pointwise_constraint="weight_clip")
    assert_matches_keras(layer, random_inputs((1, 5, 5, 2)))
    assert get_precision(layer.depthwise_kernel) is None
    assert get_precision(layer.pointwise_kernel) == 2
    assert (layer.kernel_precision, layer.pointwise_precision) == (None, 2)


@pytest.mark.parametrize("strides, dilation", [(1, 1), (2, 1), (1, 3)])
def test_pad_values_is_exact(strides, dilation):
    layer = QuantSeparableConv2D(3, (3, 2), strides=strides, dilation_rate=dilation,
                                 padding="same", pad_values=1.0, **BINARY)
    x = random_inputs((2, 7, 8, 2))
    y = np.asarray(layer(x))
    pads = [(0, 0), same_padding(7, 3, strides, dilation), same_padding(8, 2, strides, dilation),
            (0, 0)]
    padded = ops.pad(ops.where(x >= 0, 1.0, -1.0), pads, constant_values=1.0)
    expected = ops.separable_conv(
        padded,
        ops.where(layer.depthwise_kernel.value >= 0, 1.0, -1.0),
        ops.where(layer.pointwise_kernel.value >= 0, 1.0, -1.0),
        strides, "valid", dilation_rate=dilation,
    ) + layer.bias.value
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-5)


def test_round_trips_and_jit(tmp_path):
    layer = QuantSeparableConv1D(3, 3, padding="same", pad_values=1.0, **BINARY)
    clone = assert_config_round_trip(layer)
    assert clone.pointwise_quantizer == layer.pointwise_quantizer and clone.pad_values == 1.0
    x = random_inputs((2, 6, 2))
    assert_saved_model_predicts_the_same(layer, x, tmp_path)
    assert_jit_predict_the_same(QuantSeparableConv1D(3, 3, **BINARY), x)


def test_errors_and_warning():
    with pytest.raises(ValueError, match="pointwise_quantizer.*'nope'"):
        QuantSeparableConv2D(3, 3, pointwise_quantizer="nope")
    with pytest.raises(ValueError, match="only applies to padding='same'"):
        QuantSeparableConv1D(3, 3, pad_values=1.0)
    with pytest.warns(UserWarning, match="pointwise_constraint.*latent weights may grow"):
        QuantSeparableConv2D(3, 3, pointwise_quantizer="ste_sign")
