"""Processes preparing the same dataset at once take turns: the second finds it prepared."""

from __future__ import annotations

import subprocess
import sys
import time

from model_zoo.datasets.catalog import is_prepared
from model_zoo.datasets.prepare import _preparation_lock, _prepare_unlocked

# Imports first, then says so, then prepares: the parent knows when it is about to take the lock.
PREPARE = (
    "import sys; from model_zoo.datasets.prepare import prepare; "
    "print('ready', flush=True); prepare('mnist', sys.argv[1])"
)


def test_a_second_process_waits_for_the_first_and_does_not_prepare_again(tmp_path, mnist_tarball):
    with _preparation_lock(tmp_path, "mnist"):
        waiting = subprocess.Popen(
            [sys.executable, "-c", PREPARE, str(tmp_path)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert waiting.stdout.readline().strip() == "ready"
        time.sleep(3)  # from "ready" to the lock is one stat call; it must be waiting there
        assert waiting.poll() is None, waiting.communicate()
        _prepare_unlocked("mnist", tmp_path, cache_dir=None, install=None)  # as the holder
    _, stderr = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, stderr[-2000:]
    assert "Preparing mnist" not in stderr  # it found the dataset prepared once it got the lock
    assert is_prepared("mnist", tmp_path)
