"""Optimizer hyperparameters that are either a float (a saved, assignable variable) or a schedule.

Keras treats `learning_rate` this way; `Bop` uses the same rules for `threshold` and `gamma`, so
`keras_binary.callbacks.HyperparameterScheduler` can assign them between steps and a
`keras.optimizers.schedules.LearningRateSchedule` (or any serializable `step -> value` callable)
can drive them inside the compiled step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
from keras import ops


def create(optimizer: keras.optimizers.Optimizer, name: str, value: Any) -> Any:
    """A non-trainable optimizer variable holding float `value`, or `value` itself if a schedule.

    Args:
        optimizer: The optimizer that owns it.
        name: Variable name.
        value: A float or a `keras.optimizers.schedules.LearningRateSchedule`.

    Returns:
        The variable or the schedule.
    """
    if callable(value):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"{type(optimizer).__name__} {name} must be a float or a schedule "
            f"(a keras.optimizers.schedules.LearningRateSchedule or a callable step -> value), "
            f"got {value!r}"
        )
    if value < 0:
        raise ValueError(f"{type(optimizer).__name__} {name} must be >= 0, got {value!r}")
    return optimizer.add_variable(
        shape=(),
        initializer=keras.initializers.Constant(float(value)),
        aggregation="only_first_replica",
        name=name,
    )


def current(optimizer: keras.optimizers.Optimizer, hyperparameter: Any, dtype: str) -> Any:
    """The value of `hyperparameter` at the optimizer's current step, as a `dtype` tensor.

    Args:
        optimizer: The optimizer.
        hyperparameter: What `create` returned.
        dtype: Dtype of the result.

    Returns:
        A scalar tensor.
    """
    if isinstance(hyperparameter, keras.Variable):
        return ops.cast(hyperparameter, dtype)
    return ops.cast(hyperparameter(optimizer.iterations), dtype)


def assign(
    optimizer: keras.optimizers.Optimizer, name: str, hyperparameter: Any, value: Any
) -> None:
    """Sets a float hyperparameter; a clear error when it was created as a schedule.

    Args:
        optimizer: The optimizer.
        name: The hyperparameter's name, for the message.
        hyperparameter: What `create` returned.
        value: The new float value.

    Raises:
        TypeError: the hyperparameter is a schedule.
    """
    if not isinstance(hyperparameter, keras.Variable):
        raise TypeError(
            f"{type(optimizer).__name__} {name} was created as a schedule and cannot be set to "
            f"{value!r}; create the optimizer with a float {name} to assign it."
        )
    hyperparameter.assign(value)


def serialize(hyperparameter: Any) -> Any:
    """A float for a variable, the Keras serialization of a schedule otherwise.

    Args:
        hyperparameter: What `create` returned.

    Returns:
        A float or a schedule config.
    """
    if isinstance(hyperparameter, keras.Variable):
        return float(ops.convert_to_numpy(hyperparameter))
    return keras.saving.serialize_keras_object(hyperparameter)


def deserialize(config: Any) -> float | Callable[[Any], Any]:
    """Inverse of `serialize`.

    Args:
        config: What `serialize` returned.

    Returns:
        A float or a schedule.
    """
    if isinstance(config, (int, float)):
        return float(config)
    return keras.saving.deserialize_keras_object(config)
