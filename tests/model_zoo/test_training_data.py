"""`train` feeds `fit` one endless iterator per split, read one pass per epoch (tiny real MNIST
slice): Keras would otherwise replace both iterators every epoch, and TensorFlow tears a
half-read pipeline down slowly and drops tfds's in-memory cache with it. The trained model then
predicts as Keras compiles a model by default (training may use XLA where inference would not)."""

from __future__ import annotations

import keras
import numpy as np

from model_zoo import datasets
from model_zoo.training import train


class StepsPerEpoch(keras.callbacks.Callback):
    """Counts the optimizer steps of each epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[int] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.steps.append(0)

    def on_train_batch_end(self, batch, logs=None):
        self.steps[-1] += 1


def test_each_epoch_reads_one_pass_of_an_endless_dataset(tmp_path, monkeypatch):
    datasets.prepare("mnist")
    calls = []
    fit = keras.Model.fit

    def recording_fit(self, data, **kwargs):
        calls.append((data, kwargs))
        return fit(self, data, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", recording_fit)
    steps = StepsPerEpoch()
    model, history = train("lab_mlp", "mnist", epochs=2, limit=300, batch_size=100,
                           seed=3, verbose=0, output_dir=tmp_path, extra_callbacks=[steps],
                           model_options={"hidden_units": 64})
    (data, kwargs), = calls
    assert int(data.cardinality()) == -1  # tf.data.INFINITE_CARDINALITY
    assert int(kwargs["validation_data"].cardinality()) == -1
    assert kwargs["steps_per_epoch"] == 3 and kwargs["validation_steps"] == 3
    assert steps.steps == [3, 3] and history.epoch == [0, 1]
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 6
    assert np.isfinite(history.history["val_loss"]).all()
    # Trained with XLA where it helps, the model predicts as a freshly compiled one does.
    fresh = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    fresh.compile(loss="mse")
    assert model.jit_compile == fresh.jit_compile
