"""Run directories: resume only the same interrupted run, never overwrite without being asked."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from keras_binary.checkpointing import AtomicBackupAndRestore, BackupError
from model_zoo.run_directory import completed_epochs, open_run_directory

RUN = {"model": "binarynet_mlp_2048", "recipe": {"epochs": 3, "decay_epochs": (1, 2)},
       "limit": 200, "seed": 1}


def _interrupted(directory, run=RUN, epoch=2):
    open_run_directory(directory, run)
    (directory / "checkpoint.keras").write_bytes(b"checkpoint")
    (directory / "backup" / f"epoch-{epoch:05d}").mkdir(parents=True)


def test_fresh_directory_is_created_and_records_the_run(tmp_path):
    directory = tmp_path / "new" / "run"
    assert open_run_directory(directory, RUN) == 0
    stored = json.loads((directory / "run.json").read_text())
    assert stored["recipe"]["decay_epochs"] == [1, 2] and stored["model"] == RUN["model"]


def test_same_interrupted_run_resumes_after_its_last_epoch(tmp_path):
    _interrupted(tmp_path, epoch=2)
    assert completed_epochs(tmp_path) == 2
    assert open_run_directory(tmp_path, RUN) == 2
    assert (tmp_path / "checkpoint.keras").read_bytes() == b"checkpoint"


def test_other_run_in_interrupted_directory_is_refused_naming_the_differences(tmp_path):
    _interrupted(tmp_path)
    other = {**RUN, "model": "lab_mlp", "recipe": {**RUN["recipe"], "epochs": 5}}
    with pytest.raises(FileExistsError) as error:
        open_run_directory(tmp_path, other)
    message = str(error.value)
    assert "interrupted run" in message and "--overwrite" in message
    assert "epochs 3 -> 5" in message and "model 'binarynet_mlp_2048' -> 'lab_mlp'" in message
    assert (tmp_path / "backup").is_dir() and json.loads((tmp_path / "run.json").read_text())[
        "model"] == "binarynet_mlp_2048"


def test_finished_run_is_refused_even_for_the_same_run(tmp_path):
    open_run_directory(tmp_path, RUN)
    (tmp_path / "checkpoint.keras").write_bytes(b"done")
    with pytest.raises(FileExistsError, match="finished run's checkpoint"):
        open_run_directory(tmp_path, RUN)
    assert (tmp_path / "checkpoint.keras").read_bytes() == b"done"


def test_unknown_checkpoint_is_refused(tmp_path):
    (tmp_path / "checkpoint.keras").write_bytes(b"someone's")
    with pytest.raises(FileExistsError, match="no readable run.json"):
        open_run_directory(tmp_path, RUN)


def test_overwrite_deletes_the_previous_run_only(tmp_path):
    _interrupted(tmp_path)
    (tmp_path / "logs").mkdir()
    (tmp_path / "notes.txt").write_text("mine")
    other = {**RUN, "seed": 2}
    assert open_run_directory(tmp_path, other, overwrite=True) == 0
    assert not (tmp_path / "checkpoint.keras").exists()
    assert not (tmp_path / "backup").exists() and not (tmp_path / "logs").exists()
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert json.loads((tmp_path / "run.json").read_text())["seed"] == 2


def test_a_file_is_not_a_run_directory(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="not a directory"):
        open_run_directory(tmp_path / "file", RUN)


def _dropout_model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dropout(0.5)])
    model.compile(loss="mse")
    return model


def test_backup_saves_and_restores_seed_states(tmp_path):
    model = _dropout_model()
    (state,) = [v for v in model.variables if "seed_generator_state" in v.name]
    saved = np.array([11, 5], dtype=np.array(keras.ops.convert_to_numpy(state)).dtype)
    state.assign(saved)
    callback = AtomicBackupAndRestore(tmp_path / "backup")
    callback.set_model(model)
    callback.on_epoch_end(3)
    assert completed_epochs(tmp_path) == 4

    fresh = _dropout_model()
    callback = AtomicBackupAndRestore(tmp_path / "backup")
    callback.set_model(fresh)
    callback.on_train_begin()
    (restored,) = [v for v in fresh.variables if "seed_generator_state" in v.name]
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(restored), saved)


def test_backup_refuses_another_models_state(tmp_path):
    callback = AtomicBackupAndRestore(tmp_path)
    callback.set_model(_dropout_model())
    callback.on_epoch_end(0)
    other = keras.Sequential([keras.Input((4,)), keras.layers.Dropout(0.5),
                              keras.layers.Dropout(0.5)])
    other.compile(loss="mse")
    callback.set_model(other)
    with pytest.raises(BackupError, match="another model"):
        callback.on_train_begin()


def test_same_finished_run_is_refused_saying_it_is_the_same_run(tmp_path):
    open_run_directory(tmp_path, RUN)
    (tmp_path / "checkpoint.keras").write_bytes(b"done")
    with pytest.raises(FileExistsError) as error:
        open_run_directory(tmp_path, RUN)
    assert "it is this same run, already done" in str(error.value)
    assert "differs" not in str(error.value)


def test_leftover_temporaries_of_killed_writes_are_removed(tmp_path):
    _interrupted(tmp_path, epoch=1)
    left = [tmp_path / ".tmp-0a1b2c3d-checkpoint.keras", tmp_path / ".tmp-0a1b2c3d-run.json"]
    for path in left:
        path.write_bytes(b"half")
    (tmp_path / ".tmp-0a1b2c3d-backup").mkdir()
    assert open_run_directory(tmp_path, RUN) == 1
    assert not any(path.exists() for path in left)
    assert not (tmp_path / ".tmp-0a1b2c3d-backup").exists()
    assert (tmp_path / "checkpoint.keras").read_bytes() == b"checkpoint"
