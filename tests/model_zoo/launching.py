"""Starting two workers of a test on 127.0.0.1 under `model_zoo.launch`, bounded in time."""

from __future__ import annotations

import os
from pathlib import Path

import keras

from model_zoo.launch import launch

ROOT = Path(__file__).resolve().parents[2]
LAUNCH_TIMEOUT_S = 400  # a bound on each launch: a hang fails the test instead of CI
PEER_TIMEOUT_S = 20
SIGKILL_STATUS = 128 + 9


def worker_env(**extra: str) -> dict[str, str]:
    """This process's environment and backend, with the repository on the path, and `extra`."""
    return {**os.environ, "KERAS_BACKEND": keras.backend.backend(), "PYTHONPATH": os.pathsep.join(
        filter(None, [os.fspath(ROOT), os.environ.get("PYTHONPATH")])), **extra}


def launch_two(command: list[str], grace_s: float = PEER_TIMEOUT_S, **extra_env: str) -> int:
    """Runs `command` as two workers; returns `launch`'s exit status."""
    return launch(2, command, timeout_s=LAUNCH_TIMEOUT_S, grace_s=grace_s,
                  worker_timeout_s=PEER_TIMEOUT_S, env=worker_env(**extra_env))
