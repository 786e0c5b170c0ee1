"""JAX ModelParallel (`keras_binary.model_parallel`): the large kernels and their optimizer slots
are split in two, and training matches one device's; elsewhere a one-line error names the fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_binary.model_parallel import model_parallel, sharded_paths
from model_zoo.cli import main
from tests.model_zoo import model_parallel_worker as worker

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


@jax_only
def test_the_zoo_refuses_model_parallel_workers_before_any_work(tmp_path, capsys):
    assert main(["train", "lab_mlp", "--model-parallel", "2", "--num-workers", "2",
                 "--coordinator", "127.0.0.1:1", "--seed", "1",
                 "--output-dir", os.fspath(tmp_path)]) == 2
    assert "runs in one process (with several devices) only" in capsys.readouterr().err
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
def test_zoo_train_splits_over_two_devices_and_evaluates(tmp_path):
    run = tmp_path / "run"
    result = _two_devices([sys.executable, "-m", "model_zoo", "train", "lab_mlp", "--dataset",
                           "mnist", "--epochs", "1", "--limit", "256", "--batch-size", "64",
                           "--seed", "1", "--model-parallel", "2", "--output-dir",
                           os.fspath(run)])
    assert "lab_mlp on mnist: test accuracy" in result.stdout
    assert (run / "checkpoint.keras").is_file()


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
        for name in one.files:
            if kind == "lab":
                # LAB divides by sqrt(v): where a gradient is ~0, summation-order noise moves
                # a few weights by up to a step of size ~lr; all the others agree to 1e-5.
                difference = np.abs(split[name] - one[name])
                assert difference.max() <= worker.STEPS * worker.LEARNING_RATE, name
                assert np.mean(difference > 1e-5) < 1e-4, name
            else:
                np.testing.assert_allclose(split[name], one[name], rtol=1e-4, atol=5e-5,
                                           err_msg=f"{kind}: {name}")
