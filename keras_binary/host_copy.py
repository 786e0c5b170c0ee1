"""A copy in this process of a model whose variables JAX splits across processes, for saving.

Keras 3.15 saves a variable by reading it whole (`numpy.asarray`), which JAX refuses for an
array split across processes: a `keras.distribution.ModelParallel` whose model axis spans the
devices of several processes (`keras_binary.model_parallel` after
`keras_binary.distributed.connect`). `HostCopy` keeps a twin of the model, rebuilt from its
config without a distribution (on this process's default device), and `HostCopy.refresh` copies
every variable into it, optimizer state included: the split ones through
`jax.experimental.multihost_utils.process_allgather`, a collective. Keras then saves the twin:
the same config and the same values, hence the same file a single process writes, which
`keras.saving.load_model` reads anywhere.

Refreshing is collective: every process must call it at the same point (the checkpoint
callbacks of `keras_binary.checkpointing` do, on every worker, each epoch). The twin holds a
second copy of all the weights in host memory.

Example:

>>> copy = HostCopy(model) if split_across_processes(model) else None  # doctest: +SKIP
>>> (copy.refresh(model) if copy else model).save("model.keras")  # doctest: +SKIP
"""

from __future__ import annotations

import random
from typing import Any

import keras
import numpy as np


def _split(value: Any) -> bool:
    """Whether `value` is a JAX array that this process holds only a part of."""
    return (hasattr(value, "is_fully_addressable") and not value.is_fully_addressable
            and not value.is_fully_replicated)


def split_across_processes(model: keras.Model) -> bool:
    """Whether some variable of `model` is split across processes (JAX only).

    Args:
        model: A built model.

    Returns:
        True when Keras cannot save `model` itself: save a `HostCopy` instead.
    """
    if keras.backend.backend() != "jax":
        return False
    return any(_split(variable.value) for variable in model.variables)


def _state(model: keras.Model) -> list[Any]:
    """The variables Keras saves: the model's (weights, statistics, seed states), then its
    optimizer's once built."""
    optimizer = getattr(model, "optimizer", None)
    built = optimizer is not None and optimizer.built
    return [*model.variables, *(optimizer.variables if built else ())]


def gather(values: list[Any]) -> list[np.ndarray]:
    """Each of `values` whole, as numpy, in every process.

    A collective when a value is split across processes: every process must call it with the
    same list at the same point.

    Args:
        values: Backend arrays (or variables' ``.value``).

    Returns:
        The full arrays.
    """
    split = [index for index, value in enumerate(values) if _split(value)]
    result = [None if _split(value) else keras.ops.convert_to_numpy(value) for value in values]
    if split:
        from jax.experimental import multihost_utils

        gathered = multihost_utils.process_allgather([values[i] for i in split], tiled=True)
        for index, value in zip(split, gathered, strict=True):
            result[index] = np.asarray(value)
    return result


class HostCopy:
    """A twin of `model` on this process's default device, refreshed from it by a collective.

    The twin is rebuilt from `model`'s config and compile config (as `keras.saving.load_model`
    does) when first refreshed; building it leaves Python's random state as it was, so the
    seeds drawn afterwards do not depend on whether a copy was made.

    Args:
        model: A built (and, to save optimizer state, compiled) model, serializable with
            `keras.saving.serialize_keras_object`.

    Example:

    >>> copy = HostCopy(model)  # doctest: +SKIP
    >>> copy.refresh(model).save_weights("latest.weights.h5")  # doctest: +SKIP
    """

    def __init__(self, model: keras.Model) -> None:
        self.model = model
        self._twin: keras.Model | None = None

    def _build(self) -> keras.Model:
        config = keras.saving.serialize_keras_object(self.model)
        distribution, state = keras.distribution.distribution(), random.getstate()
        keras.distribution.set_distribution(None)  # the twin's variables stay in this process
        try:
            return keras.saving.deserialize_keras_object(config)
        finally:
            keras.distribution.set_distribution(distribution)
            random.setstate(state)  # unseeded initializers draw from it

    def refresh(self, model: keras.Model | None = None) -> keras.Model:
        """Copies the values of `model` (None: the one given at construction) into the twin.

        Collective: every process calls it at the same point.

        Args:
            model: The model, or the same model as synchronized by a callback's `self.model`.

        Returns:
            The twin, holding `model`'s current values.

        Raises:
            ValueError: the twin's variables do not match the model's (a model whose config
                does not rebuild it).
        """
        model = self.model if model is None else model
        if self._twin is None:
            self._twin = self._build()
        source, target = _state(model), _state(self._twin)
        shapes = [tuple(v.shape) for v in source], [tuple(v.shape) for v in target]
        if shapes[0] != shapes[1]:
            raise ValueError(
                f"{model.name} rebuilt from its config has {len(target)} variables where it has "
                f"{len(source)} (or other shapes): its get_config must describe every layer to "
                "save it while its variables are split across processes")
        for variable, value in zip(target, gather([v.value for v in source]), strict=True):
            variable.assign(value)
        return self._twin
