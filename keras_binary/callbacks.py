"""Training callbacks: `HyperparameterScheduler` sets any optimizer hyperparameter from a
schedule (Larq's API); `TerminateOnNonFinite` stops training when a layer's weights, statistics
or optimizer state go NaN or infinite (`keras_binary.non_finite`).

Example: Bop's gamma divided by 10 every 100 epochs, logged to TensorBoard (put the scheduler
before `keras.callbacks.TensorBoard` in the list so its log reaches it):

>>> import keras
>>> from keras_binary.callbacks import HyperparameterScheduler
>>> from keras_binary.optimizers import Bop, CaseOptimizer, is_binary_variable
>>> bop = Bop(gamma=1e-4)
>>> optimizer = CaseOptimizer((is_binary_variable, bop), default_optimizer=keras.optimizers.Adam())
>>> scheduler = HyperparameterScheduler(lambda epoch: 1e-4 * 0.1 ** (epoch // 100), "gamma", bop)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import keras
from keras import ops

from keras_binary.non_finite import TerminateOnNonFinite

__all__ = ["HyperparameterScheduler", "TerminateOnNonFinite"]

UPDATE_FREQS = ("epoch", "step")


class HyperparameterScheduler(keras.callbacks.Callback):
    """Sets `optimizer.<hyperparameter>` to `schedule(epoch)` or `schedule(step)`.

    Args:
        schedule: function of the epoch (or of the global step) returning a float; a function
            that takes two arguments gets the current value as the second, as in Larq.
        hyperparameter: attribute name, e.g. "gamma", "threshold", "learning_rate".
        optimizer: the optimizer holding it (e.g. an optimizer inside a `CaseOptimizer`);
            defaults to `model.optimizer`.
        update_freq: "epoch" (at each epoch start) or "step" (before each training step).
        verbose: print each new value when > 0.
        log_name: key of the value in the epoch logs (History, TensorBoard); defaults to
            `hyperparameter`.

    The hyperparameter must be a variable of the optimizer (a float argument of `Bop`, a Keras
    `learning_rate` given as a float): a plain Python attribute would be frozen into the
    compiled train step, so it is refused with a ValueError.
    """

    def __init__(
        self,
        schedule: Callable[[int], float],
        hyperparameter: str,
        optimizer: keras.optimizers.Optimizer | None = None,
        update_freq: str = "epoch",
        verbose: int = 0,
        log_name: str | None = None,
    ):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"schedule must be a function of the epoch or step, got {schedule!r}")
        if update_freq not in UPDATE_FREQS:
            raise ValueError(f"update_freq must be one of {UPDATE_FREQS}, got {update_freq!r}")
        self.schedule = schedule
        self._pass_current = _takes_two_arguments(schedule)
        self.hyperparameter = hyperparameter
        self.optimizer = optimizer
        self.update_freq = update_freq
        self.verbose = verbose
        self.log_name = log_name or hyperparameter
        self._step = 0

    def _target(self) -> keras.optimizers.Optimizer:
        model = self.model  # on JAX this syncs the training state, so a new value is picked up
        optimizer = self.optimizer if self.optimizer is not None else model.optimizer
        if not hasattr(optimizer, self.hyperparameter):
            raise ValueError(
                f"Optimizer {optimizer.name!r} has no hyperparameter {self.hyperparameter!r}"
            )
        if isinstance(getattr(optimizer, self.hyperparameter), (int, float)):
            raise ValueError(
                f"{optimizer.name}.{self.hyperparameter} is a Python number, fixed when the train "
                "step is compiled; only variable hyperparameters (Bop's gamma/threshold, a float "
                "learning_rate) can be scheduled."
            )
        return optimizer

    def _set(self, when: int) -> None:
        optimizer = self._target()
        if self._pass_current:
            current = float(ops.convert_to_numpy(getattr(optimizer, self.hyperparameter)))
            value = float(self.schedule(when, current))
        else:
            value = float(self.schedule(when))
        setattr(optimizer, self.hyperparameter, value)
        if self.verbose > 0:
            print(f"{self.update_freq} {when}: {self.hyperparameter} set to {value:g}")

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._target()  # fail early on a bad hyperparameter

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.update_freq == "epoch":
            self._set(epoch)

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if self.update_freq == "step":
            self._set(self._step)
            self._step += 1

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            value = getattr(self._target(), self.hyperparameter)
            logs[self.log_name] = float(ops.convert_to_numpy(value))


def _takes_two_arguments(schedule: Callable) -> bool:
    """Whether `schedule(when, current_value)` binds (Larq's two-argument schedules)."""
    try:
        inspect.signature(schedule).bind(0, 0.0)
    except (TypeError, ValueError):  # one argument, or a builtin without a signature
        return False
    return True
