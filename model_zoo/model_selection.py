"""`EvaluateAtBestValidation`: test-set metrics of the epoch with the best validation metric.

The papers this zoo reproduces (BinaryConnect, BinaryNet, LAB) hold out part of the training
set, and report the test error of the epoch whose validation error is lowest. This callback
gives `model.fit` that protocol:

>>> import keras
>>> from model_zoo.model_selection import EvaluateAtBestValidation
>>> selector = EvaluateAtBestValidation(x_test, y_test, monitor="val_accuracy")  # doctest: +SKIP
>>> model.fit(x, y, validation_data=(x_val, y_val), callbacks=[selector])  # doctest: +SKIP
>>> selector.best_epoch, selector.test_results["accuracy"]  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import keras

MODES = ("max", "min")


class EvaluateAtBestValidation(keras.callbacks.Callback):
    """Evaluates on held-out test data at each epoch where `monitor` is the best so far.

    Args:
        x: the test inputs (never used for training or selection).
        y: the test labels.
        monitor: a validation metric in the epoch logs, e.g. "val_accuracy" or "val_loss".
        mode: "max" if larger is better, "min" if smaller is.
        batch_size: evaluation batch size.

    A tie counts as an improvement (the later epoch wins), as in the papers' scripts. After
    `fit`, `best_epoch` (0-based, as Keras logs count) and `best_value` hold the selected epoch
    and its validation value, and `test_results` the test metrics (`model.evaluate`, as a dict)
    at that epoch.
    """

    def __init__(self, x: Any, y: Any, monitor: str = "val_accuracy", mode: str = "max",
                 batch_size: int = 1000):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if not monitor.startswith("val_"):
            raise ValueError(
                f"monitor must be a validation metric (a 'val_' key of the logs), got {monitor!r}"
            )
        self.x, self.y = x, y
        self.monitor, self.mode, self.batch_size = monitor, mode, batch_size
        self.best_epoch: int | None = None
        self.best_value: float | None = None
        self.test_results: dict[str, float] = {}

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.best_epoch, self.best_value, self.test_results = None, None, {}

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if self.monitor not in logs:
            raise KeyError(
                f"{self.monitor!r} is not in the epoch logs ({sorted(logs)}); pass "
                "validation_data to fit()"
            )
        value = float(logs[self.monitor])
        improved = self.best_value is None or (
            value >= self.best_value if self.mode == "max" else value <= self.best_value
        )
        if improved:
            self.best_epoch, self.best_value = epoch, value
            self.test_results = self.model.evaluate(
                self.x, self.y, batch_size=self.batch_size, verbose=0, return_dict=True
            )
