"""Train, save (.keras), load, continue == an uninterrupted run: weights and optimizer state."""

import keras
import numpy as np
import pytest

from tests.backend_options import JIT_COMPILE
from tests.optimizers.helpers import data, model_for, optimizer_for


def fit(model, x, y, epochs):
    model.fit(x, y, batch_size=8, epochs=epochs, shuffle=False, verbose=0)


@pytest.mark.parametrize("kind", ["bop", "lab"])
def test_save_load_continue_equals_uninterrupted(kind, tmp_path):
    x, y = data(n=16)
    reference = model_for(kind)
    reference.compile(optimizer=optimizer_for(kind), loss="mse", jit_compile=JIT_COMPILE)
    fit(reference, x, y, epochs=2)

    first = model_for(kind)
    first.compile(optimizer=optimizer_for(kind), loss="mse", jit_compile=JIT_COMPILE)
    fit(first, x, y, epochs=1)
    path = tmp_path / f"{kind}.keras"
    first.save(path)
    resumed = keras.models.load_model(path)
    assert type(resumed.optimizer) is type(first.optimizer)
    for saved, loaded in zip(first.optimizer.variables, resumed.optimizer.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(loaded), np.asarray(saved))  # moments, step
    fit(resumed, x, y, epochs=1)

    assert int(resumed.optimizer.iterations) == int(reference.optimizer.iterations) == 4
    for a, b in zip(reference.weights, resumed.weights, strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-5, atol=1e-6)
    for a, b in zip(reference.optimizer.variables, resumed.optimizer.variables, strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(resumed.predict(x, verbose=0), reference.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)
