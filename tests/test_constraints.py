"""WeightClip and the "weight_clip" alias."""

import keras
import numpy as np
import pytest

from keras_binary import constraints
from keras_binary.constraints import WeightClip


def test_clips_to_the_interval():
    w = np.array([[-3.0, -0.5], [0.25, 2.0]], "float32")
    np.testing.assert_array_equal(WeightClip(0.5)(w), np.clip(w, -0.5, 0.5))
    np.testing.assert_array_equal(WeightClip()(w), np.clip(w, -1.0, 1.0))


def test_get_resolves_aliases_and_falls_back_to_keras():
    alias = constraints.get("weight_clip")
    assert isinstance(alias, WeightClip) and alias.clip_value == 1.0
    assert isinstance(constraints.get("non_neg"), keras.constraints.NonNeg)
    clip = WeightClip(0.3)
    assert constraints.get(clip) is clip
    assert constraints.get(None) is None
    restored = constraints.get(keras.saving.serialize_keras_object(clip))
    assert isinstance(restored, WeightClip) and restored.clip_value == pytest.approx(0.3)


def test_bad_input():
    with pytest.raises(ValueError, match="Unknown constraint 'weight_clamp'.*weight_clip"):
        constraints.get("weight_clamp")
    with pytest.raises(ValueError, match="clip_value must be > 0"):
        WeightClip(0.0)
    with pytest.raises(TypeError, match="clip_value must be a number"):
        WeightClip("1")


def test_applied_after_each_optimizer_step():
    from keras_binary.layers import QuantDense

    layer = QuantDense(2, kernel_quantizer="ste_sign", kernel_constraint="weight_clip",
                       kernel_initializer=keras.initializers.Constant(0.9))
    model = keras.Sequential([keras.Input((3,)), layer])
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
    model.train_on_batch(np.ones((4, 3), "float32"), np.full((4, 2), 50.0, "float32"))
    kernel = np.asarray(layer.kernel)
    assert np.abs(kernel).max() <= 1.0
    assert np.isclose(np.abs(kernel).max(), 1.0), "the update should have hit the clip"


def test_a_tensor_is_left_unchanged_and_a_variable_gets_the_clipped_values():
    values = np.array([-3.0, 0.25, 2.0], "float32")
    tensor = keras.ops.convert_to_tensor(values)
    np.testing.assert_array_equal(WeightClip()(tensor), [-1.0, 0.25, 1.0])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(tensor), values)
    variable = keras.Variable(values)
    variable.assign(WeightClip()(variable))  # what an optimizer does after its step
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(variable), [-1.0, 0.25, 1.0])
