"""Train and evaluate zoo models with `model.fit`: the recipe's optimizer, schedule and loss,
a checkpoint each epoch, resuming after an interruption, TensorBoard logs.

A run directory holds one run (`model_zoo.run_directory`): calling `train` again with the same
arguments resumes an interrupted run after its last finished epoch; another run there, or a
finished one, is refused unless `overwrite=True`. A resumed run starts from exactly the state
after the interrupted run's last finished epoch: weights, optimizer state (step count, so the
learning-rate schedule too) and dropout seeds. The data order of the remaining epochs is not
replayed, so even with a `seed` the final weights differ from an uninterrupted run's: pass i
over the training data is shuffled from the seed and i (`model_zoo.datasets.load` with
`endless=True`), and a fresh process starts again at the first pass.

With a `keras_binary.distributed.Cluster`, `train` runs as one worker of a multi-process run:
every worker builds the same model and data (a seed is required), each trains on its slice of
every global batch (batch normalization uses the global batch's statistics), only the chief
(worker 0) writes the checkpoint, backup and logs, and every worker resumes from the chief's
backup. The last, smaller batch of each split is dropped so that all batches split evenly.

With `model_parallel=N` (JAX only), the large dense kernels are split over N devices and each
batch over the rest (`keras_binary.model_parallel`); with a cluster the devices are all the
workers' (in order of worker index), so a kernel may be split across processes. The checkpoint
and backup then hold the gathered values (`keras_binary.host_copy`): the same files as one
process writes, and every worker resumes from the chief's backup into its part.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import os
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras

from keras_binary.callbacks import TerminateOnNonFinite
from keras_binary.checkpointing import AtomicBackupAndRestore, AtomicModelCheckpoint, BackupError
from keras_binary.distributed import (
    Cluster,
    WorkerLostError,
    connect,
    peer_lost,
    shard_by_example,
    synchronize_batch_norm,
)
from keras_binary.model_parallel import model_parallel as model_parallel_distribution
from keras_binary.model_parallel import require_jax
from model_zoo.models import get_model
from model_zoo.recipes import Recipe, get_recipe, make_loss, make_optimizer, steps_per_epoch
from model_zoo.run_directory import (
    BACKUP,
    CHECKPOINT,
    LOGS,
    open_run_directory,
)


def training_jit_compile() -> bool | str:
    """`jit_compile` for training: XLA on JAX and on single-replica TensorFlow, else Keras's.

    Keras's "auto" turns XLA off on CPU-only TensorFlow; without it a BinaryNet MLP step costs
    about 1.7x the CPU time there (the quantizer, constraint and optimizer passes stay unfused;
    `benchmarks/bench_optimizers.py`). XLA cannot compile TensorFlow's cross-replica collectives
    on CPU, so a distribution strategy with several replicas keeps "auto"; so does PyTorch, whose
    "auto" is eager.
    """
    backend = keras.backend.backend()
    if backend == "jax":
        return True
    if backend == "tensorflow":
        import tensorflow as tf

        return True if tf.distribute.get_strategy().num_replicas_in_sync == 1 else "auto"
    return "auto"


def compile_model(model: keras.Model, recipe: Recipe, steps: int) -> keras.Model:
    """Compiles `model` with the recipe's optimizer, loss and accuracy.

    Args:
        model: The model.
        recipe: Its `Recipe`.
        steps: Optimizer steps per epoch (for the schedules).

    Returns:
        `model`, compiled.
    """
    model.compile(
        optimizer=make_optimizer(recipe, steps),
        loss=make_loss(recipe),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        jit_compile=training_jit_compile(),
    )
    return model


def _datasets(recipe: Recipe, data_dir: Any, limit: int | None, seed: int | None,
              sharded: bool = False) -> tuple:
    """`(train, test, steps, validation_steps)`: both endless (`one_iterator_per_run`) when
    their lengths are known, each shuffle pass of `train` then set by the seed alone; else one
    pass each and steps of 0 or less."""
    from model_zoo import datasets

    datasets.ensure_prepared(recipe.dataset, data_dir)
    spec = datasets.dataset_spec(recipe.dataset)
    test_split = "test" if "test" in spec.splits else "validation"
    common = {"data_dir": data_dir, "batch_size": recipe.batch_size, "limit": limit,
              "drop_remainder": sharded}
    train_common = {**common, "shuffle": True, "seed": seed, "augment": recipe.augment}
    train = datasets.load(recipe.dataset, "train", **train_common)
    test = datasets.load(recipe.dataset, test_split, **common)
    steps, validation_steps = int(train.cardinality()), int(test.cardinality())
    if steps > 0 and validation_steps > 0:
        train = one_iterator_per_run(
            datasets.load(recipe.dataset, "train", endless=True, **train_common))
        test = one_iterator_per_run(test)
    if sharded:
        train, test = shard_by_example(train), shard_by_example(test)
    return train, test, steps, validation_steps


def one_iterator_per_run(dataset: Any) -> Any:
    """`dataset` repeated without end and without tf.data's autotuning, for `fit` with
    `steps_per_epoch` (or `validation_steps`) set to one pass.

    Keras keeps such an iterator for the whole run; given a finite dataset it replaces the
    iterator every epoch, and the half-read one it drops also drops tfds's in-memory cache (so
    every epoch re-reads the files). Keras still replaces the validation iterator every
    evaluation, and tearing an iterator down waits for the autotuning thread, which sleeps for
    up to ~30 s between rounds (measured on TensorFlow 2.21), so autotuning is off and
    `AUTOTUNE` settings take tf.data's fixed defaults (on 2 cores this also freed ~10% of a
    BinaryNet MLP epoch).

    Args:
        dataset: A finite, batched `tf.data.Dataset`.

    Returns:
        The endless dataset.
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.repeat().with_options(options)


def _check_cluster(cluster: Cluster, recipe: Recipe, seed: int | None) -> None:
    if seed is None:
        raise ValueError("multi-worker training needs a seed (CLI: --seed): every worker must "
                         "draw the same initial weights and shuffle the data the same way")
    if recipe.batch_size % cluster.num_workers:
        raise ValueError(f"the batch size {recipe.batch_size} does not split evenly between "
                         f"{cluster.num_workers} workers: choose a multiple of "
                         f"{cluster.num_workers} (CLI: --batch-size)")


def callbacks(
    output_dir: str | os.PathLike, worker_dir: str | os.PathLike | None = None,
) -> list[keras.callbacks.Callback]:
    """Checkpoint (.keras, each epoch), backup (resume), both written atomically, and, when the
    `tensorboard` package is installed, TensorBoard logs under `output_dir`.

    Args:
        output_dir: The run directory.
        worker_dir: For the other workers of a multi-process run: a scratch folder that
            receives their checkpoint and backup (on JAX saving is collective, so every worker
            saves), while they resume from the chief's backup in `output_dir`; no logs.

    Returns:
        The callbacks, in the order `fit` needs them.
    """
    output_dir = Path(output_dir)
    if worker_dir is not None:
        worker_dir = Path(worker_dir)
        return [AtomicModelCheckpoint(worker_dir / CHECKPOINT),
                AtomicBackupAndRestore(worker_dir / BACKUP, restore_dir=output_dir / BACKUP)]
    result = [
        AtomicModelCheckpoint(output_dir / CHECKPOINT),
        AtomicBackupAndRestore(output_dir / BACKUP),
    ]
    if importlib.util.find_spec("tensorboard") is not None:
        result.append(keras.callbacks.TensorBoard(os.fspath(output_dir / LOGS)))
    else:
        warnings.warn("tensorboard is not installed: no TensorBoard logs (pip install tensorboard)",
                      stacklevel=2)
    return result


def train(
    model_name: str,
    dataset: str | None = None,
    *,
    epochs: int | None = None,
    batch_size: int | None = None,
    optimizer: str | None = None,
    learning_rate: float | None = None,
    final_learning_rate: float | None = None,
    model_options: Mapping[str, Any] | None = None,
    output_dir: str | os.PathLike = "runs",
    data_dir: str | os.PathLike | None = None,
    limit: int | None = None,
    seed: int | None = None,
    verbose: int | str = "auto",
    overwrite: bool = False,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
    stop_on_non_finite: bool = True,
    cluster: Cluster | None = None,
    model_parallel: int | None = None,
) -> tuple[keras.Model, keras.callbacks.History]:
    """Trains zoo model `model_name` on `dataset` with its recipe (overridden by the arguments).

    Runs `model.fit` with a checkpoint each epoch in `output_dir/checkpoint.keras`, resumes an
    interrupted run of the same arguments from `output_dir/backup`, and writes TensorBoard logs
    (loss, accuracy, learning rate) to `output_dir/logs`. A directory holding another or a
    finished run is refused (FileExistsError) unless `overwrite=True` (see the module
    docstring). `limit` caps the examples per split (quick runs); `seed` seeds the weights,
    dropout and shuffling (`keras.utils.set_random_seed`); `extra_callbacks` go to `fit` too.
    `learning_rate` and `final_learning_rate` override the recipe's schedule ends;
    `model_options` are keyword arguments of the model's builder (e.g. `dropout_hidden`).

    With `stop_on_non_finite` (default), training stops as soon as a layer's weights, BatchNorm
    statistics or optimizer state hold a NaN or an infinity
    (`keras_binary.callbacks.TerminateOnNonFinite`), and a ValueError names the layer.

    With `cluster`, this process is one worker of a multi-process run (see the module
    docstring); the batch size is the global one and must split evenly between the workers.
    With `model_parallel`, the global `keras.distribution` is a `ModelParallel` (as `connect`
    sets a `DataParallel`); `load_checkpoint` gives a copy in this process and device alone.

    Args:
        model_name: Zoo model name.
        dataset: Data set; None takes the recipe's.
        epochs: Overrides the recipe's epochs.
        batch_size: Overrides the recipe's batch size.
        optimizer: Overrides the recipe's optimizer ("adam", "bop", "lab").
        learning_rate: Overrides the first learning rate.
        final_learning_rate: Overrides the last learning rate.
        model_options: Keyword arguments of the model's builder.
        output_dir: Run directory (checkpoint, backup, logs).
        data_dir: tfds data directory; None takes `$KERAS_BINARY_DATA_DIR`, else
            `~/tensorflow_datasets`.
        limit: Examples per split (quick runs); None uses all.
        seed: Seed of weights, dropout and shuffling; None leaves them unseeded.
        verbose: `fit`'s verbosity.
        overwrite: Whether to start afresh in a directory holding another or a finished run.
        extra_callbacks: More callbacks for `fit`.
        stop_on_non_finite: Whether to stop (ValueError naming the layer) once weights,
            statistics or optimizer state go NaN or infinite.
        cluster: This worker's place in a multi-process run; None trains in this process only.
        model_parallel: Devices on the model axis of a JAX
            `keras_binary.model_parallel.model_parallel` mesh over all devices (all workers'
            with `cluster`); None: not model-parallel.

    Returns:
        `(model, history)`.

    Raises:
        FileExistsError: `output_dir` holds another or a finished run and `overwrite` is False.
        WorkerLostError: another worker of `cluster` died or stopped answering.
    """
    recipe = get_recipe(model_name, dataset, epochs=epochs, batch_size=batch_size,
                        optimizer=optimizer, learning_rate=learning_rate,
                        final_learning_rate=final_learning_rate)
    model_options = dict(model_options or {})
    run = {"model": model_name, "recipe": dataclasses.asdict(recipe), "limit": limit,
           "seed": seed}
    if model_options:  # only when given, so runs started before this option still resume
        run["model_options"] = model_options
    if cluster is not None:
        _check_cluster(cluster, recipe, seed)
    if model_parallel is not None:
        require_jax()
    chief = cluster is None or cluster.is_chief
    # The chief settles the run directory before the workers first meet (in `connect` on JAX,
    # when the model's variables are first synchronized on TensorFlow), so the others resume
    # from what it kept.
    done = open_run_directory(output_dir, run, overwrite=overwrite) if chief else 0
    if done and verbose:
        print(f"resuming the interrupted run in {output_dir} after epoch {done}")
    scope = connect(cluster) if cluster is not None else contextlib.nullcontext()
    if model_parallel is not None:
        # The probe, read for its shapes only, draws its initial values before the seed is set,
        # in this process alone: `connect`'s distribution would insist they agree across them.
        keras.distribution.set_distribution(None)
        probe = get_model(model_name, **model_options)
        keras.distribution.set_distribution(model_parallel_distribution(probe, model_parallel))
        del probe
    if seed is not None:
        keras.utils.set_random_seed(seed)
    train_data, test_data, steps, validation_steps = _datasets(
        recipe, data_dir, limit, seed, sharded=cluster is not None)
    endless = steps > 0 and validation_steps > 0
    if not endless:  # unknown cardinality: fall back to the recipe's full-epoch estimate
        steps = steps_per_epoch(60000, recipe.batch_size)
    guard = [TerminateOnNonFinite(verbose=0)] if stop_on_non_finite else []
    # The other workers save into a scratch folder of their own, deleted at the end.
    scratch = contextlib.nullcontext() if chief else tempfile.TemporaryDirectory(prefix="worker-")
    try:
        with scope, scratch as worker_dir:
            model = compile_model(get_model(model_name, **model_options), recipe, steps)
            if cluster is not None:
                synchronize_batch_norm(model)
            history = model.fit(
                train_data,
                validation_data=test_data,
                epochs=recipe.epochs,
                steps_per_epoch=steps if endless else None,
                validation_steps=validation_steps if endless else None,
                shuffle=False,  # tf.data shuffles; Keras ignores (and warns about) True here
                callbacks=[*guard, *callbacks(output_dir, worker_dir), *extra_callbacks],
                verbose=verbose if chief else 0,
            )
    except BackupError as error:
        raise BackupError(
            f"{Path(output_dir) / BACKUP} cannot be resumed ({error.reason}): pass "
            "overwrite=True (CLI: --overwrite) to delete this run and start afresh, or choose "
            "another output directory", reason=error.reason,
        ) from error
    except Exception as error:
        if cluster is None or not peer_lost(error):
            raise
        raise WorkerLostError(
            f"worker {cluster.worker_index} of {cluster.num_workers}: another worker died or "
            f"stopped answering ({type(error).__name__}); start all workers again with the same "
            "arguments to resume from the chief's last backup"
        ) from error
    if guard and guard[0].message is not None:
        raise ValueError(f"{guard[0].message}; lower the learning rate or check the data")
    # XLA speeds up training on TensorFlow's CPU but slows small-batch inference (BinaryNet MLP
    # at batch 1: ~4x), so the returned model predicts as Keras's default compiles it.
    model.jit_compile = None
    model.make_predict_function(force=True)
    return model, history


def load_checkpoint(
    model_name: str, output_dir: str | os.PathLike,
    model_options: Mapping[str, Any] | None = None,
) -> keras.Model:
    """Zoo model `model_name` in this process alone, with the weights of the run's checkpoint.

    After a multi-worker or model-parallel `train`, the trained model's variables span several
    devices (and processes); the chief evaluates and exports this single-device copy instead.

    Args:
        model_name: Zoo model name.
        output_dir: The run directory holding ``checkpoint.keras``.
        model_options: Keyword arguments of the model's builder.

    Returns:
        The model, weights loaded.
    """
    keras.distribution.set_distribution(None)  # `connect` or `model_parallel` set one
    model = get_model(model_name, **dict(model_options or {}))
    model.load_weights(Path(output_dir) / CHECKPOINT)
    return model


def evaluate(
    model: keras.Model,
    dataset: str,
    *,
    data_dir: str | os.PathLike | None = None,
    batch_size: int = 500,
    limit: int | None = None,
) -> dict[str, float]:
    """Test-set accuracy of a classifier `model` on `dataset` (inputs scaled to [-1, 1]); an
    offline-available dataset (MNIST, Fashion-MNIST) is prepared on first use.

    Args:
        model: A trained classifier.
        dataset: A prepared data set name.
        data_dir: tfds data directory; None takes `$KERAS_BINARY_DATA_DIR`, else
            `~/tensorflow_datasets`.
        batch_size: Evaluation batch size.
        limit: Test examples to use; None uses all.

    Returns:
        `{"accuracy": ..., "examples": ...}`.
    """
    from model_zoo import datasets

    datasets.ensure_prepared(dataset, data_dir)
    spec = datasets.dataset_spec(dataset)
    split = "test" if "test" in spec.splits else "validation"
    data = datasets.load(dataset, split, data_dir=data_dir, batch_size=batch_size, limit=limit)
    correct = total = 0
    for images, labels in data.as_numpy_iterator():
        scores = keras.ops.convert_to_numpy(model(images, training=False))
        correct += int((scores.argmax(axis=-1) == labels).sum())
        total += len(labels)
    return {"accuracy": correct / total, "examples": total}
