"""A training run interrupted after its first epoch resumes there, from exactly the state an
uninterrupted run with the same seed has at that point (tiny real MNIST slice), for each
optimizer recipe: Adam (BinaryNet MLP), Bop + Adam (BinaryNet MLP) and LAB (LAB MLP).

Final weights are not compared: the data order of the resumed epochs is not replayed (see
`model_zoo.training`), so they differ by design.
"""

from __future__ import annotations

import re
import warnings

import keras
import numpy as np
import pytest

from model_zoo import datasets
from model_zoo.training import train

COMMON = {"dataset": "mnist", "epochs": 2, "limit": 200, "seed": 7, "verbose": 0}
RUNS = {
    "adam": {"model_name": "binarynet_mlp_2048", "optimizer": "adam"},
    "bop": {"model_name": "binarynet_mlp_2048", "optimizer": "bop"},
    "lab": {"model_name": "lab_mlp", "optimizer": "lab"},
}


class Interrupt(Exception):
    pass


class InterruptAtEpoch(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            raise Interrupt("interrupted before epoch 1")


class StateAtEpochBegin(keras.callbacks.Callback):
    """Records the epochs begun and, at each, all model and optimizer state."""

    def __init__(self) -> None:
        super().__init__()
        self.states: dict[int, dict[str, np.ndarray]] = {}

    def on_epoch_begin(self, epoch, logs=None):
        variables = [*self.model.variables, *self.model.optimizer.variables]
        # Auto-numbered names (a quantizer's "_8") differ between model instances.
        self.states[epoch] = {f"{i}:{re.sub(r'_[0-9]+', '', v.name)}":
                              np.array(keras.ops.convert_to_numpy(v))
                              for i, v in enumerate(variables)}


@pytest.mark.parametrize("run", sorted(RUNS))
def test_interrupted_run_resumes_at_the_next_epoch_from_the_same_state(run, tmp_path):
    datasets.prepare("mnist")
    args = {**COMMON, **RUNS[run]}
    full = StateAtEpochBegin()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train(**args, output_dir=tmp_path / "full", extra_callbacks=[full])
    # The tf.data pipeline shuffles; fit's own shuffle=True would be ignored with a warning.
    assert not [w for w in caught if "shuffle" in str(w.message)]
    uninterrupted = full.states
    tmp_path = tmp_path / "interrupted"
    with pytest.raises(Interrupt):
        train(**args, output_dir=tmp_path, extra_callbacks=[InterruptAtEpoch()])
    assert (tmp_path / "backup").is_dir() and (tmp_path / "checkpoint.keras").is_file()

    log = StateAtEpochBegin()
    model, history = train(**args, output_dir=tmp_path, extra_callbacks=[log])
    assert list(log.states) == [1] and history.epoch == [1]  # epoch 0 is not trained again
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 2 * 2  # 200/100 a epoch
    assert not (tmp_path / "backup").exists()  # a finished run leaves no backup
    resumed, expected = log.states[1], uninterrupted[1]
    assert list(resumed) == list(expected)
    if run != "lab":  # the BinaryNet MLP has dropout: its seeds are compared too
        assert any("seed_generator_state" in name for name in resumed)
    for name, value in expected.items():
        np.testing.assert_array_equal(resumed[name], value, err_msg=name)

