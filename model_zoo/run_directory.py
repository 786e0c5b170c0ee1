"""A training run's directory: which run it holds, whether a new `train` may resume or must
refuse, and the random state that a bit-exact resumption needs.

`output_dir/run.json` records the run (model, recipe, `limit`, `seed`). `open_run_directory`
decides what a new run does there:

- nothing saved yet (no ``checkpoint.keras``, no ``backup/``): start;
- an interrupted run (``backup/`` left by `keras.callbacks.BackupAndRestore`) of the same run:
  resume after its last finished epoch;
- anything else (another model or recipe, a finished run, files of unknown origin): refuse with
  a FileExistsError, unless ``overwrite=True``, which deletes the previous run's
  ``checkpoint.keras``, ``backup/`` and ``logs/`` and starts afresh.

`RandomStateBackup` saves the models's seed-generator states (dropout masks) next to the backup
each epoch and restores them on resume: `BackupAndRestore` restores weights and optimizer only.

Example:

>>> import tempfile
>>> run = {"model": "tiny", "recipe": {"epochs": 2}, "limit": None, "seed": 1}
>>> directory = tempfile.mkdtemp()
>>> open_run_directory(directory, run)  # a fresh run: 0 epochs done
0
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import keras
import numpy as np

RUN_FILE = "run.json"
CHECKPOINT = "checkpoint.keras"
BACKUP = "backup"
LOGS = "logs"
RANDOM_STATE = "random_state.npz"


def _read_run(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _flat(run: dict[str, Any]) -> dict[str, Any]:
    return {**run.get("recipe", {}), **{k: v for k, v in run.items() if k != "recipe"}}


def _differences(previous: dict[str, Any] | None, run: dict[str, Any]) -> str:
    if previous is None:
        return f"it has no readable {RUN_FILE}, so its run is unknown"
    flat_old, flat_new = _flat(previous), _flat(run)
    changed = [f"{key} {flat_old.get(key)!r} -> {flat_new.get(key)!r}"
               for key in sorted(set(flat_old) | set(flat_new))
               if flat_old.get(key) != flat_new.get(key)]
    return "it differs: " + ", ".join(changed)


def completed_epochs(output_dir: str | os.PathLike) -> int:
    """Epochs finished by the interrupted run backed up in `output_dir` (0 when none).

    Args:
        output_dir: The run directory.

    Returns:
        The number of finished epochs.
    """
    path = Path(output_dir) / BACKUP / RANDOM_STATE
    if not path.is_file():
        return 0
    with np.load(path, allow_pickle=False) as stored:
        return int(stored["epoch"])


def open_run_directory(
    output_dir: str | os.PathLike, run: dict[str, Any], overwrite: bool = False
) -> int:
    """Checks that `run` (a JSON-able description) may train in `output_dir`, records it there
    and returns the number of epochs already done (see the module docstring for the rules).

    Args:
        output_dir: The run directory (created if missing).
        run: The run's description (model, recipe, limit, seed).
        overwrite: Whether to start afresh over another or a finished run.

    Returns:
        The number of epochs already done.

    Raises:
        FileExistsError: the directory holds another or a finished run and `overwrite` is False.
        NotADirectoryError: `output_dir` exists and is not a directory.
    """
    directory = Path(output_dir)
    if directory.exists() and not directory.is_dir():
        raise NotADirectoryError(f"output_dir {directory} exists and is not a directory")
    run = json.loads(json.dumps(run))  # tuples -> lists, as stored
    run_file = directory / RUN_FILE
    previous = _read_run(run_file) if run_file.exists() else None
    checkpoint, backup = directory / CHECKPOINT, directory / BACKUP
    done = 0
    if backup.exists() and previous == run:
        done = completed_epochs(directory)
    elif checkpoint.exists() or backup.exists():
        state = "an interrupted run" if backup.exists() else "a finished run's checkpoint"
        if not overwrite:
            raise FileExistsError(
                f"{directory} holds {state} that this run may not continue: "
                f"{_differences(previous, run)}. Choose another output directory, or pass "
                "overwrite=True (CLI: --overwrite) to delete it and start afresh."
            )
        checkpoint.unlink(missing_ok=True)
        for name in (BACKUP, LOGS):
            shutil.rmtree(directory / name, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)
    run_file.write_text(json.dumps(run, indent=1, sort_keys=True))
    return done


class RandomStateBackup(keras.callbacks.Callback):
    """Saves the epoch and the model's seed-generator states (e.g. dropout) to
    `backup_dir/random_state.npz` after each epoch; restores the states when training begins.

    Put it after `keras.callbacks.BackupAndRestore(backup_dir)`, which deletes the directory
    when `fit` finishes.

    Args:
        backup_dir: The `BackupAndRestore` directory.
    """

    def __init__(self, backup_dir: str | os.PathLike) -> None:
        super().__init__()
        self.path = Path(backup_dir) / RANDOM_STATE

    def _states(self) -> list[Any]:
        weights = {id(variable) for variable in self.model.weights}
        return [v for v in self.model.variables if id(v) not in weights]

    def on_train_begin(self, logs: dict | None = None) -> None:
        if not self.path.is_file():
            return
        states = self._states()
        with np.load(self.path, allow_pickle=False) as stored:
            if len(stored.files) - 1 != len(states):
                raise ValueError(
                    f"{self.path} holds {len(stored.files) - 1} random states but the model has "
                    f"{len(states)}: it belongs to another model"
                )
            for index, variable in enumerate(states):
                variable.assign(stored[f"s{index}"])

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        arrays = {f"s{i}": keras.ops.convert_to_numpy(v) for i, v in enumerate(self._states())}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".partial")
        with open(partial, "wb") as handle:
            np.savez(handle, epoch=np.int64(epoch + 1), **arrays)
        os.replace(partial, self.path)
