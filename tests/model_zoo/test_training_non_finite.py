"""Zoo training stops with a one-line error naming the layer whose state went non-finite."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from model_zoo import datasets
from model_zoo.training import train

COMMON = {"model_name": "binarynet_mlp_2048", "dataset": "mnist", "epochs": 2, "limit": 64,
          "seed": 3, "verbose": 0}


class PoisonBatchNorm(keras.callbacks.Callback):
    """Sets the first BatchNorm's moving variance to NaN after the first batch."""

    def on_train_batch_end(self, batch, logs=None):
        if batch == 0:
            bn = [la for la in self.model.layers
                  if isinstance(la, keras.layers.BatchNormalization)][0]
            bn.moving_variance.assign(np.full(bn.moving_variance.shape, np.nan, "float32"))
            self.name = bn.name


def test_training_stops_and_names_the_layer(tmp_path):
    datasets.prepare("mnist")
    poison = PoisonBatchNorm()
    with pytest.raises(ValueError) as error:
        train(**COMMON, output_dir=tmp_path / "run", extra_callbacks=[poison])
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("TerminateOnNonFinite: stopped training at end of epoch 1: "
                              f"layer {poison.name!r}: statistic 'moving_variance' is non-finite")


def test_training_goes_on_when_the_check_is_off(tmp_path):
    datasets.prepare("mnist")
    _, history = train(**{**COMMON, "epochs": 1}, output_dir=tmp_path / "run",
                       extra_callbacks=[PoisonBatchNorm()], stop_on_non_finite=False)
    assert np.isfinite(history.history["loss"]).all()  # the NaN sits in a statistic only
