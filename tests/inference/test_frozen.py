"""Float-kept quantized layers: convert() stores their kernels quantized (no per-call quantizer)."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

from keras_binary.inference.frozen import copy_frozen_weights, frozen_config
from keras_binary.layers import QuantDense
from keras_binary.quantizers import LossAwareBinarizer, NoOp
from tests.inference import models
from tests.inference.models import converted


def test_float_input_layer_stores_its_binarized_kernel():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model, fast, _, expected, got = converted(models.binarynet_mlp())
    # The frozen copy holds +-1 values, not latent weights: no constraint warning for it.
    assert not [w for w in caught if "latent weights may grow" in str(w.message)]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    first = next(layer for layer in model.layers if isinstance(layer, QuantDense))
    copy = fast.get_layer(first.name)
    assert isinstance(copy.kernel_quantizer, NoOp) and copy.kernel_quantizer.precision == 1
    assert copy.kernel_constraint is None
    latent = keras.ops.convert_to_numpy(first.kernel)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(copy.kernel),
                                  np.where(latent >= 0, 1.0, -1.0))


def test_stateful_kernel_quantizer_is_folded_into_the_stored_kernel():
    inputs = keras.Input((12,))
    layer = QuantDense(7, kernel_quantizer=LossAwareBinarizer(), kernel_constraint="weight_clip")
    model = keras.Model(inputs, layer(inputs))
    _, fast, _, expected, got = converted(model)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    copy = fast.get_layer(layer.name)
    assert [tuple(w.shape) for w in copy.weights] == [(12, 7), (7,)]  # alpha folded in
    alpha = float(keras.ops.convert_to_numpy(layer.kernel_quantizer.alpha))
    latent = keras.ops.convert_to_numpy(layer.kernel)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(copy.kernel),
                               alpha * np.where(latent >= 0, 1.0, -1.0), rtol=1e-6)


def test_a_copy_whose_weights_do_not_line_up_is_refused():
    layer = QuantDense(4, kernel_quantizer="ste_sign", kernel_constraint="weight_clip")
    layer.build((None, 3))
    config = dict(frozen_config(layer), units=5)
    other = QuantDense.from_config(config)
    other.build((None, 3))
    with pytest.raises(ValueError, match="do not line up"):
        copy_frozen_weights(layer, other)
