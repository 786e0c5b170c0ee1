"""QuantDepthwiseConv1D/2D against keras depthwise convolutions on quantized operands."""

import numpy as np
import pytest
from keras import ops

from keras_binary.layers import QuantDepthwiseConv1D, QuantDepthwiseConv2D
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
          "depthwise_constraint": "weight_clip", "bias_initializer": "random_normal"}


@pytest.mark.parametrize(
    "cls, shape, kwargs",
    [
        (QuantDepthwiseConv2D, (2, 7, 6, 3), {"padding": "same", "strides": 2,
                                              "depth_multiplier": 2}),
        (QuantDepthwiseConv2D, (2, 3, 7, 6), {"data_format": "channels_first",
                                              "dilation_rate": 2}),
        (QuantDepthwiseConv1D, (2, 9, 4), {"padding": "same", "depth_multiplier": 3}),
    ],
)
def test_equals_keras_depthwise_on_quantized_operands(cls, shape, kwargs):
    layer = cls(3, **BINARY, **kwargs)
    assert_matches_keras(layer, random_inputs(shape))
    assert get_precision(layer.kernel) == 1
    assert (layer.input_precision, layer.kernel_precision) == (1, 1)


@pytest.mark.parametrize("strides, dilation", [(1, 1), (2, 1), (1, 2)])
def test_pad_values_is_exact(strides, dilation):
    layer = QuantDepthwiseConv2D(3, strides=strides, dilation_rate=dilation, padding="same",
                                 pad_values=-1.0, **BINARY)
    x = random_inputs((2, 7, 8, 2))
    pads = [(0, 0)] + [same_padding(n, 3, strides, dilation) for n in (7, 8)] + [(0, 0)]
    padded = ops.pad(np.where(x >= 0, 1.0, -1.0), pads, constant_values=-1.0)
    y = np.asarray(layer(x))
    kernel = ops.where(layer.kernel.value >= 0, 1.0, -1.0)
    expected = ops.depthwise_conv(ops.cast(padded, "float32"), kernel, strides, "valid",
                                  dilation_rate=dilation) + layer.bias.value
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-5)


def test_round_trips_and_jit(tmp_path):
    layer = QuantDepthwiseConv2D(3, padding="same", pad_values=1.0, **BINARY)
    clone = assert_config_round_trip(layer)
    assert clone.depthwise_quantizer == layer.depthwise_quantizer and clone.pad_values == 1.0
    x = random_inputs((2, 5, 5, 2))
    assert_saved_model_predicts_the_same(layer, x, tmp_path)
    assert_jit_predict_the_same(QuantDepthwiseConv2D(3, **BINARY), x)


def test_errors_and_warning():
    with pytest.raises(ValueError, match="depthwise_quantizer.*'binary'"):
        QuantDepthwiseConv2D(3, depthwise_quantizer="binary")
    with pytest.raises(ValueError, match="only applies to padding='same'"):
        QuantDepthwiseConv2D(3, pad_values=1.0)
    with pytest.warns(UserWarning, match="depthwise_constraint.*latent weights may grow"):
        QuantDepthwiseConv2D(3, depthwise_quantizer="ste_sign")
