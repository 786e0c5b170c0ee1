"""One worker of the model-parallel multi-process test or, without the cluster variables, one
process on one device.

Usage: ``python -m tests.model_zoo.model_parallel_cluster_worker OUT_DIR`` (under
`model_zoo.launch`, each worker with one CPU device). Trains the zoo's BinaryNet MLP (one
hidden layer; Adam, then Bop + Adam) and LAB MLP (LAB), hidden layers of `MIN_UNITS` units, on
an MNIST slice with the zoo's checkpoint and backup callbacks, each in ``OUT_DIR/<kind>``; with
a cluster under `model_parallel(model, 2)`, so each hidden kernel is split across the two
processes. Then the chief writes the gathered weights to ``OUT_DIR/<kind>/weights.npz`` and
each worker the shapes of its part of each split variable (optimizer slots included) to
``OUT_DIR/<kind>/shards-<index>.json``. A kind whose weights exist is skipped. In kind `KILLED`,
worker 1 SIGKILLs itself as its second epoch starts, once the chief's first backup is complete
(marker ``OUT_DIR/<kind>/killed``): the next launch resumes both from that backup.

``python -m ... OUT_DIR lab reordered`` trains LAB alone in one process with each batch's
examples in another order: the float-noise baseline that LAB amplifies (see the test).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from keras_binary.distributed import Cluster, connect
from keras_binary.host_copy import gather
from keras_binary.model_parallel import MIN_UNITS, model_parallel
from keras_binary.optimizers import LAB
from model_zoo.datasets import load_numpy
from model_zoo.models import get_model
from model_zoo.training import callbacks
from tests.optimizers.helpers import bop_adam

KINDS = ("adam", "bop", "lab")
KILLED = "bop"
SEED, EXAMPLES, BATCH, EPOCHS, LEARNING_RATE = 3, 64, 16, 2, 1e-3
STEPS = EPOCHS * EXAMPLES // BATCH
BACKUP_WAIT_S = 60


def build(kind: str) -> keras.Model:
    if kind == "lab":
        return get_model("lab_mlp", hidden_units=MIN_UNITS)
    return get_model("binarynet_mlp_4096", hidden_units=MIN_UNITS, num_hidden_layers=1)


def optimizer(kind: str) -> keras.optimizers.Optimizer:
    return {"adam": lambda: keras.optimizers.Adam(LEARNING_RATE), "bop": bop_adam,
            "lab": lambda: LAB(LEARNING_RATE)}[kind]()


class KillWorkerOne(keras.callbacks.Callback):
    """SIGKILLs worker 1 as the second epoch starts, after the chief's first backup is done."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        marker = self.directory / "killed"
        if epoch != 1 or marker.exists():
            return
        deadline = time.monotonic() + BACKUP_WAIT_S
        while not (self.directory / "backup" / "epoch-00001").is_dir():
            if time.monotonic() > deadline:
                raise TimeoutError("the chief wrote no backup of epoch 1")
            time.sleep(0.1)
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)


def train(kind: str, directory: Path, cluster: Cluster | None,
          reordered: bool = False) -> keras.Model:
    import tensorflow as tf

    keras.distribution.set_distribution(None)  # the probe: unseeded, in this process alone
    if cluster is not None:
        keras.distribution.set_distribution(model_parallel(build(kind), 2))
    keras.utils.set_random_seed(SEED)
    model = build(kind)
    model.compile(optimizer=optimizer(kind), jit_compile=True,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = load_numpy("mnist", "train", limit=EXAMPLES)
    if reordered:  # the same batches, each summed in another order
        order = np.concatenate([start + np.random.default_rng(7).permutation(BATCH)
                                for start in range(0, EXAMPLES, BATCH)])
        x, y = x[order], y[order]
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH, drop_remainder=True)
    chief = cluster is None or cluster.is_chief
    extra = [KillWorkerOne(directory)] if cluster is not None and kind == KILLED and (
        cluster.worker_index == 1) else []
    with contextlib.ExitStack() as stack:
        scratch = None if chief else stack.enter_context(tempfile.TemporaryDirectory())
        savers = [callback for callback in callbacks(directory, scratch)
                  if not isinstance(callback, keras.callbacks.TensorBoard)]
        model.fit(data, epochs=EPOCHS, verbose=0, callbacks=[*savers, *extra])
    return model


def main(out: str, *kinds: str) -> None:
    reordered = kinds[-1:] == ("reordered",)
    kinds = kinds[:-1] if reordered else kinds or KINDS
    cluster = Cluster.from_env()
    with connect(cluster) if cluster is not None else contextlib.nullcontext():
        for kind in kinds:
            directory = Path(out) / kind
            if (directory / "weights.npz").exists():
                continue
            directory.mkdir(parents=True, exist_ok=True)
            model = train(kind, directory, cluster, reordered)
            variables = [*model.variables, *model.optimizer.variables]
            weights = gather([v.value for v in model.weights])  # collective
            index = 0 if cluster is None else cluster.worker_index
            shards = {v.path: [list(s.data.shape) for s in v.value.addressable_shards]
                      for v in variables if not v.value.is_fully_replicated}
            (directory / f"shards-{index}.json").write_text(json.dumps(shards))
            if index == 0:
                np.savez(directory / "weights.npz", *weights)


if __name__ == "__main__":
    main(*sys.argv[1:])
