"""Guide 10: training on many machines -- several worker processes, one model.

Run: python guides/10_many_machines.py; python guides/render.py renders it.
"""

# %% [markdown]
# # 9. Training on many machines
#
# Once one machine is too slow (Bi-Real Net or XNOR-Net on ImageNet), training runs as several
# worker processes, on one machine or many, each on its slice of every batch. keras-binary
# uses the backends' own engines for this, nothing home-made:
#
# - **JAX**: `jax.distributed.initialize` joins the processes (CPU collectives over gloo, so it
#   works with several processes on one machine too) and `keras.distribution.DataParallel`
#   splits each global batch between all processes' devices;
# - **TensorFlow**: `tf.distribute.MultiWorkerMirroredStrategy`, configured by `TF_CONFIG`.
#
# `keras_binary.distributed` wraps both behind one call, `connect(cluster)`, and the zoo's
# `python -m model_zoo train` runs as one worker when told its place in the cluster.

# %%
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import keras
import numpy as np
from guide_utils import fast_or_full, mode_name

from keras_binary.distributed import Cluster
from model_zoo.launch import launch

print("backend:", keras.backend.backend(), "| mode:", mode_name())

# %% [markdown]
# ## A worker's place in the cluster
#
# A worker needs three things: how many workers there are, its own index (0 is the *chief*,
# the only one that writes checkpoints and logs) and the chief's `HOST:PORT`. They come from
# flags (`--num-workers`, `--worker-index`, `--coordinator`) or from the environment
# (`KERAS_BINARY_NUM_WORKERS`, `KERAS_BINARY_WORKER_INDEX`, `KERAS_BINARY_COORDINATOR`,
# and `KERAS_BINARY_WORKER_TIMEOUT` for how long to wait for a silent peer). On TensorFlow
# worker `i` listens on the coordinator's port + `i`, unless `TF_CONFIG` is set: then it
# describes the cluster, with each worker on its own machine.

# %%
cluster = Cluster.from_env({"KERAS_BINARY_NUM_WORKERS": "2", "KERAS_BINARY_WORKER_INDEX": "1",
                            "KERAS_BINARY_COORDINATOR": "10.0.0.1:9000"})
print(cluster)
print("chief:", cluster.is_chief, "| TensorFlow's worker addresses:", cluster.worker_addresses())

# %% [markdown]
# In your own training script the pattern is: join first (TensorFlow wants its strategy
# before any other op), then load the data, build, compile and fit inside the returned
# scope, on a batched `tf.data` dataset of *global* batches that every worker builds the
# same way (same seed):
#
# ```python
# from keras_binary.distributed import Cluster, connect, shard_by_example
#
# with connect(Cluster.from_env()):
#     model = build_model()
#     model.compile(optimizer=..., loss=...)
#     model.fit(shard_by_example(dataset), epochs=10, callbacks=chief_only_writers)
# ```
#
# `shard_by_example` makes TensorFlow hand each worker its slice of every global batch, as
# Keras's JAX `DataParallel` does: no example is used twice per epoch, and the updates equal
# one process's on the same global batch. Batches must split evenly (a global batch size that
# is a multiple of the number of workers, `drop_remainder=True`).

# %% [markdown]
# ## Trying it on one machine
#
# `python -m model_zoo.launch N -- COMMAND` starts N workers of COMMAND on this machine, with
# the cluster variables set and the coordinator on a free port of 127.0.0.1:
#
# ```bash
# python -m model_zoo.launch 2 --log-dir logs -- \
#     python -m model_zoo train lab_mlp --dataset mnist --seed 1 --output-dir runs/lab
# ```
#
# The same from Python, on a slice of MNIST: every worker gets the same arguments, and a seed
# is required (all workers must draw the same initial weights and shuffle alike).

# %%
limit, epochs = fast_or_full(512, None), fast_or_full(1, 3)
work = Path(tempfile.mkdtemp())
arguments = ["lab_mlp", "--dataset", "mnist", "--epochs", str(epochs), "--batch-size", "64",
             "--seed", "1", *(["--limit", str(limit)] if limit else [])]
status = launch(2, [sys.executable, "-m", "model_zoo", "train", *arguments, "--output-dir",
                    str(work / "two")], timeout_s=1800, log_dir=work / "logs")
print("exit status:", status)
for index in range(2):
    last = (work / "logs" / f"worker-{index}.log").read_text().strip().splitlines()[-1]
    print(f"worker {index}: {last}")
print("written by the chief:", sorted(p.name for p in (work / "two").iterdir()))

# %% [markdown]
# Only the chief wrote the run directory and evaluated the model; worker 1 trained its half
# of each batch and stopped. (Saving is a collective operation on JAX, so the other workers
# save too, into a scratch folder of their own that is deleted at the end.)
#
# ## The same weights as one process
#
# Your own script follows the pattern above. This one trains a small LAB network on an MNIST
# slice; run under the launcher it is one of two workers, run alone it is one process.

# %%
WORKER = """
import contextlib, sys
import keras, numpy as np, tensorflow as tf
from keras_binary.distributed import Cluster, connect, shard_by_example
from keras_binary.layers import QuantDense
from keras_binary.optimizers import LAB
from model_zoo.datasets import load_numpy

cluster = Cluster.from_env()  # connect first: TensorFlow wants it before any other op
with connect(cluster) if cluster else contextlib.nullcontext():
    x, y = load_numpy("mnist", "train", limit=int(sys.argv[2]), flatten=True)
    # One order for every epoch: under a strategy Keras's TF trainer first makes a throwaway
    # iterator, which would move a reshuffling `shuffle` on by one pass (see below).
    data = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(
        1024, seed=1, reshuffle_each_iteration=False).batch(64, drop_remainder=True)
    keras.utils.set_random_seed(1)
    model = keras.Sequential([
        keras.Input((784,)),
        QuantDense(256, kernel_quantizer="lab", kernel_constraint="weight_clip", use_bias=False),
        keras.layers.Activation("tanh"),
        QuantDense(10, kernel_quantizer="lab", kernel_constraint="weight_clip"),
    ])
    model.compile(optimizer=LAB(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(shard_by_example(data) if cluster else data, epochs=2, verbose=0)
    if cluster is None or cluster.is_chief:
        np.savez(sys.argv[1], *[keras.ops.convert_to_numpy(w) for w in model.weights])
"""
script = work / "worker.py"
script.write_text(WORKER)
examples = str(fast_or_full(1024, 60000))
print("two workers, exit status:", launch(
    2, [sys.executable, str(script), str(work / "two.npz"), examples], timeout_s=1800))
subprocess.run([sys.executable, str(script), str(work / "one.npz"), examples], check=True,
               timeout=1800)  # no cluster variables: one process
one, two = np.load(work / "one.npz"), np.load(work / "two.npz")
for name in one.files:
    print(f"weight {name}: shape {one[name].shape}, max |one process - two workers| = "
          f"{np.abs(one[name] - two[name]).max():.1e}")

# %% [markdown]
# The same up to float rounding: the two halves of each batch are summed in another order,
# and LAB's Adam-type step (m / sqrt(v)) magnifies such rounding where a gradient is near
# zero. In a deeper binarized network a latent weight that rounding pushes across zero flips
# its binary weight, so longer runs can drift further apart than this. Batch normalization
# makes it common: a weight on a constant input (MNIST's blank border pixels) then has a zero
# gradient in exact arithmetic, so its step is rounding noise scaled up to the learning rate.
# Two workers training the zoo's `lab_mlp` differ from one process as much as one process
# differs from itself with each batch's examples reordered, and no more.
#
# Two things would part them for real on TensorFlow, and the zoo's `train` handles both. Keras's
# `BatchNormalization` normalizes each worker's slice of the batch unless it is `synchronized`:
# call `keras_binary.distributed.synchronize_batch_norm(model)` before `fit` in your own script.
# And Keras's trainer takes a batch from a throwaway iterator before training under a
# distribution strategy, which moves a `shuffle(reshuffle_each_iteration=True)` on by one pass;
# `model_zoo.datasets.load(..., endless=True)` shuffles pass i from the seed and i instead.
#
# The test suite checks Adam, Bop + Adam and LAB on a small model without batch normalization
# to 1e-5, and the zoo's `lab_mlp` against one process with reordered batches, on both backends
# (`tests/model_zoo/test_multiworker.py`).
#
# ## When a worker dies
#
# A worker that dies does not leave the others waiting forever. Its peers notice at once or
# within the worker timeout (JAX's CPU collectives fail with a connection error, TensorFlow's
# with an `UnavailableError`); `train` reports it in one line naming the fix, and the
# command line then ends without JAX's exit-time wait for the dead worker. The launcher
# stops the rest and says which worker failed:
#
# ```text
# launch: worker 1 of 2 failed (killed by SIGKILL); stopping the others
# ```
#
# Start all workers again with the same arguments: each one resumes from the chief's last
# backup (weights, optimizer state, epoch), exactly as a single process does after a kill.
#
# ## Splitting the large layers (JAX)
#
# Data parallelism keeps a whole copy of the model on every device. When the fully connected
# layers are what fills a device (BinaryNet's 2048-unit layers, XNOR-Net's 4096-filter ones),
# `keras_binary.model_parallel` splits them instead, with Keras's own
# `keras.distribution.ModelParallel`: a `DeviceMesh` of shape (batch, model), and a `LayoutMap`
# that shards each kernel with at least `MIN_UNITS` (1024) output units, divisible by the
# model-axis size, along its output axis, with its layer's bias. BatchNormalization vectors and
# small layers are replicated: they hold `units` floats against the kernel's `inputs x units`.
# Optimizer state (Adam's moments, Bop's momentum, LAB's) is created with its kernel's layout,
# so it is split too. Layouts apply when a variable is created, so the model is built once
# to read its shapes, then again under the distribution:
#
# ```python
# from keras_binary.model_parallel import model_parallel
#
# keras.distribution.set_distribution(model_parallel(build_model(), model_devices=2))
# model = build_model()  # the large kernels now live half on each of 2 devices
# ```
#
# `python -m model_zoo train binarynet_mlp_2048 --model-parallel 2` does the same: 2 devices
# on the model axis, the remaining devices data-parallel. The devices are one process's (GPUs,
# or CPU devices from `XLA_FLAGS=--xla_force_host_platform_device_count=N`), or all the
# workers' of a multi-process run, in worker order: with one device per worker,
#
# ```bash
# python -m model_zoo.launch 2 -- python -m model_zoo train binarynet_mlp_2048 --seed 1 \
#     --model-parallel 2 --output-dir runs/split
# ```
#
# splits each large kernel between the two processes. Keras 3.15 cannot save such a variable
# itself (it reads each variable whole, which JAX refuses for an array split across
# processes), so the checkpoint callbacks of `keras_binary.checkpointing` gather the parts
# into a copy of the model in each process (`keras_binary.host_copy`, with JAX's collective
# `process_allgather`) and save that copy: the checkpoint and the backup are the files one
# process writes, the chief's `checkpoint.keras` loads with `keras.saving.load_model`
# anywhere, and on resume every worker assigns the chief's backup, which JAX splits again.
# Saving is thus collective: every worker runs the callbacks each epoch. On TensorFlow and
# PyTorch `--model-parallel` stops with a one-line error. Here, on two CPU devices of one
# process (JAX reads the flag at start-up, hence a fresh process):

# %%
SPLIT = """
import keras
from keras_binary.model_parallel import model_parallel
from model_zoo.models import get_model

keras.distribution.set_distribution(model_parallel(get_model("binarynet_mlp_2048"), 2))
model = get_model("binarynet_mlp_2048")
variables = {variable.path: variable for variable in model.variables}
for path in ("dense_0/kernel", "dense_1/kernel", "bn_1/gamma", "dense_3/kernel"):
    shards = [tuple(shard.data.shape) for shard in variables[path].value.addressable_shards]
    print(f"{path}: {tuple(variables[path].shape)} -> one per device: {shards}")
"""
TWO_DEVICES = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
if keras.backend.backend() == "jax":
    split = subprocess.run([sys.executable, "-c", SPLIT], env=TWO_DEVICES, check=True,
                           timeout=600, capture_output=True, text=True)
    print(split.stdout.strip())
else:
    print(f"model parallelism runs on JAX only; this guide ran on {keras.backend.backend()}")

# %% [markdown]
# The test suite trains the zoo's BinaryNet and LAB MLPs with Adam, Bop + Adam and LAB both
# ways and finds the same weights up to float rounding, with every kernel and optimizer slot
# halved (`tests/model_zoo/test_model_parallel.py`). It does so across two worker processes
# of one CPU device each too, on an MNIST slice, through a kill of one worker and a resume of
# both from the chief's backup; LAB there differs from one process as much as one process
# differs from itself with each batch's examples reordered (the border pixels, as above).
#
# ## On many machines
#
# - Start one worker per machine with the same arguments and its own `--worker-index`;
#   `--coordinator` is the chief's address, reachable from all (JAX). On TensorFlow set
#   `TF_CONFIG` on each machine instead (its `cluster.worker` list names every machine).
# - The output directory must be on a file system all workers see (NFS, a shared disk): the
#   chief writes there and every worker resumes from it.
# - Every worker reads the same prepared tfds data (`--data-dir`) and keeps its slice of each
#   global batch; the batch size you pass is the global one.
