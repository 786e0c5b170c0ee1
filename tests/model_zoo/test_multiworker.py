"""Two worker processes on 127.0.0.1 train like one process on the same global batch, through a
kill of one worker and a resume of all from the chief's backup; a dead worker ends the run."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import keras
import numpy as np
import pytest

from keras_binary.distributed import (
    COORDINATOR,
    NUM_WORKERS,
    WORKER_INDEX,
    WORKER_TIMEOUT,
    Cluster,
    WorkerLostError,
    peer_lost,
    synchronize_batch_norm,
)
from model_zoo import training
from model_zoo.cli import main
from model_zoo.launch import launch
from tests.model_zoo import multiworker_worker
from tests.model_zoo.launching import LAUNCH_TIMEOUT_S, SIGKILL_STATUS, launch_two

distributed_backends = pytest.mark.skipif(
    keras.backend.backend() not in ("jax", "tensorflow"),
    reason="multi-process training runs on JAX and TensorFlow",
)


@distributed_backends
def test_two_workers_match_one_process_through_a_kill_and_a_resume(tmp_path, capsys):
    multiworker_worker.main(os.fspath(tmp_path / "one"))  # the reference, in this process
    run = tmp_path / "two"
    command = [sys.executable, "-m", "tests.model_zoo.multiworker_worker", os.fspath(run)]
    killed = run / multiworker_worker.KILLED
    assert launch_two(command) == SIGKILL_STATUS  # worker 1 dies in KILLED's second epoch
    assert "launch: worker 1 of 2 failed (killed by SIGKILL)" in capsys.readouterr().err
    assert (killed / "backup" / "epoch-00001").is_dir()  # the chief's first epoch
    assert not (killed / "weights.npz").exists()
    assert launch_two(command) == 0  # KILLED resumes from the backup; the rest train through
    for kind in multiworker_worker.KINDS:
        assert not (run / kind / "backup").exists()  # finished
        one, two = np.load(tmp_path / "one" / kind / "weights.npz"), np.load(
            run / kind / "weights.npz")
        assert len(one.files) >= 3
        for name in one.files:
            np.testing.assert_allclose(two[name], one[name], rtol=1e-5, atol=1e-6,
                                       err_msg=f"{kind}: {name}")


@distributed_backends
def test_zoo_train_runs_as_two_workers_and_only_the_chief_writes(tmp_path, capfd):
    run = tmp_path / "run"
    status = launch_two([sys.executable, "-m", "model_zoo", "train", "lab_mlp", "--dataset",
                      "mnist", "--epochs", "1", "--limit", "256", "--batch-size", "64",
                      "--seed", "1", "--output-dir", os.fspath(run)])
    out = capfd.readouterr().out
    assert status == 0
    assert "worker 1 of 2 done" in out and "lab_mlp on mnist: test accuracy" in out
    assert sorted(p.name for p in run.iterdir() if p.name != "logs") == [
        "checkpoint.keras", "run.json"]


def _reordered_within_batches(datasets: Any, batch_size: int) -> Any:
    """`training._datasets` whose training batches hold their examples in another order: the
    same global batches, summed in another order (the float-noise baseline)."""
    import tensorflow as tf

    order = tf.constant(np.random.default_rng(7).permutation(batch_size))

    def reordered(*args: Any, **kwargs: Any) -> tuple:
        train_data, *rest = datasets(*args, **kwargs)
        return train_data.map(lambda x, y: (tf.gather(x, order), tf.gather(y, order))), *rest

    return reordered


@distributed_backends
def test_zoo_lab_mlp_on_two_workers_is_within_float_noise_of_one_process(tmp_path, monkeypatch):
    # LAB's first-layer rows for MNIST's constant border pixels get gradients that are zero in
    # exact arithmetic (BatchNormalization subtracts the batch mean), and m / sqrt(v) scales
    # their rounding noise up to steps of the learning rate. So the reference for two workers
    # is one process whose batches sum in another order, not bitwise equality.
    batch, hidden = 64, 32
    flags = {"dataset": "mnist", "epochs": 1, "batch_size": batch, "limit": 4 * batch,
             "seed": 1}
    options = {"hidden_units": hidden}
    assert launch_two([sys.executable, "-m", "model_zoo", "train", "lab_mlp", "--output-dir",
                    os.fspath(tmp_path / "two"), "--model-option", f"hidden_units={hidden}",
                    *[f"--{k.replace('_', '-')}={v}" for k, v in flags.items()]]) == 0
    training.train("lab_mlp", **flags, model_options=options, output_dir=tmp_path / "one",
                   verbose=0)
    monkeypatch.setattr(training, "_datasets", _reordered_within_batches(training._datasets,
                                                                         batch))
    training.train("lab_mlp", **flags, model_options=options,
                   output_dir=tmp_path / "reordered", verbose=0)
    one, two, reordered = (
        training.load_checkpoint("lab_mlp", tmp_path / run, options) for run in
        ("one", "two", "reordered"))
    for a, b, c in zip(one.trainable_weights, two.trainable_weights,
                       reordered.trainable_weights, strict=True):
        if not a.path.endswith("kernel"):
            continue  # the binarized kernels: where LAB amplifies the noise
        a, b, c = (keras.ops.convert_to_numpy(w) for w in (a, b, c))
        two_workers, noise = np.abs(b - a).mean(), np.abs(c - a).mean()
        assert two_workers <= 2 * noise + 1e-6, (
            f"{a.shape}: mean |two workers - one process| = {two_workers:.1e}, float noise "
            f"(one process, examples reordered) = {noise:.1e}")


def test_batch_normalization_is_synchronized_on_tensorflow_only():
    inner = keras.Sequential([keras.Input((3,)), keras.layers.BatchNormalization()])
    model = keras.Sequential([keras.Input((3,)), keras.layers.BatchNormalization(), inner,
                              keras.layers.Dense(2)])
    on_tensorflow = keras.backend.backend() == "tensorflow"
    assert synchronize_batch_norm(model) == (2 if on_tensorflow else 0)
    assert [model.layers[0].synchronized, inner.layers[0].synchronized] == [on_tensorflow] * 2
    assert synchronize_batch_norm(model) == 0  # already synchronized


def test_a_failed_worker_stops_the_others_with_one_line(tmp_path, capsys):
    script = ("import os, sys, time\n"
              f"index = int(os.environ['{WORKER_INDEX}'])\n"
              "open(sys.argv[1] + str(index), 'w').write(os.environ['" + COORDINATOR + "'])\n"
              "print('worker', index, flush=True)\n"
              "time.sleep(0 if index == 1 else 600)\n"
              "sys.exit(3 if index == 1 else 0)\n")
    status = launch(3, [sys.executable, "-c", script, os.fspath(tmp_path / "w-")],
                    timeout_s=LAUNCH_TIMEOUT_S, grace_s=0.5, log_dir=tmp_path / "logs")
    assert status == 3
    assert capsys.readouterr().err.strip() == (
        "launch: worker 1 of 3 failed (exit status 3); stopping the others")
    addresses = {(tmp_path / f"w-{i}").read_text() for i in range(3)}
    assert len(addresses) == 1 and addresses.pop().startswith("127.0.0.1:")
    for index in range(3):
        assert (tmp_path / "logs" / f"worker-{index}.log").read_text() == f"worker {index}\n"


def test_workers_still_running_at_the_timeout_are_killed(capsys):
    status = launch(2, [sys.executable, "-c", "import time; time.sleep(600)"], timeout_s=0.5)
    assert status == 124
    assert "still running after 0.5 s; killed them" in capsys.readouterr().err


def test_cluster_comes_from_the_environment_and_bad_values_are_named():
    assert Cluster.from_env({}) is None
    cluster = Cluster.from_env({NUM_WORKERS: "2", WORKER_INDEX: "1", COORDINATOR: "h:7000",
                                WORKER_TIMEOUT: "9"})
    assert cluster == Cluster(2, 1, "h:7000", 9) and not cluster.is_chief
    assert cluster.worker_addresses() == ["h:7000", "h:7001"]
    with pytest.raises(ValueError, match="KERAS_BINARY_COORDINATOR is not"):
        Cluster.from_env({NUM_WORKERS: "2"})
    with pytest.raises(ValueError, match="worker_index must be in 0..1"):
        Cluster(2, 2, "h:7000")
    with pytest.raises(ValueError, match="HOST:PORT"):
        Cluster(2, 0, "h")


@pytest.mark.parametrize(("flags", "message"), [
    (["--num-workers", "2"], "--num-workers needs --coordinator HOST:PORT"),
    (["--worker-index", "1"], "--worker-index and --coordinator need --num-workers"),
    (["--num-workers", "2", "--coordinator", "127.0.0.1:1"], "needs a seed (CLI: --seed)"),
    (["--num-workers", "3", "--coordinator", "127.0.0.1:1", "--seed", "1"],
     "does not split evenly between 3 workers"),
])
def test_worker_flags_are_checked_before_any_work(flags, message, tmp_path, capsys):
    assert main(["train", "lab_mlp", "--output-dir", os.fspath(tmp_path), *flags]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run.json").exists()


def test_a_lost_peer_is_told_apart_from_other_errors():
    tf = pytest.importorskip("tensorflow")
    assert peer_lost(tf.errors.UnavailableError(None, None, "task 1 stopped sending heartbeats"))
    assert peer_lost(tf.errors.DeadlineExceededError(None, None, "collective timed out"))
    assert not peer_lost(ValueError("a bad argument"))
    assert issubclass(WorkerLostError, OSError)  # the command line prints it as one line


def test_the_cli_ends_at_once_after_a_lost_peer(tmp_path):
    """JAX's exit-time shutdown waits for the dead worker (minutes, seen with a SIGKILLed
    peer): after its one-line error the command line ends without it."""
    code = (
        "import atexit, sys, time\n"
        "from keras_binary.distributed import WorkerLostError\n"
        "from model_zoo import cli\n"
        "atexit.register(time.sleep, 120)  # a shutdown that waits for the dead worker\n"
        "def lost(args): raise WorkerLostError('worker 0 of 2: another worker died')\n"
        "cli._train = lost\n"
        f"sys.exit(cli.main(['train', 'lab_mlp', '--output-dir', {os.fspath(tmp_path)!r}]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "error: worker 0 of 2: another worker died")


def test_a_lost_jax_peer_is_told_apart_from_other_errors():
    jax = pytest.importorskip("jax")
    # What the survivor of a killed worker raised (2026-12-07, JAX 0.10.2, CPU collectives).
    assert peer_lost(jax.errors.JaxRuntimeError(
        "UNKNOWN: Gloo all-reduce failed: [external/gloo/gloo/transport/tcp/pair.cc:538] Read "
        "error [127.0.0.1]:19693: Connection reset by peer"))
    assert not peer_lost(jax.errors.JaxRuntimeError("RESOURCE_EXHAUSTED: out of memory"))
