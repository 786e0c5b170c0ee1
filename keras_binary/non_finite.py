"""Find the first layer whose weights, statistics or optimizer state hold a NaN or an infinity,
and `TerminateOnNonFinite`, the callback that stops training there.

A non-finite value can hide from the loss: BatchNorm moving statistics are not part of the
training loss, and an optimizer that skips non-finite steps (`keras_binary.optimizers`) keeps
the loss finite on the next batch. This looks at the state itself.

Example:

>>> import keras, numpy as np
>>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, name="head")])
>>> first_non_finite(model) is None
True
>>> _ = model.get_layer("head").bias.assign(np.array([np.nan], "float32"))
>>> first_non_finite(model)
"layer 'head': weight 'bias' is non-finite"
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import keras
import numpy as np
from keras import ops


def _leaf_layers(layer: Any) -> Iterator[Any]:
    """The layers of ``layer`` in order, nested models opened up."""
    for sublayer in layer.layers:
        if isinstance(sublayer, keras.Model):
            yield from _leaf_layers(sublayer)
        else:
            yield sublayer


def _slot_owner(slot: Any, variables: list[Any]) -> Any:
    """The model variable an optimizer slot was made for (Keras names slots ``<path>_<name>``),
    or None for the optimizer's own variables (iterations, learning rate, counters)."""
    owners = [v for v in variables if slot.name.startswith(v.path.replace("/", "_") + "_")]
    return max(owners, key=lambda v: len(v.path), default=None)


def _finite_flags(variables: list[Any]) -> np.ndarray:
    """One bool per variable: all its values finite. One transfer from the device."""
    if not variables:
        return np.ones((0,), bool)
    return ops.convert_to_numpy(ops.stack([ops.all(ops.isfinite(v)) for v in variables]))


def first_non_finite(model: keras.Model, optimizer: Any = None) -> str | None:
    """Names the first layer (in model order) with a non-finite weight, statistic or optimizer
    state, or an optimizer variable of no layer; None when everything is finite.

    Args:
        model: the model to inspect (nested models are opened up).
        optimizer: whose state to inspect too; defaults to ``model.optimizer`` when compiled.

    Returns:
        One line such as ``"layer 'bn': statistic 'moving_mean' is non-finite"``, or None.
    """
    if optimizer is None:
        optimizer = getattr(model, "optimizer", None)
    layers = list(_leaf_layers(model))
    model_variables = [v for layer in layers for v in layer.weights]
    slots: dict[int, list[Any]] = {}
    loose = []  # optimizer variables tied to no model variable
    for variable in optimizer.variables if optimizer is not None else ():
        owner = _slot_owner(variable, model_variables)
        (slots.setdefault(id(owner), []) if owner is not None else loose).append(variable)
    checks = []  # (who, what, variable), in report order
    for layer in layers:
        who = f"layer {layer.name!r}"
        for variable in layer.weights:
            checks.append((who, "weight" if variable.trainable else "statistic", variable))
        for variable in layer.weights:
            checks.extend((who, "optimizer state", slot) for slot in slots.get(id(variable), ()))
    owner_names = {id(v): inner.name for inner in getattr(optimizer, "optimizers", ())
                   for v in inner.variables}  # the optimizers inside a CaseOptimizer
    checks.extend((f"optimizer {owner_names.get(id(v), optimizer.name)!r}", "variable", v)
                  for v in loose)
    checks = [c for c in checks if keras.backend.is_float_dtype(c[2].dtype)]
    flags = _finite_flags([variable for _, _, variable in checks])
    for (who, what, variable), finite in zip(checks, flags, strict=True):
        if not finite:
            return f"{who}: {what} {variable.name!r} is non-finite"
    return None


class TerminateOnNonFinite(keras.callbacks.Callback):
    """Stops training when a weight, statistic or optimizer state goes NaN or infinite, with a
    one-line message naming the first such layer.

    The state is scanned at the end of every epoch, and after a batch whose loss is not finite
    (once per epoch: Keras's running loss stays NaN for the rest of the epoch). A NaN loss alone
    does not stop training: an optimizer that skips non-finite steps leaves the state intact.

    Args:
        verbose: print the message when stopping (1, default) or not (0).

    Attributes:
        message: the one-line reason once training was stopped, else None.

    Example:

    >>> import keras
    >>> from keras_binary.callbacks import TerminateOnNonFinite
    >>> stop = TerminateOnNonFinite()
    >>> # model.fit(x, y, callbacks=[stop]); then stop.message says why it stopped, if it did
    """

    def __init__(self, verbose: int = 1):
        super().__init__()
        self.verbose = verbose
        self.message: str | None = None
        self._scanned_epoch: int | None = None
        self._epoch = 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.message = None
        self._scanned_epoch = None

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is None or self._scanned_epoch == self._epoch:
            return
        if not np.all(np.isfinite(ops.convert_to_numpy(loss))):
            self._scanned_epoch = self._epoch
            self._check(f"epoch {self._epoch + 1}, batch {batch + 1}")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._check(f"end of epoch {epoch + 1}")

    def _check(self, when: str) -> None:
        if self.message is not None:
            return
        model = self.model  # on JAX this syncs the training state into the variables
        found = first_non_finite(model)
        if found is None:
            return
        self.message = f"TerminateOnNonFinite: stopped training at {when}: {found}"
        model.stop_training = True
        if self.verbose:
            print(self.message)
