"""EvaluateAtBestValidation: test metrics are those of the epoch with the best validation metric."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from model_zoo.model_selection import EvaluateAtBestValidation
from model_zoo.train_lab_mlp import mnist


class RecordTestAccuracy(keras.callbacks.Callback):
    def __init__(self, x, y):
        super().__init__()
        self.x, self.y, self.accuracies = x, y, []

    def on_epoch_end(self, epoch, logs=None):
        result = self.model.evaluate(self.x, self.y, verbose=0, return_dict=True)
        self.accuracies.append(result["accuracy"])


def test_the_selected_epoch_is_the_last_best_validation_epoch_on_real_mnist():
    keras.utils.set_random_seed(0)
    x_train, y_train, x_test, y_test = mnist(limit=600)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10)])
    model.compile(keras.optimizers.SGD(0.05),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
    selector = EvaluateAtBestValidation(x_test, y_test, monitor="val_accuracy")
    recorder = RecordTestAccuracy(x_test, y_test)
    history = model.fit(x_train[:400], y_train[:400], validation_data=(x_train[400:],
                        y_train[400:]), epochs=6, batch_size=50, verbose=0,
                        callbacks=[selector, recorder])
    val = np.asarray(history.history["val_accuracy"])
    expected = len(val) - 1 - int(np.argmax(val[::-1]))  # ties: the later epoch
    assert selector.best_epoch == expected
    assert selector.best_value == pytest.approx(val[expected])
    assert selector.test_results["accuracy"] == pytest.approx(recorder.accuracies[expected])


def test_bad_arguments_and_missing_validation_data_are_named():
    with pytest.raises(ValueError, match="mode must be one of"):
        EvaluateAtBestValidation(None, None, mode="up")
    with pytest.raises(ValueError, match="must be a validation metric"):
        EvaluateAtBestValidation(None, None, monitor="accuracy")
    selector = EvaluateAtBestValidation(None, None)
    with pytest.raises(KeyError, match="pass validation_data to fit"):
        selector.on_epoch_end(0, {"accuracy": 0.5})
