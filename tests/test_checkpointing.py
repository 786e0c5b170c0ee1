"""Atomic checkpoint and backup callbacks: complete files only, resumable, damage named."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest

from keras_binary import atomic_io
from keras_binary.checkpointing import (
    AtomicBackupAndRestore,
    AtomicModelCheckpoint,
    BackupError,
    latest_backup,
)


def _model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2),
                              keras.layers.Dropout(0.3, seed=1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(8, 3)).astype("float32"), rng.normal(size=(8, 2)).astype("float32")


class Stop(Exception):
    pass


class StopAfterEpoch(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise Stop


def test_checkpoint_is_replaced_whole_and_stale_temporaries_are_removed(tmp_path):
    path = tmp_path / "model.keras"
    stale = atomic_io.temporary_path(path)
    stale.write_bytes(b"left by a killed writer")
    _model().fit(*_data(), epochs=2, verbose=0, callbacks=[AtomicModelCheckpoint(path)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]
    assert keras.saving.load_model(path).count_params() == 8


def test_checkpoint_wants_a_fixed_file_name(tmp_path):
    with pytest.raises(ValueError, match="fixed file name"):
        AtomicModelCheckpoint(tmp_path / "model-{epoch}.keras")


def test_backup_resumes_after_the_last_complete_epoch_with_the_same_state(tmp_path):
    x, y = _data()
    keras.utils.set_random_seed(1)
    reference = _model()
    reference.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)

    keras.utils.set_random_seed(1)
    backup = tmp_path / "backup"
    with pytest.raises(Stop):
        _model().fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0,
                     callbacks=[AtomicBackupAndRestore(backup), StopAfterEpoch(1)])
    assert latest_backup(backup)[0] == 2
    assert sorted(p.name for p in backup.iterdir()) == ["epoch-00002"]  # older ones deleted
    atomic_io.temporary_path(backup / "epoch").mkdir()  # a staging folder of a killed run
    resumed = _model()  # fresh weights: all state comes from the backup
    history = resumed.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0,
                          callbacks=[AtomicBackupAndRestore(backup)])
    assert history.epoch == [2] and not backup.exists()
    for got, want in zip(resumed.weights, reference.weights, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(got),
                                      keras.ops.convert_to_numpy(want))


def test_damaged_backup_of_keras_own_callback_is_one_line_naming_the_fix(tmp_path):
    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / "latest.weights.h5").write_bytes(b"\x89HDF\r\n")  # killed mid-write
    (backup / "training_metadata.json").write_text('{"epoch": 2, "batch": 0}')
    with pytest.raises(BackupError) as error:
        _model().fit(*_data(), epochs=3, verbose=0, callbacks=[AtomicBackupAndRestore(backup)])
    message = str(error.value)
    assert "\n" not in message and "latest.weights.h5" not in message
    assert f"the backup in {backup} cannot be restored" in message
    assert f"delete {backup} to train afresh" in message


def test_zoo_train_on_a_damaged_backup_says_to_pass_overwrite(tmp_path, capsys):
    from model_zoo import datasets
    from model_zoo.cli import main
    from model_zoo.recipes import get_recipe
    from model_zoo.run_directory import open_run_directory

    datasets.prepare("mnist")
    recipe = get_recipe("binarynet_mlp_2048", "mnist", epochs=2)
    open_run_directory(tmp_path, {"model": "binarynet_mlp_2048",
                                  "recipe": dataclasses.asdict(recipe), "limit": 100,
                                  "seed": None})
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "latest.weights.h5").write_bytes(b"\x89HDF\r\n")
    assert main(["train", "binarynet_mlp_2048", "--dataset", "mnist", "--epochs", "2",
                 "--limit", "100", "--output-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{tmp_path / 'backup'} cannot be resumed" in err
    assert "pass --overwrite to delete this run and start afresh" in err


def test_backup_with_restore_dir_resumes_from_there_and_writes_only_its_own(tmp_path):
    x, y = _data()
    keras.utils.set_random_seed(1)
    chief = tmp_path / "chief"
    with pytest.raises(Stop):
        _model().fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0,
                     callbacks=[AtomicBackupAndRestore(chief), StopAfterEpoch(0)])
    stored = sorted(p.name for p in chief.iterdir())
    scratch = tmp_path / "worker"
    history = _model().fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0,
                           callbacks=[AtomicBackupAndRestore(scratch, restore_dir=chief)])
    assert history.epoch == [1, 2]  # resumed from the chief's first epoch
    assert sorted(p.name for p in chief.iterdir()) == stored  # the chief's backup untouched
    assert not scratch.exists()  # its own backups were written, then deleted at the end
