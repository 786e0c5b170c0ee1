"""FlipRatio: logged per step and per epoch, equal to the sign changes it can observe."""

import keras
import numpy as np
import pytest

from keras_binary.metrics import FlipRatio
from tests.optimizers.helpers import binary_model, bop_adam, data


class SignRecorder(keras.callbacks.Callback):
    """Records the binary kernel's signs before and after every step, and the logged ratio."""

    def __init__(self):
        super().__init__()
        self.before, self.after, self.logged = [], [], []

    def on_train_batch_begin(self, batch, logs=None):
        self.before.append(self.model.get_layer("binary").kernel.numpy() >= 0)

    def on_train_batch_end(self, batch, logs=None):
        self.after.append(self.model.get_layer("binary").kernel.numpy() >= 0)
        self.logged.append(logs["flip_ratio"])


def test_flip_ratio_matches_observed_sign_changes():
    x, y = data()
    model = binary_model()
    model.compile(optimizer=bop_adam(), loss="mse")
    recorder = SignRecorder()
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0,
                        callbacks=[FlipRatio(), recorder])
    pairs = zip(recorder.before, recorder.after, strict=True)
    expected = [float(np.mean(a != b)) for a, b in pairs]
    np.testing.assert_allclose(recorder.logged, expected)
    assert max(expected) > 0  # Bop with gamma 0.05 flips weights
    np.testing.assert_allclose(history.history["flip_ratio"],
                               [np.mean(expected[:4]), np.mean(expected[4:])])


def test_model_without_binary_variables_is_a_clear_error():
    x, y = data(n=8)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="no binary variables"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[FlipRatio()])
