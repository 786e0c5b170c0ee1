"""convert(): converted models predict like the originals (exact or within float tolerance)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_binary import inference
from keras_binary.inference import (
    BinaryConv2DInference,
    BinaryDenseInference,
    FloatConv2DInference,
    PackedMaxPooling2D,
)
from keras_binary.inference.convert import MAX_FLOAT_CONV_TAPS
from keras_binary.inference.folding import batch_norm_affine
from keras_binary.layers import QuantConv2D
from tests.inference import models
from tests.inference.models import converted


def _types(model):
    return [type(layer).__name__ for layer in model.layers]


def test_exact_dense_outputs_equal_integer_preactivations():
    _, fast, _, expected, got = converted(models.exact_dense())
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(expected, np.round(expected))  # integer pre-activations
    assert _types(fast) == ["InputLayer", "BinaryDenseInference"]
    assert isinstance(fast, inference.ConvertedModel) and fast.jit_compile


@pytest.mark.parametrize("pad_values,strides,padding", [
    (1.0, 1, "same"), (0.0, 2, "same"), (0.0, (2, 1), "valid"),
])
def test_exact_conv_with_bias(pad_values, strides, padding):
    _, fast, _, expected, got = converted(models.exact_conv(pad_values, strides, padding))
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-5)
    layer = fast.layers[-1]
    assert isinstance(layer, BinaryConv2DInference) and layer.output_mode == "float"
    assert layer.pad_value == ("zero" if pad_values == 0.0 and padding == "same" else "one")


@pytest.mark.parametrize("dropout", [False, True])
def test_binarynet_mlp_matches_and_chains_packed(dropout):
    _, fast, _, expected, got = converted(models.binarynet_mlp(dropout))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    dense = [layer for layer in fast.layers if isinstance(layer, BinaryDenseInference)]
    assert [layer.output_mode for layer in dense] == ["packed", "float"]
    assert "Dropout" not in _types(fast) and "QuantDense" in _types(fast)  # float first layer


def test_binarynet_convnet_matches_with_packed_pooling_and_flatten(convnet):
    _, fast, _, expected, got = convnet
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    types = _types(fast)
    assert types.count("PackedMaxPooling2D") == 2
    # The float first conv (a QuantConv2D quantizing its kernel only) runs the float conv
    # kernel, its kernel stored quantized and the BatchNorm after it folded in.
    assert types.count("FloatConv2DInference") == 1 and "BatchNormalization" not in types
    pools = [layer for layer in fast.layers if isinstance(layer, PackedMaxPooling2D)]
    # The BNs after the pools have scales of both signs: those channels pool with OR.
    for pool in pools:
        mask = keras.ops.convert_to_numpy(pool.or_mask).view(np.uint32)
        assert 0 < int(np.unpackbits(mask.view(np.uint8)).sum()) < pool.channels
    dense = [layer for layer in fast.layers if isinstance(layer, BinaryDenseInference)]
    assert dense[0].input_bits == 2 * 1 * 32  # 2x1 positions of 20 channels, padded to 32


def test_xnor_net_scaled_kernels_match():
    _, fast, _, expected, got = converted(models.xnor_net())
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    assert _types(fast).count("BinaryConv2DInference") == 2
    assert _types(fast).count("BinaryDenseInference") == 1
    assert _types(fast).count("FloatConv2DInference") == 1  # the stem, its BatchNorm folded


def test_bireal_block_with_shortcuts_matches():
    _, fast, _, expected, got = converted(models.bireal_net())
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    convs = [layer for layer in fast.layers if isinstance(layer, BinaryConv2DInference)]
    assert [layer.output_mode for layer in convs] == ["float", "float"]  # they feed an Add
    # Each shortcut Add runs in its conv's epilogue: the conv takes [x, shortcut].
    assert "Add" not in _types(fast) and "AveragePooling2D" in _types(fast)
    assert [len(keras.tree.flatten(layer.input)) for layer in convs] == [2, 2]
    assert "SlicedMaxPooling2D" in _types(fast) and "MaxPooling2D" not in _types(fast)
    # The 3x3 stem runs the float conv kernel; the 1x1 shortcut convs stay Keras convs.
    assert _types(fast).count("FloatConv2DInference") == 1 and "Conv2D" in _types(fast)


def test_float_convs_with_a_spatial_kernel_run_the_float_conv_kernel():
    inputs = keras.Input((15, 15, 3))
    stem = keras.layers.Conv2D(24, 5, strides=2, padding="same", name="stem")(inputs)
    x = keras.layers.BatchNormalization(name="stem_bn")(stem)
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same")(x)
    relu = keras.layers.Conv2D(20, 3, activation="relu", use_bias=False, name="relu_conv")(x)
    x = keras.layers.BatchNormalization(name="after_relu")(relu)
    x = keras.layers.Conv2D(120, 1, name="pointwise")(x)
    # 3x3x120 = 1080 values per output channel: past MAX_FLOAT_CONV_TAPS, the framework's conv.
    x = keras.layers.Conv2D(16, 3, padding="same", name="wide")(x)
    # A float-input QuantConv2D padding with ones: the kernel pads with zeros, so it stays.
    x = QuantConv2D(12, 3, padding="same", pad_values=1.0, kernel_quantizer="ste_sign",
                    name="padded_by_one")(x)
    x = QuantConv2D(32, 2, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                    use_bias=False)(x)
    model = keras.Model(inputs, keras.layers.Flatten()(x))
    _, fast, x, expected, got = converted(model)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    by_name = {layer.name: layer for layer in fast.layers}
    # The stem's BatchNorm is folded into its affine; after a relu it cannot be, and stays.
    assert isinstance(by_name["stem"], FloatConv2DInference) and "stem_bn" not in by_name
    assert isinstance(by_name["relu_conv"], FloatConv2DInference) and "after_relu" in by_name
    assert by_name["relu_conv"].activation is keras.activations.relu
    assert type(by_name["pointwise"]) is keras.layers.Conv2D  # 1x1: the framework's GEMM
    assert type(by_name["wide"]) is keras.layers.Conv2D
    assert 9 * 120 > MAX_FLOAT_CONV_TAPS >= 9 * 24
    assert isinstance(by_name["padded_by_one"], QuantConv2D)
    scale, bias = batch_norm_affine(model.get_layer("stem_bn"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(by_name["stem"].bias),
                               keras.ops.convert_to_numpy(model.get_layer("stem").bias) * scale
                               + bias, rtol=1e-6, atol=1e-6)


def _binary_conv(x, filters: int = 16):
    conv = models.QuantConv2D(filters, 3, padding="same", **models.BIN)(x)
    return keras.layers.BatchNormalization()(conv)


def test_an_add_reading_two_binary_convs_fuses_one():
    inputs = keras.Input((6, 6, 16))
    outputs = keras.layers.Add()([_binary_conv(inputs), _binary_conv(inputs)])
    _, fast, _, expected, got = converted(keras.Model(inputs, outputs))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    convs = [layer for layer in fast.layers if isinstance(layer, BinaryConv2DInference)]
    assert sorted(len(keras.tree.flatten(layer.input)) for layer in convs) == [1, 2]
    assert "Add" not in _types(fast)


def test_an_output_read_beside_the_add_is_not_fused():
    inputs = keras.Input((6, 6, 16))
    y = _binary_conv(inputs)
    outputs = keras.layers.Concatenate()([keras.layers.Add()([y, inputs]), y])
    _, fast, _, expected, got = converted(keras.Model(inputs, outputs))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert "Add" in _types(fast)


def test_a_residual_needs_a_float_input_and_one_group():
    layer = BinaryConv2DInference(32, 1, channels=32, groups=2)
    x = np.ones((1, 3, 3, 32), "float32")
    with pytest.raises(ValueError, match="a residual needs groups=1"):
        layer([x, x])
    dense = BinaryDenseInference(4, input_bits=32)
    with pytest.raises(ValueError, match="a residual needs a float input"):
        dense([np.zeros((2, 1), "int32"), np.zeros((2, 4), "float32")])


def test_grouped_convolutions_match_and_pack_whole_words_only(tmp_path):
    _, fast, x, expected, got = converted(models.grouped_convnet())
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    convs = [layer for layer in fast.layers if isinstance(layer, BinaryConv2DInference)]
    assert [layer.groups for layer in convs] == [1, 2, 2, 3]
    assert [layer.output_mode for layer in convs] == ["packed", "packed", "float", "float"]
    path = str(tmp_path / "grouped.keras")
    fast.save(path)
    np.testing.assert_array_equal(keras.saving.load_model(path).predict_on_batch(x), got)
    # Packed export and import: a fresh conversion of an untrained copy predicts the same.
    inference.export_packed(fast, str(tmp_path / "grouped.npz"))
    fresh = inference.convert(keras.models.clone_model(models.grouped_convnet()), warn=False)
    inference.load_packed(fresh, str(tmp_path / "grouped.npz"))
    np.testing.assert_array_equal(fresh.predict_on_batch(x), got)


def test_many_groups_stay_float_with_a_warning():
    inputs = keras.Input((4, 4, 64))
    outputs = models.QuantConv2D(64, 3, groups=64, **models.BIN)(inputs)
    with pytest.warns(UserWarning, match="groups=64"):
        fast = inference.convert(keras.Model(inputs, outputs))
    assert _types(fast) == ["InputLayer", "QuantConv2D"]


def test_grouped_layer_rejects_partial_words_on_a_packed_side():
    with pytest.raises(ValueError, match="multiple of 32"):
        BinaryConv2DInference(48, 3, channels=64, groups=2, output="packed")
    with pytest.raises(ValueError, match="dividing"):
        BinaryConv2DInference(48, 3, channels=10, groups=4)
    layer = BinaryConv2DInference(4, 1, channels=32, groups=2)
    with pytest.raises(ValueError, match="packed input"):
        layer(np.zeros((1, 3, 3, 1), "int32"))


@pytest.mark.parametrize("fused_adds", [False, True])
def test_converted_model_saves_and_loads(convnet, fused_adds, tmp_path):
    _, fast, x, _, got = converted(models.bireal_net()) if fused_adds else convnet
    path = str(tmp_path / "fast.keras")
    fast.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, inference.ConvertedModel) and loaded.jit_compile
    np.testing.assert_array_equal(loaded.predict_on_batch(x), got)


def test_unconvertible_binary_layer_stays_float_with_a_warning():
    inputs = keras.Input((12,))
    outputs = models.QuantDense(4, input_quantizer="ste_sign", kernel_quantizer="ste_heaviside",
                                kernel_constraint="weight_clip")(inputs)
    with pytest.warns(UserWarning, match="stays float"):
        fast = inference.convert(keras.Model(inputs, outputs))
    assert _types(fast) == ["InputLayer", "QuantDense"]


def test_shared_layer_and_non_model_are_refused():
    layer = keras.layers.Dense(3)
    inputs = keras.Input((3,))
    model = keras.Model(inputs, layer(layer(inputs)))
    with pytest.raises(ValueError, match="more than once"):
        inference.convert(model)
    with pytest.raises(TypeError, match="keras.Model"):
        inference.convert(layer)


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="torch.compile is PyTorch's")
def test_converted_model_under_torch_compile():
    import torch

    _, fast, x, expected, got = converted(models.exact_conv(0.0, 2))
    torch.compiler.reset()
    # aot_eager: TorchDynamo and AOTAutograd trace the kernels' custom ops as torch.compile does,
    # without Inductor's minutes of C++ codegen on a small CPU.
    compiled = torch.compile(fast, backend="aot_eager")
    with torch.no_grad():
        y = compiled(torch.tensor(x))
    np.testing.assert_array_equal(np.asarray(y), got)
    np.testing.assert_array_equal(np.asarray(y), expected)
