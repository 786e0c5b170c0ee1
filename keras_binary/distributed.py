"""Multi-process data-parallel training on the backends' own engines.

One process per worker; each joins the cluster with `connect` before it builds a model:

- JAX: `jax.distributed.initialize` (CPU collectives over gloo, so several processes on one
  machine work too) and `keras.distribution.DataParallel` over every process's devices;
- TensorFlow: `tf.distribute.MultiWorkerMirroredStrategy`, configured through `TF_CONFIG`.

On JAX, a `keras_binary.model_parallel` distribution set after `connect` splits the large
kernels over all the processes' devices instead (the checkpoints then save a gathered copy,
`keras_binary.host_copy`).

A worker is described by `Cluster` (number of workers, this worker's index, the coordinator's
``HOST:PORT``), given explicitly or read from the environment (`Cluster.from_env`):
``KERAS_BINARY_NUM_WORKERS``, ``KERAS_BINARY_WORKER_INDEX``, ``KERAS_BINARY_COORDINATOR`` and
optionally ``KERAS_BINARY_WORKER_TIMEOUT`` (seconds). Worker 0 is the chief: it alone writes
checkpoints. On TensorFlow, worker ``i`` listens on the coordinator's port + ``i`` (all on the
coordinator's host) unless ``TF_CONFIG`` is already set, which then describes the cluster
(workers on several machines).

Each worker feeds the same global batches (same data, same seed); the distribution hands each
one its slice of every batch (`shard_by_example`), so no example is used twice per epoch and the
updates equal one process's on the same global batch. On TensorFlow, `synchronize_batch_norm`
makes batch normalization use the global batch's statistics too (JAX's global arrays do so
already).

Example:

>>> cluster = Cluster.from_env()  # None when the variables are not set: one process
>>> with connect(cluster) if cluster else contextlib.nullcontext():  # doctest: +SKIP
...     model = build_and_compile()
...     model.fit(shard_by_example(dataset), epochs=3)
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Mapping
from typing import Any

import keras

NUM_WORKERS, WORKER_INDEX, COORDINATOR, WORKER_TIMEOUT = (
    "KERAS_BINARY_NUM_WORKERS", "KERAS_BINARY_WORKER_INDEX", "KERAS_BINARY_COORDINATOR",
    "KERAS_BINARY_WORKER_TIMEOUT")
DEFAULT_TIMEOUT_S = 300  # joining, and how long a silent peer is waited for before giving up
# TensorFlow's errors when a peer is gone or a collective timed out.
_PEER_ERRORS = frozenset({"UnavailableError", "DeadlineExceededError", "AbortedError",
                          "CancelledError"})
# JAX reports a dead peer as a runtime error of its CPU collectives (gloo) or of its
# coordination service, told apart from other runtime errors by these words.
_JAX_PEER_ERRORS = frozenset({"JaxRuntimeError", "XlaRuntimeError"})
_JAX_PEER_WORDS = ("Gloo", "Connection reset by peer", "heartbeat", "coordination service")


class WorkerLostError(ConnectionError):
    """Another worker died or stopped answering; restart all workers to resume."""


@dataclasses.dataclass(frozen=True)
class Cluster:
    """One worker's place in a multi-process training run.

    Args:
        num_workers: Number of worker processes (>= 1).
        worker_index: This worker's index, 0 (the chief) to `num_workers - 1`.
        coordinator: ``HOST:PORT`` of the chief (JAX's coordination service; on TensorFlow
            worker ``i`` listens on ``PORT + i``).
        timeout_s: Seconds to wait for all workers to join and for a silent peer.

    Example:

    >>> Cluster(2, 1, "127.0.0.1:5000").is_chief
    False
    """

    num_workers: int
    worker_index: int
    coordinator: str
    timeout_s: int = DEFAULT_TIMEOUT_S

    def __post_init__(self) -> None:
        if not isinstance(self.num_workers, int) or self.num_workers < 1:
            raise ValueError(f"num_workers must be an int >= 1, got {self.num_workers!r}")
        if not isinstance(self.worker_index, int) or not 0 <= self.worker_index < self.num_workers:
            raise ValueError(f"worker_index must be in 0..{self.num_workers - 1}, got "
                             f"{self.worker_index!r}")
        host, _, port = str(self.coordinator).rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"coordinator must be HOST:PORT (e.g. 127.0.0.1:12345), got "
                             f"{self.coordinator!r}")
        if not isinstance(self.timeout_s, int) or self.timeout_s < 1:
            raise ValueError(f"timeout_s must be an int >= 1, got {self.timeout_s!r}")

    @property
    def is_chief(self) -> bool:
        """Whether this is worker 0, the one that writes checkpoints and logs."""
        return self.worker_index == 0

    def worker_addresses(self) -> list[str]:
        """``HOST:PORT + i`` for each worker ``i`` (TensorFlow's cluster on one host)."""
        host, _, port = self.coordinator.rpartition(":")
        return [f"{host}:{int(port) + index}" for index in range(self.num_workers)]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Cluster | None:
        """The cluster described by the ``KERAS_BINARY_*`` variables, or None if unset.

        Args:
            environ: The environment; None reads `os.environ`.

        Returns:
            A `Cluster`, or None when ``KERAS_BINARY_NUM_WORKERS`` is not set.
        """
        environ = os.environ if environ is None else environ
        if not environ.get(NUM_WORKERS):
            return None
        values = {}
        for name, field in ((NUM_WORKERS, "num_workers"), (WORKER_INDEX, "worker_index"),
                            (WORKER_TIMEOUT, "timeout_s")):
            text = environ.get(name, "0" if field == "worker_index" else "")
            if field == "timeout_s" and not text:
                continue
            try:
                values[field] = int(text)
            except ValueError:
                raise ValueError(f"{name} must be an integer, got {text!r}") from None
        if not environ.get(COORDINATOR):
            raise ValueError(f"{NUM_WORKERS} is set but {COORDINATOR} is not: set it to the "
                             "chief's HOST:PORT")
        return cls(coordinator=environ[COORDINATOR], **values)


def _tf_config(cluster: Cluster) -> str:
    return json.dumps({"cluster": {"worker": cluster.worker_addresses()},
                       "task": {"type": "worker", "index": cluster.worker_index}})


def _tensorflow_strategy(cluster: Cluster) -> Any:
    import tensorflow as tf

    class Strategy(tf.distribute.MultiWorkerMirroredStrategy):
        """Keras 3's TensorFlow trainer asks `reduce` for a nested batch and for scalars with
        `axis=0` (keras-team/keras#20585); this reduces each element, scalars without axis."""

        def reduce(self, reduce_op: Any, value: Any, axis: int | None) -> Any:
            if tf.nest.is_nested(value):
                return tf.nest.map_structure(lambda item: self.reduce(reduce_op, item, axis),
                                             value)
            if axis is not None and self.experimental_local_results(value)[0].shape.rank == 0:
                axis = None
            return super().reduce(reduce_op, value, axis)

    os.environ.setdefault("TF_CONFIG", _tf_config(cluster))
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=cluster.timeout_s)
    return Strategy(communication_options=options)


def connect(cluster: Cluster) -> contextlib.AbstractContextManager:
    """Joins `cluster` (waiting up to `cluster.timeout_s` for the other workers) and returns the
    scope in which to build, compile and fit the model.

    Call it once per process, before any backend computation. On JAX it starts the distributed
    runtime and sets a `keras.distribution.DataParallel` over all processes' devices (the
    returned scope does nothing); on TensorFlow it creates a `MultiWorkerMirroredStrategy` and
    returns its scope.

    Args:
        cluster: This worker's `Cluster`.

    Returns:
        A context manager: build, compile and `fit` the model inside it.

    Raises:
        ValueError: the backend is neither JAX nor TensorFlow.

    Example:

    >>> with connect(Cluster(2, 0, "127.0.0.1:5000")):  # doctest: +SKIP
    ...     model.fit(shard_by_example(dataset))
    """
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        # XLA's CPU client has no cross-process collectives of its own; gloo provides them.
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize(
            cluster.coordinator, cluster.num_workers, cluster.worker_index,
            initialization_timeout=cluster.timeout_s,
            heartbeat_timeout_seconds=cluster.timeout_s,
            # At exit a survivor of a dead peer waits this long for it, then ends.
            shutdown_timeout_seconds=cluster.timeout_s,
        )
        keras.distribution.set_distribution(keras.distribution.DataParallel())
        return contextlib.nullcontext()
    if backend == "tensorflow":
        return _tensorflow_strategy(cluster).scope()
    raise ValueError(f"multi-worker training runs on the jax and tensorflow backends, not "
                     f"{backend}: set KERAS_BACKEND=jax or KERAS_BACKEND=tensorflow")


def shard_by_example(dataset: Any) -> Any:
    """`dataset` (a batched `tf.data.Dataset` of global batches) with TensorFlow's auto-sharding
    set to split each batch between the workers, as Keras's JAX `DataParallel` does.

    The default policy would give each worker whole input files when the data is read from
    several: the global batches, hence the updates, would then differ from one process's.
    Every worker must build the same dataset (same seed); batches must be divisible by the
    number of workers and all equal (`drop_remainder=True`).

    Args:
        dataset: A batched `tf.data.Dataset`.

    Returns:
        The dataset with its sharding policy set.
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def synchronize_batch_norm(model: keras.Model) -> int:
    """Makes `model`'s `BatchNormalization` layers normalize with the global batch's statistics
    under a TensorFlow distribution strategy, as one process on that batch does.

    Keras's layer normalizes each replica's slice of the batch unless it is `synchronized`, so
    `MultiWorkerMirroredStrategy` would train another function than one process. The layers
    read the flag when the training step is traced: call this before `fit`. Their config then
    records ``synchronized=True``, which only TensorFlow accepts when rebuilding the model from
    a saved ``.keras`` file (`load_weights` works on every backend). On other backends it
    changes nothing: JAX's `DataParallel` computes statistics over the global array.

    Args:
        model: A model built inside the strategy's scope; nested models are included.

    Returns:
        The number of layers changed.

    Example:

    >>> with connect(Cluster(2, 0, "127.0.0.1:5000")):  # doctest: +SKIP
    ...     model = build_and_compile()
    ...     synchronize_batch_norm(model)
    ...     model.fit(shard_by_example(dataset))
    """
    if keras.backend.backend() != "tensorflow":
        return 0
    changed, pending = 0, list(model.layers)
    while pending:
        layer = pending.pop()
        pending.extend(getattr(layer, "layers", []))  # a nested model's layers
        if isinstance(layer, keras.layers.BatchNormalization) and not layer.synchronized:
            layer.synchronized = True
            changed += 1
    return changed


def peer_lost(error: BaseException) -> bool:
    """Whether `error` is the backend's report of a dead or silent peer worker.

    Args:
        error: An exception raised by `fit` under `connect`.

    Returns:
        True for TensorFlow's unavailable, deadline-exceeded, aborted or cancelled errors, and
        for JAX's runtime errors of its collectives (gloo) or coordination service.
    """
    name = type(error).__name__
    if name in _JAX_PEER_ERRORS:
        return any(word in str(error) for word in _JAX_PEER_WORDS)
    return name in _PEER_ERRORS
