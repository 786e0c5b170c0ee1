"""`FlipRatio`: the fraction of binary weights whose sign changed in the last training step.

It is a callback (Keras 3 metrics see only `y_true`/`y_pred`, and on JAX cannot read model
weights inside the compiled step): after each step it compares the signs of the binary
variables with those of the step before and writes `flip_ratio` into the batch logs, and the
mean over the epoch's steps into the epoch logs, where History and TensorBoard pick it up
(list it before `keras.callbacks.TensorBoard`). It copies the binary weights to the host every
step (on JAX it also syncs the training state), so use it for monitoring, not for speed.

>>> import keras
>>> from keras_binary.metrics import FlipRatio
>>> callbacks = [FlipRatio(), keras.callbacks.TensorBoard("logs")]
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from keras_binary.precision import is_binary_variable


class FlipRatio(keras.callbacks.Callback):
    """Logs the fraction of binary weights flipped by each step (`name` in the logs).

    Args:
        variables: the variables to watch; defaults to the model's binary trainable variables
            (`keras_binary.precision.is_binary_variable`).
        name: the log key.
    """

    def __init__(self, variables: list[Any] | None = None, name: str = "flip_ratio"):
        super().__init__()
        self.variables = variables
        self.name = name
        self.ratios: list[float] = []

    def _signs(self) -> np.ndarray:
        self.model  # noqa: B018 -- syncs the JAX training state into the variables
        return np.concatenate([np.ravel(np.asarray(v.numpy()) >= 0) for v in self._watched])

    def on_train_begin(self, logs: dict | None = None) -> None:
        watched = self.variables
        if watched is None:
            watched = [v for v in self.model.trainable_variables if is_binary_variable(v)]
        if not watched:
            raise ValueError(
                "FlipRatio found no binary variables: the model has no kernel tagged with a "
                "1-bit quantizer; pass variables=[...] explicitly."
            )
        self._watched = list(watched)
        self._previous = self._signs()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.ratios = []

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        signs = self._signs()
        ratio = float(np.mean(signs != self._previous))
        self._previous = signs
        self.ratios.append(ratio)
        if logs is not None:
            logs[self.name] = ratio

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None and self.ratios:
            logs[self.name] = float(np.mean(self.ratios))
