"""One worker of the multi-worker tests, or, without the cluster variables, one process.

Usage: ``python -m tests.model_zoo.multiworker_worker OUT_DIR`` (under `model_zoo.launch`).
Trains the optimizer tests' tiny binary model with Adam, Bop+Adam and LAB in turn, each in
``OUT_DIR/<kind>`` with the zoo's callbacks (the chief writes checkpoint and backup, the others
resume from them); the chief then saves the weights to ``OUT_DIR/<kind>/weights.npz``. A kind
whose weights exist is skipped (a relaunch continues where the last launch stopped). In kind
`KILLED`, worker 1 kills itself (SIGKILL) as its second epoch starts, once (marker
``OUT_DIR/<kind>/killed``): the next launch resumes both workers from the chief's backup. One
kind is killed, not each: the backup and resume are the same for every optimizer, and each
launch costs two process start-ups.

The model has no BatchNormalization: on TensorFlow, Keras's layer normalizes each worker's
slice of the batch, so its statistics (hence the weights) differ from one process's.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
from pathlib import Path

import keras
import numpy as np

from keras_binary.distributed import Cluster, connect, shard_by_example
from model_zoo.training import callbacks
from tests.optimizers.helpers import data, model_for, optimizer_for

KINDS = ("adam", "bop", "lab")
KILLED = "bop"  # Bop + Adam: two optimizers' state to restore (Bop's moving average, Adam's slots)
EPOCHS, EXAMPLES, GLOBAL_BATCH = 3, 32, 8


class KillWorkerOne(keras.callbacks.Callback):
    """SIGKILLs worker 1 as the second epoch starts, once per marker file."""

    def __init__(self, cluster: Cluster | None, marker: Path) -> None:
        super().__init__()
        self.cluster, self.marker = cluster, marker

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if (self.cluster is not None and self.cluster.worker_index == 1 and epoch == 1
                and not self.marker.exists()):
            self.marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)


def train(kind: str, directory: Path, cluster: Cluster | None) -> list[np.ndarray]:
    """Trains `kind`'s model in `directory`; returns its final weights."""
    import tensorflow as tf

    chief = cluster is None or cluster.is_chief
    directory.mkdir(parents=True, exist_ok=True)
    x, y = data(n=EXAMPLES)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(GLOBAL_BATCH, drop_remainder=True)
    if cluster is not None:
        dataset = shard_by_example(dataset)
    model = model_for("bop" if kind == "adam" else kind, batch_norm=False)
    optimizer = keras.optimizers.Adam(0.01) if kind == "adam" else optimizer_for(kind)
    model.compile(optimizer=optimizer, loss="mse")
    with contextlib.ExitStack() as stack:
        scratch = None if chief else stack.enter_context(tempfile.TemporaryDirectory())
        model.fit(dataset, epochs=EPOCHS, verbose=0,
                  callbacks=[*callbacks(directory, scratch),
                             *([KillWorkerOne(cluster, directory / "killed")]
                               if kind == KILLED else [])])
    return [keras.ops.convert_to_numpy(weight) for weight in model.weights]


def main(out: str) -> None:
    cluster = Cluster.from_env()
    scope = connect(cluster) if cluster is not None else contextlib.nullcontext()
    with scope:
        for kind in KINDS:
            directory = Path(out) / kind
            if (directory / "weights.npz").exists():
                continue
            weights = train(kind, directory, cluster)
            if cluster is None or cluster.is_chief:
                np.savez(directory / "weights.npz", *weights)


if __name__ == "__main__":
    main(*sys.argv[1:])
