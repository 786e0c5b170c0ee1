"""JAX ModelParallel (`keras_binary.model_parallel`): the large kernels and their optimizer slots
are split in two, over two devices of one process or across two processes, and training matches
one device's, through a kill and a resume; elsewhere a one-line error names the fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from keras_binary.model_parallel import model_parallel, sharded_paths
from model_zoo.cli import main
from tests.model_zoo import model_parallel_cluster_worker as cluster_worker
from tests.model_zoo import model_parallel_worker as worker
from tests.model_zoo.launching import SIGKILL_STATUS, launch_two

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 300  # a hang fails the test instead of CI
jax_only = pytest.mark.skipif(keras.backend.backend() != "jax",
                              reason="keras.distribution's ModelParallel runs on JAX only")


def _mlp() -> keras.Model:
    return keras.Sequential([keras.Input((8,)), keras.layers.Dense(2048, name="big"),
                             keras.layers.Dense(1026, use_bias=False, name="odd"),
                             keras.layers.Dense(10, name="head")], name="mlp")


def test_the_rule_splits_large_kernels_and_their_biases_only():
    big = {"mlp/big/kernel": 2, "mlp/big/bias": 1}
    assert sharded_paths(_mlp(), 2) == {**big, "mlp/odd/kernel": 2}  # "odd" has no bias
    assert sharded_paths(_mlp(), 4) == big  # 1026 % 4 == 2
    assert sharded_paths(_mlp(), 5) == {}
    assert sharded_paths(_mlp(), 2, min_units=1600) == big


@jax_only
def test_bad_model_axes_are_named():
    with pytest.raises(ValueError, match="does not divide the 4 devices"):
        model_parallel(_mlp(), 3, devices=["cpu:0", "cpu:1", "cpu:2", "cpu:3"])
    with pytest.raises(ValueError, match="nothing to split"):
        model_parallel(_mlp(), 2, min_units=4096, devices=["cpu:0", "cpu:1"])


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="the error of the other backends")
def test_other_backends_refuse_with_one_line(tmp_path, capsys):
    with pytest.raises(ValueError, match="jax backend only.*KERAS_BACKEND=jax"):
        model_parallel(_mlp(), 2)
    assert main(["train", "lab_mlp", "--model-parallel", "2",
                 "--output-dir", os.fspath(tmp_path)]) == 2
    assert "model parallelism runs on the jax backend only" in capsys.readouterr().err
    assert not (tmp_path / "run.json").exists()


def _two_devices(command: list[str]) -> subprocess.CompletedProcess:
    """Runs `command` in a JAX process with two CPU devices (JAX reads the flag at import)."""
    env = {**os.environ, "KERAS_BACKEND": "jax",
           "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
           "PYTHONPATH": os.pathsep.join(filter(None, [os.fspath(ROOT),
                                                       os.environ.get("PYTHONPATH")]))}
    return subprocess.run(command, env=env, check=True, timeout=TIMEOUT_S, capture_output=True,
                          text=True)


@jax_only
def test_zoo_train_splits_across_two_workers_and_evaluates(tmp_path, capfd):
    # One CPU device per worker: each large kernel is split between the two processes. The
    # model has dropout, whose seed states the workers' distribution insists agree.
    run = tmp_path / "run"
    assert launch_two([sys.executable, "-m", "model_zoo", "train", "binarynet_mlp_4096",
                       "--dataset", "mnist", "--epochs", "1", "--limit", "256", "--batch-size",
                       "64", "--seed", "1", "--model-parallel", "2", "--model-option",
                       "hidden_units=1024", "--model-option", "num_hidden_layers=1",
                       "--output-dir", os.fspath(run)], XLA_FLAGS="") == 0
    out = capfd.readouterr().out
    assert "binarynet_mlp_4096 on mnist: test accuracy" in out and "worker 1 of 2 done" in out
    assert sorted(p.name for p in run.iterdir() if p.name != "logs") == [
        "checkpoint.keras", "run.json"]


@jax_only
def test_split_kernels_train_like_one_device(tmp_path):
    _two_devices([sys.executable, "-m", "tests.model_zoo.model_parallel_worker",
                  os.fspath(tmp_path)])
    shards = json.loads((tmp_path / "shards.json").read_text())
    for kind, slots in (("adam", ("momentum", "velocity")), ("bop", ("momentum",)),
                        ("lab", ("momentum", "velocity"))):
        for index, (inputs, units) in enumerate([(784, 2048), (2048, 2048), (2048, 2048)]):
            halves = [[inputs, units // 2]] * 2
            assert shards[kind][f"dense_{index}/kernel"] == halves
            for slot in slots:  # the optimizer's state follows its kernel's layout
                (path,) = [p for p in shards[kind] if p.endswith(f"/dense_{index}_kernel_{slot}")]
                assert shards[kind][path] == halves, path
        assert not any(p.startswith(("bn_", "dense_3/")) for p in shards[kind])  # replicated
        one, split = (np.load(tmp_path / f"{kind}-{layout}.npz") for layout in ("one", "split"))
        assert len(one.files) >= 16
        _assert_trained_alike(kind, one, split, worker.STEPS * worker.LEARNING_RATE)


def _assert_trained_alike(kind: str, one: Any, split: Any, largest_step: float) -> None:
    """The weights `split` (split kernels) equal `one` (one device) up to float rounding."""
    for name in one.files:
        if kind == "lab":
            # LAB divides by sqrt(v): where a gradient is ~0, summation-order noise moves a
            # few weights by up to a step of size ~lr; all the others agree to 1e-5.
            difference = np.abs(split[name] - one[name])
            assert difference.max() <= largest_step, name
            assert np.mean(difference > 1e-5) < 1e-4, name
        else:
            np.testing.assert_allclose(split[name], one[name], rtol=1e-4, atol=5e-5,
                                       err_msg=f"{kind}: {name}")


def _assert_within_float_noise(one: Any, two: Any, reordered: Any) -> None:
    """The kernels `two` differ from `one` as much as `reordered` (`one`'s batches summed in
    another order) does, and no more.

    On MNIST, LAB's first-layer rows for the constant border pixels get gradients that are zero
    in exact arithmetic (BatchNormalization subtracts the batch mean), and m / sqrt(v) scales
    their rounding noise up to steps of the learning rate; the rest of the network follows.
    """
    for name in one.files:
        if one[name].ndim == 2:  # the binarized kernels: where LAB amplifies the noise
            split, noise = (np.abs(b - one[name]).mean() for b in (two[name], reordered[name]))
            assert split <= 2 * noise + 1e-6, (
                f"{one[name].shape}: mean |two workers - one process| = {split:.1e}, float "
                f"noise (one process, examples reordered) = {noise:.1e}")


@jax_only
def test_kernels_split_across_two_workers_train_like_one_process_through_a_kill(
        tmp_path, capsys):
    cluster_worker.main(os.fspath(tmp_path / "one"))  # the reference: this process, one device
    cluster_worker.main(os.fspath(tmp_path / "reordered"), "lab", "reordered")
    keras.distribution.set_distribution(None)
    run = tmp_path / "two"
    command = [sys.executable, "-m", "tests.model_zoo.model_parallel_cluster_worker",
               os.fspath(run)]
    # One CPU device per worker: the model axis (2) spans the two processes. The chief,
    # blocked on its dead peer, need not stop by itself: its backup is complete.
    assert launch_two(command, grace_s=1, XLA_FLAGS="") == SIGKILL_STATUS
    assert "launch: worker 1 of 2 failed (killed by SIGKILL)" in capsys.readouterr().err
    killed = run / cluster_worker.KILLED
    assert (killed / "backup" / "epoch-00001").is_dir() and (killed / "killed").exists()
    assert launch_two(command, XLA_FLAGS="") == 0  # both resume from the chief's backup
    for kind in cluster_worker.KINDS:
        directory = run / kind
        assert not (directory / "backup").exists()  # finished
        hidden = [(784, 1024)] + [(1024, 1024)] * 2 * (kind == "lab")
        for index in range(2):
            shards = json.loads((directory / f"shards-{index}.json").read_text())
            for layer, (inputs, units) in enumerate(hidden):
                # Each process holds the half of the kernel (and of its slots) it computes.
                for path in [p for p in shards if f"dense_{layer}" in p]:
                    assert shards[path] == [[inputs, units // 2]], (kind, index, path)
                assert f"dense_{layer}/kernel" in shards
            assert not any(p.startswith(("bn_", f"dense_{len(hidden)}/")) for p in shards)
        one, two = (np.load(tmp_path / name / kind / "weights.npz") for name in ("one", "two"))
        assert len(one.files) >= 10
        if kind == "lab":
            _assert_within_float_noise(one, two, np.load(tmp_path / "reordered/lab/weights.npz"))
        else:
            _assert_trained_alike(kind, one, two, largest_step=0)
        # The chief's checkpoint: a plain .keras file of the gathered weights.
        saved = keras.saving.load_model(directory / "checkpoint.keras")
        for name, weight in zip(two.files, saved.weights, strict=True):
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(weight), two[name])
