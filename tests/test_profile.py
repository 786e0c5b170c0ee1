"""Counts of `keras_binary.profile`: parameters, memory and MACs per precision, by hand."""

import keras
import pytest

from keras_binary.layers import (
    QuantConv2D,
    QuantConv2DTranspose,
    QuantDense,
    QuantDepthwiseConv2D,
    QuantSeparableConv2D,
)
from keras_binary.layers.recurrent import QuantLSTM
from keras_binary.profile import dtype_bits, profile_model


def binary_dense(units, input_quantizer=None, **kwargs):
    """A QuantDense with a binary kernel (clipped, as a BNN trains it)."""
    return QuantDense(
        units,
        input_quantizer=input_quantizer,
        kernel_quantizer="ste_sign",
        kernel_constraint="weight_clip",
        **kwargs,
    )


def small_model():
    return keras.Sequential(
        [
            keras.Input((8,)),
            binary_dense(4),
            keras.layers.BatchNormalization(),
            binary_dense(3, input_quantizer="ste_sign"),
        ]
    )


def test_small_model_counts_by_hand():
    profile = profile_model(small_model())
    dense1, bn, dense2 = profile.layers
    assert [layer.class_name for layer in profile.layers] == [
        "QuantDense",
        "BatchNormalization",
        "QuantDense",
    ]
    assert dense1.params == {1: 8 * 4, 32: 4}
    assert bn.params == {32: 4 * 4}
    assert (bn.trainable_params, bn.non_trainable_params) == (8, 8)
    assert dense2.params == {1: 4 * 3, 32: 3}
    assert (dense1.input_precision, bn.input_precision, dense2.input_precision) == (None, None, 1)
    assert dense1.output_shape == (None, 4)
    # float inputs x binary kernel -> 32-bit MACs; binary x binary -> 1-bit; BN has none.
    assert dense1.macs == {32: 8 * 4}
    assert bn.macs == {}
    assert dense2.macs == {1: 4 * 3}

    binary, floats = 8 * 4 + 4 * 3, 4 + 16 + 3
    assert profile.params_by_precision == {1: binary, 32: floats}
    assert profile.total_params == binary + floats
    assert profile.trainable_params == binary + floats - 8
    assert profile.non_trainable_params == 8
    assert dense1.memory_bytes == 8 * 4 / 8 + 4 * 4
    assert profile.memory_bytes == binary / 8 + floats * 4
    assert profile.float32_bytes == (binary + floats) * 4
    assert profile.compression_ratio == pytest.approx(
        (binary + floats) * 4 / (binary / 8 + floats * 4)
    )
    assert profile.macs_by_precision == {1: 12, 32: 32}
    assert profile.total_macs == 44
    assert profile.binary_mac_fraction == pytest.approx(12 / 44)


def test_binarynet_mlp_binary_parameters():
    zeros = {"kernel_initializer": "zeros"}  # fast to build; the values do not matter here
    model = keras.Sequential(
        [
            keras.Input((784,)),
            binary_dense(4096, use_bias=False, **zeros),
            keras.layers.BatchNormalization(),
            binary_dense(4096, "ste_sign", use_bias=False, **zeros),
            keras.layers.BatchNormalization(),
            binary_dense(4096, "ste_sign", use_bias=False, **zeros),
            keras.layers.BatchNormalization(),
            binary_dense(10, "ste_sign", use_bias=False, **zeros),
            keras.layers.BatchNormalization(),
        ]
    )
    profile = profile_model(model)
    binary = 784 * 4096 + 4096 * 4096 * 2 + 4096 * 10  # 36,806,656: "about 36.8M"
    bn_params = 4 * (3 * 4096 + 10)
    assert profile.params_by_precision == {1: binary, 32: bn_params}
    assert profile.non_trainable_params == bn_params // 2
    assert profile.macs_by_precision == {1: binary - 784 * 4096, 32: 784 * 4096}
    assert profile.memory_bytes == binary / 8 + bn_params * 4
    assert profile.compression_ratio == pytest.approx(
        (binary + bn_params) * 4 / (binary / 8 + bn_params * 4)
    )


def conv_out(size, kernel, stride=1):
    return (size - kernel) // stride + 1


def test_convolution_macs_per_family():
    sign, clip = "ste_sign", "weight_clip"
    inputs = keras.Input((9, 9, 3))
    conv = QuantConv2D(5, 3, strides=2, kernel_quantizer=sign, kernel_constraint=clip)
    depthwise = QuantDepthwiseConv2D(
        3,
        depth_multiplier=2,
        input_quantizer=sign,
        depthwise_quantizer=sign,
        depthwise_constraint=clip,
    )
    separable = QuantSeparableConv2D(
        4,
        2,
        padding="same",
        pad_values=1.0,
        input_quantizer=sign,
        depthwise_quantizer=sign,
        pointwise_quantizer=sign,
        depthwise_constraint=clip,
        pointwise_constraint=clip,
    )
    transpose = QuantConv2DTranspose(
        2, 3, strides=2, input_quantizer=sign, kernel_quantizer=sign, kernel_constraint=clip
    )
    y = transpose(separable(depthwise(conv(inputs))))
    model = keras.Model(inputs, y)
    layers = {layer.name: layer for layer in profile_model(model).layers}

    side = conv_out(9, 3, 2)  # 4
    assert layers[conv.name].output_shape == (None, side, side, 5)
    assert layers[conv.name].macs == {32: side * side * 3 * 3 * 3 * 5}
    dw_side = conv_out(side, 3)  # 2
    assert layers[depthwise.name].macs == {1: dw_side * dw_side * 3 * 3 * 5 * 2}
    # The depthwise part is binary; its integer sums reach the pointwise kernel unquantized.
    assert layers[separable.name].macs == {
        1: dw_side * dw_side * 2 * 2 * 10,
        32: dw_side * dw_side * 10 * 4,
    }
    assert layers[separable.name].params == {1: 2 * 2 * 10 + 10 * 4, 32: 4}
    # A transposed convolution spreads every input position over the whole kernel.
    assert layers[transpose.name].macs == {1: dw_side * dw_side * 3 * 3 * 4 * 2}
    assert layers[transpose.name].output_shape == (None, 5, 5, 2)


def test_channels_first_and_1d_convolutions():
    inputs = keras.Input((3, 10, 6))
    conv2d = keras.layers.Conv2D(4, (3, 2), data_format="channels_first")
    seq = keras.Input((12, 2))
    conv1d = keras.layers.Conv1D(3, 5, dilation_rate=2)
    model = keras.Model([inputs, seq], [conv2d(inputs), conv1d(seq)])
    layers = {layer.name: layer for layer in profile_model(model).layers}
    assert layers[conv2d.name].macs == {32: 8 * 5 * 3 * 2 * 3 * 4}
    assert layers[conv1d.name].macs == {32: (12 - 8) * 5 * 2 * 3}


def test_dense_on_sequences_counts_every_position():
    model = keras.Sequential([keras.Input((7, 5)), keras.layers.Dense(2)])
    assert profile_model(model).layers[0].macs == {32: 7 * 5 * 2}


@pytest.mark.parametrize("steps", [6, None])
def test_lstm_macs_per_step_times_sequence_length(steps):
    lstm = QuantLSTM(
        4,
        kernel_quantizer="ste_sign",
        recurrent_quantizer="ste_sign",
        recurrent_input_quantizer="ste_sign",  # binary hidden state, float step inputs
        kernel_constraint="weight_clip",
        recurrent_constraint="weight_clip",
    )
    model = keras.Sequential([keras.Input((steps, 3)), lstm])
    layer = profile_model(model).layers[0]
    per_step = {32: 3 * 16, 1: 4 * 16}
    assert layer.macs == {bits: count * (steps or 1) for bits, count in per_step.items()}
    assert layer.macs_per_unknown_dim is (steps is None)
    assert layer.params == {1: 3 * 16 + 4 * 16, 32: 16}


def test_lstm_with_initial_state_and_return_state():
    seq, h, c = keras.Input((5, 3)), keras.Input((4,)), keras.Input((4,))
    lstm = keras.layers.LSTM(4, return_state=True)
    outputs = lstm(seq, initial_state=[h, c])
    layer = profile_model(keras.Model([seq, h, c], outputs)).layers[0]
    assert layer.macs == {32: 5 * (3 * 16 + 4 * 16)}
    assert layer.output_shape == [(None, 4), (None, 4), (None, 4)]


def test_bidirectional_counts_both_directions():
    model = keras.Sequential([keras.Input((5, 3)), keras.layers.Bidirectional(keras.layers.GRU(2))])
    layer = profile_model(model).layers[0]
    gru_kernels = 3 * 6 + 2 * 6
    assert layer.macs == {32: 2 * 5 * gru_kernels}
    assert layer.output_shape == (None, 4)


def test_functional_with_shared_layer_and_nested_model():
    shared = keras.layers.Dense(4, name="shared")
    inner_in = keras.Input((4,))
    inner = keras.Model(inner_in, keras.layers.Dense(4, name="inner_dense")(inner_in), name="inner")
    x = keras.Input((4,))
    y = shared(inner(shared(x)))  # `shared` is called twice, once around the nested model
    model = keras.Model(x, keras.layers.Dense(2, name="head")(y))
    profile = profile_model(model)
    assert [layer.name for layer in profile.layers] == ["shared", "inner/inner_dense", "head"]
    assert profile.total_params == 20 + 20 + 10
    assert profile.layers[0].macs == {32: 16}  # profiled at its first call
    assert profile.layers[1].output_shape == (None, 4)


def test_nested_model_variables_are_counted_once():
    dense = keras.layers.Dense(4)
    inner_in = keras.Input((4,))
    inner = keras.Model(inner_in, dense(inner_in), name="inner")
    x = keras.Input((4,))
    model = keras.Model(x, dense(inner(x)))  # `dense` lives in both models
    profile = profile_model(model)
    assert [layer.name for layer in profile.layers] == [f"inner/{dense.name}", dense.name]
    assert profile.total_params == 20
    assert profile.layers[1].params == {}


def test_nested_sequential_inside_sequential():
    inner = keras.Sequential([keras.Input((6,)), binary_dense(5)])
    model = keras.Sequential([keras.Input((6,)), inner, keras.layers.Dense(2)])
    profile = profile_model(model)
    assert len(profile.layers) == 2
    assert profile.layers[0].name.startswith(f"{inner.name}/")
    assert profile.params_by_precision == {1: 30, 32: 5 + 12}


def test_weights_counted_at_their_dtype_bits():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, dtype="float16")])
    profile = profile_model(model)
    assert profile.params_by_precision == {16: 8}
    assert profile.memory_bytes == 8 * 2
    assert profile.macs_by_precision == {16: 6}


def test_mixed_precision_stores_float32_and_multiplies_float16():
    dense = keras.layers.Dense(2, dtype=keras.DTypePolicy("mixed_float16"))
    profile = profile_model(keras.Sequential([keras.Input((3,)), dense]))
    assert profile.params_by_precision == {32: 8}
    assert profile.macs_by_precision == {16: 6}


@pytest.mark.parametrize(
    ("dtype", "bits"), [("float32", 32), ("bfloat16", 16), ("float64", 64), ("int8", 8)]
)
def test_dtype_bits(dtype, bits):
    assert dtype_bits(dtype) == bits


def test_model_without_weights_has_no_ratios():
    profile = profile_model(keras.Sequential([keras.Input((3,)), keras.layers.ReLU()]))
    assert profile.total_params == 0
    assert profile.compression_ratio is None
    assert profile.binary_mac_fraction is None


def test_bad_input_errors():
    with pytest.raises(TypeError, match="keras.Model"):
        profile_model(keras.layers.Dense(2))
    with pytest.raises(ValueError, match="not built"):
        profile_model(keras.Sequential([keras.layers.Dense(2)]))
