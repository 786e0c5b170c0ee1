"""A training run's directory: which run it holds, whether a new `train` may resume or must
refuse, and the random state that a bit-exact resumption needs.

`output_dir/run.json` records the run (model, recipe, `limit`, `seed`). `open_run_directory`
decides what a new run does there:

- nothing saved yet (no ``checkpoint.keras``, no ``backup/``): start;
- an interrupted run (``backup/`` left by `AtomicBackupAndRestore`) of the same run:
  resume after its last finished epoch;
- anything else (another model or recipe, a finished run, files of unknown origin): refuse with
  a FileExistsError, unless ``overwrite=True``, which deletes the previous run's
  ``checkpoint.keras``, ``backup/`` and ``logs/`` and starts afresh.

The backup itself (weights, optimizer state, epoch, seed-generator states) is written by
`keras_binary.checkpointing.AtomicBackupAndRestore`, one complete folder per epoch, so a run
killed at any instant resumes from its last finished epoch.

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

from keras_binary import atomic_io
from keras_binary.checkpointing import latest_backup

RUN_FILE = "run.json"
CHECKPOINT = "checkpoint.keras"
BACKUP = "backup"
LOGS = "logs"


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
    if not changed:
        return "it is this same run, already done"
    return "it differs: " + ", ".join(changed)


def completed_epochs(output_dir: str | os.PathLike) -> int:
    """Epochs finished by the interrupted run backed up in `output_dir` (0 when none).

    Args:
        output_dir: The run directory.

    Returns:
        The number of finished epochs.
    """
    latest = latest_backup(Path(output_dir) / BACKUP)
    return 0 if latest is None else latest[0]


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
    for name in (CHECKPOINT, BACKUP, RUN_FILE):  # left by a writer killed mid-write
        atomic_io.remove_stale_temporaries(directory / name)
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
    atomic_io.write_text(run_file, json.dumps(run, indent=1, sort_keys=True))
    return done
