"""QuantDense against numpy references and keras.layers.Dense on quantized operands."""

import warnings

import keras
import numpy as np
import pytest

from keras_binary.constraints import WeightClip
from keras_binary.layers import QuantDense
from keras_binary.precision import get_precision, get_quantizer
from keras_binary.quantizers import NoOp
from tests.layers.helpers import (
    ScaledSign,
    assert_config_round_trip,
    assert_jit_predict_the_same,
    assert_matches_keras,
    assert_saved_model_predicts_the_same,
    random_inputs,
)

CLIP = {"kernel_constraint": "weight_clip"}


def np_sign(x):
    return np.where(x >= 0, 1.0, -1.0).astype("float32")


def test_binary_dense_equals_numpy_sign_matmul():
    layer = QuantDense(5, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                       bias_initializer="random_normal", **CLIP)
    x = random_inputs((4, 6))
    y = np.asarray(layer(x))
    kernel, bias = (np.asarray(w) for w in layer.get_weights())
    np.testing.assert_allclose(y, np_sign(x) @ np_sign(kernel) + bias, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "input_quantizer, kernel_quantizer",
    [("ste_sign", "ste_sign"), (None, "magnitude_aware_sign"), ("dorefa", None), (None, None)],
)
def test_equals_keras_dense_on_quantized_operands(input_quantizer, kernel_quantizer):
    layer = QuantDense(7, input_quantizer=input_quantizer, kernel_quantizer=kernel_quantizer,
                       activation="hard_tanh", bias_initializer="random_normal", **CLIP)
    assert_matches_keras(layer, random_inputs((3, 2, 5)))


def test_kernel_tags():
    binary = QuantDense(3, kernel_quantizer="ste_sign", **CLIP)
    binary.build((None, 4))
    assert get_precision(binary.kernel) == 1
    assert get_quantizer(binary.kernel) is binary.kernel_quantizer
    assert get_precision(binary.bias) is None
    assert (binary.input_precision, binary.kernel_precision) == (None, 1)
    plain = QuantDense(3, input_quantizer="ste_sign")
    plain.build((None, 4))
    assert get_precision(plain.kernel) is None
    assert (plain.input_precision, plain.kernel_precision) == (1, None)


def test_string_aliases_resolve_to_keras_binary_objects():
    layer = QuantDense(3, activation="leaky_tanh", kernel_constraint="weight_clip")
    assert isinstance(layer.kernel_constraint, WeightClip)
    assert layer.activation.__name__ == "leaky_tanh"


def test_config_round_trip_keeps_quantizers():
    layer = QuantDense(4, input_quantizer="approx_sign", kernel_quantizer="ste_tern",
                       activation="leaky_tanh", **CLIP)
    clone = assert_config_round_trip(layer)
    assert clone.input_quantizer == layer.input_quantizer
    assert clone.kernel_quantizer == layer.kernel_quantizer


def test_save_load_and_jit(tmp_path):
    x = random_inputs((6, 5))
    layer = QuantDense(3, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                       activation="hard_tanh", **CLIP)
    loaded = assert_saved_model_predicts_the_same(layer, x, tmp_path)
    assert get_precision(loaded.layers[0].kernel) == 1
    assert_jit_predict_the_same(
        QuantDense(3, input_quantizer="ste_sign", kernel_quantizer="ste_sign", **CLIP), x
    )


def test_stateful_layer_quantizer_is_built_tracked_and_saved(tmp_path):
    layer = QuantDense(3, kernel_quantizer=ScaledSign(), use_bias=False, **CLIP)
    x = random_inputs((2, 4))
    layer.build(x.shape)
    layer.kernel_quantizer.alpha.assign(0.5)
    assert get_quantizer(layer.kernel) is layer.kernel_quantizer
    assert any(w.path.endswith("alpha") for w in layer.non_trainable_weights)
    np.testing.assert_allclose(layer(x), x @ (0.5 * np_sign(np.asarray(layer.kernel))), atol=1e-6)
    loaded = assert_saved_model_predicts_the_same(layer, x, tmp_path).layers[0]
    assert isinstance(loaded.kernel_quantizer, ScaledSign)
    assert float(loaded.kernel_quantizer.alpha) == 0.5


def test_gradient_reaches_the_latent_kernel():
    layer = QuantDense(2, input_quantizer="ste_sign", kernel_quantizer="ste_sign", **CLIP)
    x = random_inputs((8, 3))
    model = keras.Sequential([keras.Input((3,)), layer])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = np.asarray(layer.kernel).copy()
    model.train_on_batch(x, np.ones((8, 2), "float32") * 10)
    assert not np.allclose(before, np.asarray(layer.kernel))


def test_unknown_quantizer_alias_is_named():
    with pytest.raises(ValueError, match="kernel_quantizer.*'ste_sgn'"):
        QuantDense(3, kernel_quantizer="ste_sgn")


def test_integer_input_with_quantizer_is_a_type_error():
    layer = QuantDense(3, input_quantizer="ste_sign")
    with pytest.raises(TypeError, match="floating-point inputs.*int32"):
        layer(np.ones((2, 4), "int32"))


def test_binary_kernel_without_constraint_warns_once():
    with pytest.warns(UserWarning, match="latent weights may grow without bound.*WeightClip"):
        layer = QuantDense(3, kernel_quantizer="ste_sign")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer(random_inputs((2, 4)))
        QuantDense(3, kernel_quantizer="ste_sign", **CLIP)
        QuantDense(3, kernel_quantizer="dorefa")
        QuantDense(3, kernel_quantizer=NoOp(precision=1))  # stored +-1 values, no latent weights


def test_lora_and_keras_quantization_are_refused():
    layer = QuantDense(3, kernel_quantizer="ste_sign", lora_rank=2, **CLIP)
    with pytest.raises(NotImplementedError, match="LoRA"):
        layer.build((None, 4))
    with pytest.raises(NotImplementedError, match="quantization_config"):
        QuantDense(3, quantization_config=object())
    built = QuantDense(3, input_quantizer="ste_sign")
    built.build((None, 4))
    with pytest.raises(NotImplementedError, match="post-training quantization"):
        built.quantize("int8")


def test_lora_without_kernel_quantizer_matches_keras():
    layer = QuantDense(3, input_quantizer="ste_sign", lora_rank=2)
    x = random_inputs((2, 4))
    layer.build(x.shape)
    layer.lora_kernel_b.assign(np.ones((2, 3), "float32"))
    np.testing.assert_allclose(layer(x), np_sign(x) @ np.asarray(layer.kernel), atol=1e-5)
