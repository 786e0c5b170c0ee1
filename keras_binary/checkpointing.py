"""Checkpoint and resume callbacks that survive a kill at any instant.

Keras's `ModelCheckpoint` and `BackupAndRestore` write their files in place: a process killed
while writing leaves a truncated `.keras` file (the previous checkpoint is gone) or a broken
`latest.weights.h5` that every later `fit` fails to load. These wrap them:

- `AtomicModelCheckpoint`: `ModelCheckpoint` writing to a temporary file in the same folder,
  moved onto the checkpoint with `os.replace` (`keras_binary.atomic_io`).
- `AtomicBackupAndRestore`: `BackupAndRestore` whose backup of each epoch (weights, optimizer
  state, epoch number and the model's seed-generator states, e.g. dropout, which Keras's callback
  does not restore) is written to a staging folder and renamed into ``backup_dir/epoch-<N>``
  only when complete; resuming uses the newest complete one.

On JAX, a model whose variables are split across processes (`keras_binary.model_parallel` over
several workers) cannot be saved by Keras itself: both callbacks then save a
`keras_binary.host_copy.HostCopy` holding the gathered values (the same file), which makes
saving collective: every worker runs the callbacks (the chief's write the run's files, the
others' a scratch folder of their own). Resuming assigns the saved values, which JAX splits again.

Example:

>>> import keras, tempfile
>>> folder = tempfile.mkdtemp()
>>> callbacks = [AtomicModelCheckpoint(folder + "/model.keras"),
...              AtomicBackupAndRestore(folder + "/backup")]
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_binary import atomic_io
from keras_binary.host_copy import HostCopy, split_across_processes

EPOCH_DIR = re.compile(r"epoch-(\d+)")
RANDOM_STATE = "random_state.npz"
LEGACY_WEIGHTS = "latest.weights.h5"  # Keras's BackupAndRestore file, also its layout's marker


class BackupError(ValueError):
    """A training backup is damaged or belongs to another model; `reason` says what is wrong."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message


class AtomicModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """`keras.callbacks.ModelCheckpoint` that replaces its file atomically.

    When the model's variables are split across processes it saves a gathered copy
    (`keras_binary.host_copy`), at each epoch's end only.

    Args:
        filepath: the checkpoint file (`.keras` or `.weights.h5`); a fixed name, without
            `{epoch}`-style fields.
        **kwargs: `ModelCheckpoint`'s other arguments.

    Raises:
        ValueError: at `fit`'s start, for a `save_freq` in batches while the model is split
            across processes.

    Example:

    >>> checkpoint = AtomicModelCheckpoint("/tmp/run/model.keras")
    """

    def __init__(self, filepath: str | os.PathLike, **kwargs: Any) -> None:
        filepath = os.fspath(filepath)
        if "{" in filepath:
            raise ValueError(f"AtomicModelCheckpoint wants a fixed file name, got {filepath!r}")
        self.target = Path(filepath)
        self.host_copy: HostCopy | None = None
        super().__init__(os.fspath(atomic_io.temporary_path(self.target)), **kwargs)

    def _commit(self) -> None:
        if os.path.exists(self.filepath):
            atomic_io.commit(self.filepath, self.target)

    def on_train_begin(self, logs: dict | None = None) -> None:
        atomic_io.remove_stale_temporaries(self.target)
        super().on_train_begin(logs)
        self.host_copy = HostCopy(self.model) if split_across_processes(self.model) else None
        if self.host_copy is not None and self.save_freq != "epoch":
            # Gathering is collective, and a batch-wise save is decided by each worker alone.
            raise ValueError(f"save_freq={self.save_freq!r} cannot checkpoint a model split "
                             "across processes: use save_freq='epoch'")

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        super().on_train_batch_end(batch, logs)
        self._commit()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.host_copy is None:
            super().on_epoch_end(epoch, logs)
        else:
            model = self.model
            self.set_model(self.host_copy.refresh(model))  # Keras writes the gathered copy
            try:
                super().on_epoch_end(epoch, logs)
            finally:
                self.set_model(model)
        self._commit()


def _epoch_dirs(backup_dir: Path) -> list[tuple[int, Path]]:
    if not backup_dir.is_dir():
        return []
    found = [(int(match.group(1)), entry) for entry in backup_dir.iterdir()
             if entry.is_dir() and (match := EPOCH_DIR.fullmatch(entry.name))]
    return sorted(found)


def latest_backup(backup_dir: str | os.PathLike) -> tuple[int, Path] | None:
    """The newest complete backup in `backup_dir` as (epochs done, folder), or None.

    A backup written by Keras's own `BackupAndRestore` (files directly in `backup_dir`) counts
    too; its epoch comes from its ``training_metadata.json`` (0 when unreadable).
    """
    backup_dir = Path(backup_dir)
    found = _epoch_dirs(backup_dir)
    if found:
        return found[-1]
    if (backup_dir / LEGACY_WEIGHTS).exists():
        try:
            epoch = int(json.loads((backup_dir / "training_metadata.json").read_text())["epoch"])
        except (OSError, ValueError, KeyError, TypeError):
            epoch = 0
        return epoch, backup_dir
    return None


def _seed_states(model: keras.Model) -> list[Any]:
    weights = {id(variable) for variable in model.weights}
    return [variable for variable in model.variables if id(variable) not in weights]


class AtomicBackupAndRestore(keras.callbacks.Callback):
    """`keras.callbacks.BackupAndRestore` whose backups survive a kill at any instant.

    Each epoch's backup is written by `BackupAndRestore` into a staging folder, completed with
    the model's seed-generator states (`random_state.npz`), fsynced, and renamed to
    ``backup_dir/epoch-<N>``; older ones are then deleted. `fit` resumes from the newest
    complete backup. When `fit` finishes, `backup_dir` is deleted (renamed away first, so a kill
    during the deletion leaves no half-deleted backup).

    With `restore_dir`, `fit` resumes from the newest backup there instead: the other workers
    of a multi-process run (`keras_binary.distributed`) resume from the chief's backups while
    writing their own to a scratch folder (saving is a collective operation on JAX, so every
    worker must save). A model split across processes is saved through a gathered copy
    (`keras_binary.host_copy`) and restored by assignment, which splits the values again.

    Args:
        backup_dir: the folder of the backups (only this callback should write there).
        delete_checkpoint: delete `backup_dir` when `fit` finishes.
        restore_dir: the folder to resume from; None is `backup_dir`.

    Raises:
        BackupError: at `fit`'s start, when the newest backup is damaged (e.g. left by Keras's
            own callback killed mid-write) or holds another model's random states.

    Example:

    >>> backup = AtomicBackupAndRestore("/tmp/run/backup")
    """

    def __init__(self, backup_dir: str | os.PathLike, delete_checkpoint: bool = True,
                 restore_dir: str | os.PathLike | None = None) -> None:
        super().__init__()
        self.backup_dir = Path(backup_dir)
        self.delete_checkpoint = delete_checkpoint
        self.restore_dir = self.backup_dir if restore_dir is None else Path(restore_dir)
        self.host_copy: HostCopy | None = None

    def _keras_callback(self, folder: Path,
                        model: keras.Model | None = None) -> keras.callbacks.BackupAndRestore:
        callback = keras.callbacks.BackupAndRestore(os.fspath(folder), delete_checkpoint=False)
        callback.set_model(self.model if model is None else model)
        return callback

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.host_copy = HostCopy(self.model) if split_across_processes(self.model) else None
        if self.backup_dir.is_dir():
            for leftover in self.backup_dir.glob(f"{atomic_io.TMP_PREFIX}*"):
                shutil.rmtree(leftover, ignore_errors=True)
        elif self.delete_checkpoint:
            # An empty backup marks a run in progress before its first epoch ends: a kill
            # then leaves it, so the run counts as interrupted, never as finished.
            self.backup_dir.mkdir(parents=True)
            atomic_io.fsync_path(self.backup_dir.parent)
        latest = latest_backup(self.restore_dir)
        if latest is None:
            return
        folder = latest[1]
        try:
            self._keras_callback(folder).on_train_begin(logs)
        except (OSError, ValueError, KeyError) as error:
            reason = str(error).splitlines()[0] if str(error) else "unreadable"
            raise BackupError(
                f"the backup in {folder} cannot be restored ({type(error).__name__}: {reason}): "
                f"it is damaged or of another model; delete {self.restore_dir} to train afresh",
                reason=reason,
            ) from error
        self._restore_seed_states(folder / RANDOM_STATE)

    def _restore_seed_states(self, path: Path) -> None:
        if not path.is_file():
            return
        states = _seed_states(self.model)
        with np.load(path, allow_pickle=False) as stored:
            names = [name for name in stored.files if name.startswith("s")]
            if len(names) != len(states):
                raise BackupError(
                    f"{path} holds {len(names)} random states but the model has {len(states)}: "
                    f"the backup belongs to another model; delete {self.restore_dir} to train "
                    "afresh", reason="it belongs to another model"
                )
            for index, variable in enumerate(states):
                variable.assign(stored[f"s{index}"])

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.backup_dir.mkdir(parents=True, exist_ok=True)
        staging = self.backup_dir / f"{atomic_io.TMP_PREFIX}{secrets.token_hex(4)}-epoch"
        model = self.model if self.host_copy is None else self.host_copy.refresh(self.model)
        self._keras_callback(staging, model).on_epoch_end(epoch, logs)
        states = {f"s{i}": keras.ops.convert_to_numpy(v)
                  for i, v in enumerate(_seed_states(model))}
        with open(staging / RANDOM_STATE, "wb") as handle:
            np.savez(handle, epoch=np.int64(epoch + 1), **states)
        for entry in staging.iterdir():
            atomic_io.fsync_path(entry)
        atomic_io.fsync_path(staging)
        target = self.backup_dir / f"epoch-{epoch + 1:05d}"
        shutil.rmtree(target, ignore_errors=True)  # a backup of this epoch from a replayed run
        os.rename(staging, target)
        atomic_io.fsync_path(self.backup_dir)
        for number, older in _epoch_dirs(self.backup_dir):
            if number < epoch + 1:
                shutil.rmtree(older, ignore_errors=True)
        for name in (LEGACY_WEIGHTS, "training_metadata.json", RANDOM_STATE):
            (self.backup_dir / name).unlink(missing_ok=True)  # an older layout's files

    def on_train_end(self, logs: dict | None = None) -> None:
        if not self.delete_checkpoint or not self.backup_dir.exists():
            return
        doomed = atomic_io.temporary_path(self.backup_dir)
        os.rename(self.backup_dir, doomed)
        atomic_io.fsync_path(doomed.parent)
        shutil.rmtree(doomed, ignore_errors=True)
