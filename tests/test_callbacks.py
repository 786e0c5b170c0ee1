"""HyperparameterScheduler: per-epoch and per-step values reach the compiled step, logs."""

import keras
import numpy as np
import pytest

from keras_binary.callbacks import HyperparameterScheduler
from tests.optimizers.helpers import binary_model, bop_adam, data


def compiled_model():
    model = binary_model()
    model.compile(optimizer=bop_adam(), loss="mse")
    return model, model.optimizer.optimizers[0]


def test_epoch_schedule_sets_bop_gamma_and_logs_it():
    x, y = data(n=16)
    model, bop = compiled_model()
    scheduler = HyperparameterScheduler(lambda epoch: 0.1 / (epoch + 1), "gamma", bop)
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0, callbacks=[scheduler])
    np.testing.assert_allclose(history.history["gamma"], [0.1, 0.05, 0.1 / 3], rtol=1e-6)
    np.testing.assert_allclose(float(bop.gamma), 0.1 / 3, rtol=1e-6)


def test_step_schedule_changes_the_update_inside_the_compiled_step():
    # gamma = 0 from step 1 on: the momentum must stop changing after the first step.
    x, y = data(n=16)
    model, bop = compiled_model()
    bop_scheduler = HyperparameterScheduler(lambda step: 0.5 if step == 0 else 0.0, "gamma",
                                            bop, update_freq="step")
    model.fit(x, y, batch_size=8, epochs=1, steps_per_epoch=1, verbose=0, callbacks=[bop_scheduler])
    momentum_after_one = bop.variables[-1].numpy().copy()
    assert np.abs(momentum_after_one).sum() > 0
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[bop_scheduler])
    np.testing.assert_array_equal(bop.variables[-1].numpy(), momentum_after_one)
    assert float(bop.gamma) == 0.0


def test_learning_rate_of_the_default_optimizer_can_be_scheduled():
    x, y = data(n=16)
    model, _ = compiled_model()
    adam = model.optimizer.optimizers[1]
    scheduler = HyperparameterScheduler(lambda e: 0.001 * (e + 1), "learning_rate", adam)
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[scheduler])
    np.testing.assert_allclose(history.history["learning_rate"], [0.001, 0.002], rtol=1e-6)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="update_freq"):
        HyperparameterScheduler(lambda e: 1.0, "gamma", update_freq="batch")
    with pytest.raises(TypeError, match="schedule"):
        HyperparameterScheduler(0.1, "gamma")
    x, y = data(n=8)
    model = binary_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss="mse")
    for name, match in (("gamma", "no hyperparameter"), ("beta_1", "Python number")):
        with pytest.raises(ValueError, match=match):
            model.fit(x, y, epochs=1, verbose=0,
                      callbacks=[HyperparameterScheduler(lambda e: 0.5, name)])
