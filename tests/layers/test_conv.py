"""QuantConv1D/2D/3D against keras.layers.ConvND on quantized operands; pad_values exactness."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_binary.layers import (
    QuantConv1D,
    QuantConv2D,
    QuantConv3D,
    QuantDepthwiseConv2D,
    QuantSeparableConv2D,
)
from keras_binary.layers.conv_base import same_padding
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
CASES = [
    (QuantConv1D, (2, 9, 3), {"padding": "causal", "dilation_rate": 2}),
    (QuantConv1D, (2, 9, 4), {"padding": "same", "strides": 2, "groups": 2}),
    (QuantConv2D, (2, 7, 6, 3), {"padding": "same", "strides": 2}),
    (QuantConv2D, (2, 3, 7, 6), {"data_format": "channels_first", "dilation_rate": 2}),
    (QuantConv3D, (1, 5, 4, 5, 2), {"padding": "same"}),
]


@pytest.mark.parametrize("cls, shape, kwargs", CASES)
def test_equals_keras_conv_on_quantized_operands(cls, shape, kwargs):
    layer = cls(4, 3, **BINARY, **kwargs)
    assert_matches_keras(layer, random_inputs(shape))
    assert get_precision(layer.kernel) == 1


def test_binary_conv2d_equals_hand_computed_correlation():
    layer = QuantConv2D(2, (2, 3), **BINARY)
    x = random_inputs((1, 4, 5, 3))
    y = np.asarray(layer(x))
    kernel, bias = (np.asarray(w) for w in layer.get_weights())
    sx, sk = np.where(x >= 0, 1.0, -1.0), np.where(kernel >= 0, 1.0, -1.0)
    expected = np.empty((1, 3, 3, 2))
    for i in range(3):
        for j in range(3):
            patch = sx[0, i : i + 2, j : j + 3, :]
            expected[0, i, j] = np.tensordot(patch, sk, axes=3) + bias
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-5)


def manual_padded_conv(layer, x):
    """sign(x) padded with pad_values by ops.pad, then a "valid" Keras convolution."""
    qx = np.where(x >= 0, 1.0, -1.0).astype("float32")
    pads = [(0, 0)] + [
        same_padding(qx.shape[1 + i], k, s, d)
        for i, (k, s, d) in enumerate(
            zip(layer.kernel_size, layer.strides, layer.dilation_rate, strict=True)
        )
    ] + [(0, 0)]
    padded = ops.pad(qx, pads, constant_values=layer.pad_values)
    qk = ops.where(layer.kernel.value >= 0, 1.0, -1.0)
    out = ops.conv(padded, qk, strides=layer.strides, padding="valid",
                   dilation_rate=layer.dilation_rate)
    return np.asarray(out + layer.bias.value)


@pytest.mark.parametrize(
    "cls, shape, kernel_size, strides, dilation",
    [
        (QuantConv2D, (2, 7, 7, 3), 3, 1, 1),
        (QuantConv2D, (2, 7, 8, 3), (3, 2), 2, 1),
        (QuantConv2D, (1, 9, 6, 2), 3, 1, (2, 3)),
        (QuantConv2D, (1, 5, 5, 2), 4, 1, 1),
        (QuantConv1D, (2, 11, 2), 5, 2, 1),
        (QuantConv3D, (1, 5, 4, 3, 2), 3, (2, 1, 2), 1),
    ],
)
def test_pad_values_is_exact(cls, shape, kernel_size, strides, dilation):
    layer = cls(3, kernel_size, strides=strides, dilation_rate=dilation, padding="same",
                pad_values=1.0, **BINARY)
    x = random_inputs(shape)
    layer.build(x.shape)
    # Output channel 0 binarizes to all +1, so its windows that reach into the padding must
    # differ between one- and zero-padding; the other channels keep random signs.
    kernel = np.asarray(layer.kernel.value).copy()
    kernel[..., 0] = np.abs(kernel[..., 0])
    layer.kernel.assign(kernel)
    y = np.asarray(layer(x))
    np.testing.assert_allclose(y, manual_padded_conv(layer, x), rtol=1e-6, atol=1e-5)
    zero_padded = cls.from_config({**layer.get_config(), "pad_values": 0.0, "name": "zero"})
    zero_padded.build(x.shape)
    zero_padded.set_weights(layer.get_weights())
    assert y.shape == np.asarray(zero_padded(x)).shape
    assert not np.allclose(y, zero_padded(x)), "pad_values=1 must differ from zero padding"


def test_same_padding_matches_keras_same_convolution():
    x = np.random.default_rng(0).normal(size=(1, 6, 1)).astype("float32")
    for size, kernel_size, stride in [(5, 2, 1), (5, 3, 2), (6, 3, 2), (6, 4, 3), (5, 4, 2)]:
        k = np.ones((kernel_size, 1, 1), "float32")
        before, after = same_padding(size, kernel_size, stride, 1)
        manual = ops.conv(ops.pad(x[:, :size], [(0, 0), (before, after), (0, 0)]), k, stride)
        np.testing.assert_allclose(
            manual, ops.conv(x[:, :size], k, stride, padding="same"), atol=1e-5
        )


def test_pad_values_with_valid_or_causal_padding_is_an_error():
    with pytest.raises(ValueError, match="pad_values=1.0 only applies to padding='same'"):
        QuantConv2D(2, 3, padding="valid", pad_values=1.0)
    with pytest.raises(ValueError, match="padding='causal'"):
        QuantConv1D(2, 3, padding="causal", pad_values=-1.0)
    with pytest.raises(TypeError, match="pad_values must be a number"):
        QuantConv2D(2, 3, padding="same", pad_values="one")


def test_config_round_trip_save_load_and_jit(tmp_path):
    layer = QuantConv2D(3, 3, padding="same", pad_values=1.0, **BINARY)
    clone = assert_config_round_trip(layer)
    assert clone.pad_values == 1.0 and clone.kernel_quantizer == layer.kernel_quantizer
    x = random_inputs((2, 6, 6, 2))
    assert_saved_model_predicts_the_same(layer, x, tmp_path)
    assert_jit_predict_the_same(QuantConv1D(3, 3, padding="causal", **BINARY), x[:, 0])


def test_unknown_quantizer_and_integer_inputs():
    with pytest.raises(ValueError, match="input_quantizer.*'sign'"):
        QuantConv2D(2, 3, input_quantizer="sign")
    layer = QuantConv2D(2, 3, input_quantizer="ste_sign")
    with pytest.raises(TypeError, match="floating-point inputs"):
        layer(np.ones((1, 4, 4, 1), "int32"))


def test_binary_kernel_without_constraint_warns():
    with pytest.warns(UserWarning, match="latent weights may grow without bound"):
        QuantConv3D(2, 3, kernel_quantizer="approx_sign")


def test_keras_lora_refused_with_kernel_quantizer():
    layer = QuantConv2D(2, 3, kernel_quantizer="ste_tern", lora_rank=2)
    with pytest.raises(NotImplementedError, match="LoRA"):
        layer.build((None, 5, 5, 1))
    assert isinstance(layer, keras.layers.Conv2D)



@pytest.mark.parametrize("make", [
    lambda v: QuantConv1D(2, 3, padding="same", pad_values=v),
    lambda v: QuantConv2D(2, 3, padding="same", pad_values=v),
    lambda v: QuantDepthwiseConv2D(3, padding="same", pad_values=v),
    lambda v: QuantSeparableConv2D(2, 3, padding="same", pad_values=v),
], ids=["conv1d", "conv2d", "depthwise", "separable"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), np.float32("-inf")])
def test_non_finite_pad_values_are_refused(make, value):
    with pytest.raises(ValueError, match=r"^pad_values must be finite, got"):
        make(value)
