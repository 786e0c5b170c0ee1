"""Kills training processes with SIGKILL at random instants and resumes them each time.

Run by `test_kill_resume.py` as ``python kill_resume_worker.py ROOT KILLS SEED``. It imports
Keras once, then forks one child per training attempt (so an attempt costs no import time), and
never computes anything itself (forking after a backend has started threads is unsafe). Each
child trains a tiny model with the zoo's checkpoint callbacks (`model_zoo.training.callbacks`)
in a run directory; every fsync is slowed so that many kills land inside the writes. Writes:

- ``ROOT/warm-up``, ``ROOT/reference``: two uninterrupted runs;
- ``ROOT/chain-<i>``: runs killed and resumed until one finishes, until KILLS kills were made;

and prints one JSON line: kills, kills that left a temporary file (inside a write), chains.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import time
from pathlib import Path

import keras
import numpy as np

from keras_binary.layers import QuantDense
from model_zoo.run_directory import open_run_directory
from model_zoo.training import callbacks

EPOCHS = 3
RUN = {"model": "kill-resume-tiny", "recipe": {"epochs": EPOCHS}, "limit": None, "seed": 3}
SLOW_FSYNC_S = 0.02  # widens the write windows so random kills land inside them
MAX_TRIES_PER_CHAIN = 40  # then the chain's run is left to finish


def _train(directory: Path) -> None:
    real_fsync = os.fsync

    def slow_fsync(descriptor: int) -> None:
        time.sleep(SLOW_FSYNC_S)
        real_fsync(descriptor)

    os.fsync = slow_fsync
    open_run_directory(directory, RUN)
    seed = RUN["seed"]  # per layer: keras.utils.set_random_seed would import TensorFlow
    model = keras.Sequential([
        keras.Input((16,)),
        QuantDense(32, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                   kernel_constraint="weight_clip",
                   kernel_initializer=keras.initializers.GlorotUniform(seed)),
        keras.layers.Dropout(0.2, seed=seed),
        keras.layers.Dense(4, kernel_initializer=keras.initializers.GlorotUniform(seed + 1)),
    ])
    # TensorFlow runs eagerly (no tracing per child); JAX compiles, cached across children.
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  run_eagerly=keras.backend.backend() == "tensorflow",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 16)).astype("float32")
    y = rng.integers(0, 4, size=64)
    keep = [c for c in callbacks(directory) if not isinstance(c, keras.callbacks.TensorBoard)]
    model.fit(x, y, batch_size=16, epochs=EPOCHS, shuffle=False, callbacks=keep, verbose=0)


def _start(directory: Path) -> int:
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            _train(directory)
            status = 0
        except BaseException as error:  # reported by the exit status and stderr
            print(f"child failed: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        finally:
            os._exit(status)
    return pid


def _exit_status(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _finished(directory: Path) -> bool:
    """A finished run keeps its checkpoint and deletes its backup (killed after that or not)."""
    return (directory / "checkpoint.keras").is_file() and not (directory / "backup").exists()


def _leftovers(directory: Path) -> bool:
    return any(directory.glob(".tmp-*")) or any(directory.glob("backup/.tmp-*"))


def _share_work_between_children(root: Path) -> None:
    """Imports what training imports lazily and, with JAX, caches compilations on disk."""
    import h5py  # noqa: F401  (saving)
    import keras.src.saving.saving_lib  # noqa: F401

    try:  # Keras's `.keras` saving imports it when installed, whatever the backend
        import tensorflow  # noqa: F401
    except ImportError:
        pass

    if keras.backend.backend() == "jax":
        import jax

        jax.config.update("jax_compilation_cache_dir", os.fspath(root / "jax-cache"))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)


def main(root: Path, kills_wanted: int, seed: int) -> dict:
    _share_work_between_children(root)
    for name in ("warm-up", "reference"):  # the warm-up fills the compilation cache
        start = time.monotonic()
        if _exit_status(_start(root / name)) != 0:
            raise SystemExit(f"the uninterrupted {name} run failed")
        duration = time.monotonic() - start  # of one run: the kill instants span it
    rng = random.Random(seed)
    kills = inside_writes = 0
    chains = []
    while kills < kills_wanted:
        directory = root / f"chain-{len(chains)}"
        tries = 0
        while not _finished(directory):
            tries += 1
            pid = _start(directory)
            if kills < kills_wanted and tries < MAX_TRIES_PER_CHAIN:
                time.sleep(rng.uniform(0, duration))
                finished, raw = os.waitpid(pid, os.WNOHANG)
                if finished == 0:
                    os.kill(pid, signal.SIGKILL)
                    status = _exit_status(pid)
                    if status == -signal.SIGKILL:
                        kills += 1
                        inside_writes += _leftovers(directory)
                        continue
                else:
                    status = os.waitstatus_to_exitcode(raw)  # it ended before its kill instant
            else:
                status = _exit_status(pid)
            if status != 0 or not _finished(directory):
                raise SystemExit(f"attempt {tries} in {directory} failed (exit {status})")
        chains.append({"directory": directory.name, "attempts": tries})
    return {"kills": kills, "inside_writes": inside_writes, "chains": chains,
            "reference_seconds": round(duration, 2)}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))), flush=True)
