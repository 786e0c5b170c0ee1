"""`NoOp`: the identity, declaring a precision (e.g. for inputs that are already binary)."""

from __future__ import annotations

from typing import Any

import keras

from keras_binary.quantizers.base import BaseQuantizer


@keras.saving.register_keras_serializable(package="keras_binary")
class NoOp(BaseQuantizer):
    """Identity quantizer that only declares `precision` bits (alias "noop").

    Use it to tell the summary and the optimizers that values are already quantized, e.g. the
    +/-1 outputs of a previous sign activation.

    Args:
        precision: Positive integer, the bits of the values it passes through.

    Example:

    >>> NoOp(precision=1).precision
    1
    """

    def __init__(self, precision: int):
        if not isinstance(precision, int) or isinstance(precision, bool) or precision < 1:
            raise ValueError(f"NoOp precision must be a positive number of bits, got {precision!r}")
        self._precision = precision

    @property
    def precision(self) -> int:  # type: ignore[override]
        return self._precision

    def call(self, x: Any) -> Any:
        return x

    def get_config(self) -> dict[str, Any]:
        return {"precision": self._precision}
