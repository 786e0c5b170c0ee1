"""SlicedMaxPooling2D equals keras.layers.MaxPooling2D exactly, and serializes."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_binary.inference import SlicedMaxPooling2D


@pytest.mark.parametrize("pool_size,strides,padding,shape", [
    (3, 2, "same", (2, 9, 8, 5)),       # Bi-Real/ResNet stem pooling, odd and even sizes
    (2, None, "valid", (1, 7, 6, 3)),
    ((2, 3), (1, 2), "same", (1, 5, 7, 2)),
    (3, 1, "valid", (1, 4, 4, 1)),
    (4, 3, "same", (1, 10, 11, 2)),     # padding on both sides
    (5, 2, "same", (1, 6, 9, 3)),
    (3, 3, "same", (1, 7, 8, 2)),
])
def test_equals_keras_max_pooling(pool_size, strides, padding, shape):
    # All negative values: a zero padding (instead of -inf) would win at the borders.
    x = -np.random.default_rng(0).uniform(0.5, 2.0, shape).astype("float32")
    expected = keras.layers.MaxPooling2D(pool_size, strides, padding)(x)
    got = SlicedMaxPooling2D(pool_size, strides, padding)(x)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(got),
                                  keras.ops.convert_to_numpy(expected))


def test_hand_computed_same_padding():
    x = np.array([[-1, -2, -3], [-4, -5, -6], [-7, -8, -9]], "float32").reshape(1, 3, 3, 1)
    got = keras.ops.convert_to_numpy(SlicedMaxPooling2D(2, 2, "same")(x))
    # "same" pads only at the bottom/right: windows {-1,-2,-4,-5}, {-3,-6}, {-7,-8}, {-9}.
    np.testing.assert_array_equal(got[0, :, :, 0], [[-1, -3], [-7, -9]])


def test_symbolic_shape_and_config_round_trip():
    layer = SlicedMaxPooling2D((3, 2), strides=(2, 1), padding="same", name="pool")
    out = layer(keras.Input((7, 5, 4)))
    assert tuple(out.shape) == (None, 4, 5, 4)
    clone = SlicedMaxPooling2D.from_config(layer.get_config())
    assert (clone.pool_size, clone.strides, clone.padding, clone.name) == ((3, 2), (2, 1),
                                                                          "same", "pool")


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="padding must be"):
        SlicedMaxPooling2D(2, padding="full")
    with pytest.raises(ValueError, match="rank-4 NHWC"):
        SlicedMaxPooling2D(2)(np.zeros((4, 4, 1), "float32"))


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_slices_equal_pooling_on_every_backend(padding):
    # The slice path itself (only the JAX backend's call uses it), against the pooling op.
    from keras_binary.inference.sliced_pooling import reduce_windows

    x = -np.random.default_rng(1).uniform(0.5, 2.0, (1, 7, 6, 3)).astype("float32")
    got = reduce_windows(keras.ops.convert_to_tensor(x), (3, 3), (2, 2), padding,
                         float("-inf"), keras.ops.maximum)
    expected = keras.ops.max_pool(x, 3, 2, padding)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(got),
                                  keras.ops.convert_to_numpy(expected))
