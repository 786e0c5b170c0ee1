"""DoReFa-Net k-bit quantizer (Zhou et al., 2016) for activations or weights."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_binary.quantizers.base import Quantizer, check_float_input, with_pseudo_gradient

MODES = ("activations", "weights")


def _round_k_bit(x: Any, k_bit: int) -> Any:
    levels = float(2**k_bit - 1)
    return ops.round(x * levels) / levels


def dorefa(x: Any, k_bit: int = 2, mode: str = "activations") -> Any:
    """k-bit DoReFa quantization.

    - "activations": round(clip(x, 0, 1) * n) / n with n = 2^k - 1; gradient 1{0 <= x <= 1}.
    - "weights": 2 q(tanh(x) / (2 max |tanh(x)|) + 1/2) - 1, with q the k-bit rounding whose
      gradient is the identity (the gradient flows through the tanh normalisation). An all-zero
      kernel has no scale (max |tanh(x)| = 0): it is divided by 1 instead, so it quantizes to
      q(1/2) and its gradient is the upstream one, finite either way.

    >>> import numpy as np
    >>> np.asarray(dorefa(np.array([-0.2, 0.2, 0.5, 1.4], "float32"), k_bit=2)).tolist()
    [0.0, 0.3333333432674408, 0.6666666865348816, 1.0]
    """
    x = check_float_input(x, "dorefa")
    if mode == "activations":
        return with_pseudo_gradient(
            lambda v: _round_k_bit(ops.clip(v, 0.0, 1.0), k_bit),
            lambda v: ops.logical_and(ops.greater_equal(v, 0.0), ops.less_equal(v, 1.0)),
        )(x)
    if mode == "weights":
        t = ops.tanh(x)
        largest = ops.max(ops.abs(t))
        # 0 / 0 would make every weight NaN; any divisor gives t / it = 0 for an all-zero kernel.
        divisor = ops.where(ops.greater(largest, 0.0), largest, ops.ones_like(largest))
        normalized = t / (2.0 * divisor) + 0.5
        q = with_pseudo_gradient(lambda v: _round_k_bit(v, k_bit), ops.ones_like)(normalized)
        return 2.0 * q - 1.0
    raise ValueError(f"DoReFa mode must be one of {MODES}, got {mode!r}")


@keras.saving.register_keras_serializable(package="keras_binary")
class DoReFa(Quantizer):
    """k-bit DoReFa quantizer (alias "dorefa"); `precision` is `k_bit`.

    >>> DoReFa(k_bit=4, mode="weights").precision
    4
    """

    def __init__(self, k_bit: int = 2, mode: str = "activations"):
        if not isinstance(k_bit, int) or isinstance(k_bit, bool) or not 1 <= k_bit <= 16:
            raise ValueError(f"DoReFa k_bit must be an integer in [1, 16], got {k_bit!r}")
        if mode not in MODES:
            raise ValueError(f"DoReFa mode must be one of {MODES}, got {mode!r}")
        self.k_bit = k_bit
        self.mode = mode

    @property
    def precision(self) -> int:  # type: ignore[override]
        return self.k_bit

    def call(self, x: Any) -> Any:
        return dorefa(x, self.k_bit, self.mode)

    def get_config(self) -> dict[str, Any]:
        return {"k_bit": self.k_bit, "mode": self.mode}
