"""`keras_binary.host_copy`: the copy saved in place of a model split across processes holds the
model's values and optimizer state, and writes a file that loads as the model. Across processes
it is exercised by tests/model_zoo/test_model_parallel.py."""

from __future__ import annotations

import json
import random

import keras
import numpy as np
import pytest

from keras_binary import checkpointing
from keras_binary.checkpointing import AtomicModelCheckpoint
from keras_binary.host_copy import HostCopy, gather, split_across_processes


def _trained():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, name="hidden"),
                              keras.layers.Dropout(0.3), keras.layers.Dense(2, name="out")])
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    model.fit(x, x[:, :2], epochs=2, batch_size=4, verbose=0)
    return model


def _numpy(variables):
    return [keras.ops.convert_to_numpy(v) for v in variables]


def test_the_copy_holds_the_model_and_optimizer_state_and_saves_as_the_model(tmp_path):
    model = _trained()
    assert not split_across_processes(model)  # one process: Keras saves it itself
    state = random.getstate()
    copy = HostCopy(model).refresh(model)
    assert random.getstate() == state  # building the copy drew no seed
    assert copy is not model
    for name, variables in (("weights", lambda m: m.variables),
                            ("optimizer", lambda m: m.optimizer.variables)):
        for a, b in zip(_numpy(variables(model)), _numpy(variables(copy)), strict=True):
            np.testing.assert_array_equal(a, b, err_msg=name)
    model.save(tmp_path / "model.keras")
    copy.save(tmp_path / "copy.keras")
    own, loaded = (keras.saving.load_model(tmp_path / name) for name in ("model.keras",
                                                                         "copy.keras"))
    assert json.dumps(loaded.get_config(), default=str) == json.dumps(own.get_config(),
                                                                      default=str)
    for a, b in zip(_numpy([*own.weights, *own.optimizer.variables]),  # Keras saves no seeds
                    _numpy([*loaded.weights, *loaded.optimizer.variables]), strict=True):
        np.testing.assert_array_equal(a, b)
    assert [a.shape for a in gather([v.value for v in model.weights])] == [
        tuple(v.shape) for v in model.weights]


def test_a_batch_wise_checkpoint_of_a_split_model_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpointing, "split_across_processes", lambda model: True)
    model = _trained()
    checkpoint = AtomicModelCheckpoint(tmp_path / "model.keras", save_freq=2)
    checkpoint.set_model(model)
    with pytest.raises(ValueError, match="save_freq=2 cannot checkpoint a model split across "
                                         "processes: use save_freq='epoch'"):
        checkpoint.on_train_begin()
