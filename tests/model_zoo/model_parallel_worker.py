"""Trains the zoo's BinaryNet/LAB MLPs for a few steps on one device, then under
`keras_binary.model_parallel` (model axis 2), with the same seed and data.

Usage: ``XLA_FLAGS=--xla_force_host_platform_device_count=2 python -m
tests.model_zoo.model_parallel_worker OUT_DIR`` (JAX reads the flag at import, hence a
subprocess). Writes ``OUT_DIR/<kind>-<layout>.npz`` (the weights, in order) and
``OUT_DIR/shards.json`` (each sharded variable's shard shapes, optimizer slots included).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import keras
import numpy as np

from keras_binary.model_parallel import model_parallel
from keras_binary.optimizers import LAB
from model_zoo.models import get_model
from tests.optimizers.helpers import bop_adam

KINDS = {"adam": "binarynet_mlp_2048", "bop": "binarynet_mlp_2048", "lab": "lab_mlp"}
SEED, EXAMPLES, BATCH, LEARNING_RATE = 3, 64, 16, 1e-3
STEPS = EXAMPLES // BATCH
# BinaryNet's input and hidden dropout stay on: their masks must not depend on the layout.
OPTIONS = {"binarynet_mlp_2048": {"dropout_hidden": 0.5}, "lab_mlp": {}}


def optimizer(kind: str) -> keras.optimizers.Optimizer:
    return {"adam": lambda: keras.optimizers.Adam(LEARNING_RATE), "bop": bop_adam,
            "lab": lambda: LAB(LEARNING_RATE)}[kind]()


def train(kind: str) -> keras.Model:
    keras.utils.set_random_seed(SEED)
    model = get_model(KINDS[kind], **OPTIONS[KINDS[kind]])
    model.compile(optimizer=optimizer(kind), jit_compile=True,
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    x = rng.random((EXAMPLES, 28, 28, 1), dtype="float32")
    y = rng.integers(0, 10, EXAMPLES)
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    return model


def main(out: str) -> None:
    out_dir = Path(out)
    shards = {}
    for kind in KINDS:
        keras.distribution.set_distribution(None)
        for layout in ("one", "split"):
            if layout == "split":
                keras.distribution.set_distribution(model_parallel(get_model(KINDS[kind]), 2))
            model = train(kind)
            np.savez(out_dir / f"{kind}-{layout}.npz",
                     *[keras.ops.convert_to_numpy(v) for v in model.weights])
            if layout == "split":
                shards[kind] = {
                    v.path: [list(s.data.shape) for s in v.value.addressable_shards]
                    for v in [*model.variables, *model.optimizer.variables]
                    if len(v.value.sharding.device_set) > 1
                    and not v.value.sharding.is_fully_replicated}
    (out_dir / "shards.json").write_text(json.dumps(shards))


if __name__ == "__main__":
    main(*sys.argv[1:])
