"""Runs the same small training on one device and on two (a subprocess entry point).

Usage: python -m tests.optimizers.distributed_run KIND OUT.npz. The backend and, for JAX,
XLA_FLAGS=--xla_force_host_platform_device_count=2 come from the environment. Two CPU devices
run the global batch split in two: MirroredStrategy (TF) or keras.distribution.DataParallel
(JAX). Saves the final weights of both runs.
"""

import sys

import keras
import numpy as np

from tests.optimizers.helpers import data, model_for, optimizer_for


def train(kind: str) -> list[np.ndarray]:
    x, y = data(n=32)
    model = model_for(kind, batch_norm=False)  # Keras BN uses per-replica statistics on TF
    model.compile(optimizer=optimizer_for(kind), loss="mse")
    model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    return [np.asarray(w) for w in model.weights]


def main(kind: str, out: str) -> None:
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf  # two logical CPUs must be set up before any TF op runs

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )
    single = train(kind)
    if keras.backend.backend() == "tensorflow":
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        with strategy.scope():
            double = train(kind)
        replicas = strategy.num_replicas_in_sync
    else:
        devices = keras.distribution.list_devices("cpu")
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
        double = train(kind)
        replicas = len(devices)
    np.savez(out, *single, *double, replicas=replicas)


if __name__ == "__main__":
    main(*sys.argv[1:])
