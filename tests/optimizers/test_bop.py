"""Bop: one and two steps against numpy, schedules, assignable hyperparameters, errors."""

import keras
import numpy as np
import pytest

from keras_binary.optimizers import Bop
from keras_binary.precision import set_precision


def binary_variable(values) -> keras.Variable:
    v = keras.Variable(np.asarray(values, "float32"), name="w")
    set_precision(v, 1)
    return v


def numpy_bop(w, m, g, tau, gamma):
    m = (1 - gamma) * m + gamma * g
    return np.where(w * m > tau, -w, w), m


def test_two_steps_flip_exactly_where_w_times_m_exceeds_threshold():
    w0 = np.array([1.0, -1.0, 1.0, -1.0, 1.0, 1.0], "float32")
    g1 = np.array([30.0, -30.0, 10.0, 10.0, -5.0, 19.0], "float32")
    g2 = np.array([0.0, 0.0, 20.0, -20.0, 0.0, 2.0], "float32")
    tau, gamma = 1.0, 0.1
    w = binary_variable(w0)
    optimizer = Bop(threshold=tau, gamma=gamma)
    optimizer.build([w])
    expected, m = w0, np.zeros_like(w0)
    results = []
    for g in (g1, g2):
        expected, m = numpy_bop(expected, m, g, tau, gamma)
        optimizer.apply([keras.ops.convert_to_tensor(g)], [w])
        np.testing.assert_array_equal(w.numpy(), expected)
        results.append(w.numpy().copy())
    # w * m after step 1: 3, 3, 1 (= tau, no flip), -1, -0.5, 1.9 -> flips at 0, 1, 5;
    # after step 2 (m = 0.9 m + 0.1 g): -2.7, -2.7, 2.9, 1.1, -0.45, -1.91 -> flips at 2, 3.
    np.testing.assert_array_equal(results[0], [-1.0, 1.0, 1.0, -1.0, 1.0, -1.0])
    np.testing.assert_array_equal(results[1], [-1.0, 1.0, -1.0, 1.0, 1.0, -1.0])
    np.testing.assert_allclose(optimizer.variables[-1].numpy(), m, rtol=1e-6)


def test_build_sets_binary_variables_to_sign():
    w = binary_variable([0.3, -0.2, 0.0])
    Bop().build([w])
    np.testing.assert_array_equal(w.numpy(), [1.0, -1.0, 1.0])


def test_schedules_drive_gamma_and_threshold_by_step():
    # gamma 0.5 at step 0, then 0
    gamma = keras.optimizers.schedules.PiecewiseConstantDecay([0], [0.5, 0.0])
    w = binary_variable([1.0, 1.0])
    optimizer = Bop(threshold=0.0, gamma=gamma)
    optimizer.build([w])
    optimizer.apply([keras.ops.convert_to_tensor(np.array([-1.0, 1.0], "float32"))], [w])
    np.testing.assert_array_equal(w.numpy(), [1.0, -1.0])  # gamma 0.5: m = (-0.5, 0.5)
    optimizer.apply([keras.ops.convert_to_tensor(np.array([9.0, -9.0], "float32"))], [w])
    np.testing.assert_array_equal(w.numpy(), [1.0, -1.0])  # gamma 0: m unchanged, no flip
    config = optimizer.get_config()
    restored = Bop.from_config(config)
    assert float(restored.gamma) == 0.5  # a schedule at step 0 of the new optimizer
    with pytest.raises(TypeError, match="created as a schedule"):
        optimizer.gamma = 0.1


def test_float_hyperparameters_are_assignable_and_serialized():
    optimizer = Bop(threshold=1e-6, gamma=1e-3)
    optimizer.gamma = 5e-4
    assert np.isclose(float(optimizer.gamma), 5e-4)
    config = optimizer.get_config()
    assert np.isclose(config["gamma"], 5e-4) and "learning_rate" not in config
    assert np.isclose(float(Bop.from_config(config).threshold), 1e-6)


def test_non_binary_variables_and_bad_hyperparameters_are_clear_errors():
    with pytest.raises(ValueError, match="binary variables only"):
        Bop().build([keras.Variable(np.ones(2, "float32"), name="bias")])
    with pytest.raises(TypeError, match="gamma must be a float or a schedule"):
        Bop(gamma="fast")
    with pytest.raises(ValueError, match="threshold must be >= 0"):
        Bop(threshold=-1.0)


def test_learning_rate_is_rejected_and_names_threshold_and_gamma():
    with pytest.raises(ValueError, match=r"Bop has no learning rate.*`threshold`.*`gamma`"):
        Bop(learning_rate=0.01)
