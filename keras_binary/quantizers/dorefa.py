"""DoReFa-Net k-bit quantizer (Zhou et al., 2016) for activations or weights."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_binary.quantizers.base import BaseQuantizer, check_float_input, with_pseudo_gradient

MODES = ("activations", "weights")


def _round_k_bit(x: Any, k_bit: int) -> Any:
    levels = float(2**k_bit - 1)
    return ops.round(x * levels) / levels


def dorefa(
    x: Any, k_bit: int = 2, mode: str = "activations", gradient_through_max: bool = True
) -> Any:
    """k-bit DoReFa quantization.

    - "activations": round(clip(x, 0, 1) * n) / n with n = 2^k - 1; gradient 1{0 <= x <= 1}.
    - "weights": 2 q(tanh(x) / (2 max |tanh(x)|) + 1/2) - 1, with q the k-bit rounding whose
      gradient is the identity. With `gradient_through_max=True` (the default, as the DoReFa
      authors' code) the gradient also flows through max |tanh(x)|; False treats the max as a
      constant, as Larq does. An all-zero kernel has no scale (max |tanh(x)| = 0):
      it is divided by 1 instead, so it quantizes to q(1/2) and its gradient stays finite.

    Args:
        {{quantizer_input_arg}}
        k_bit: Number of bits, 1 to 16.
        mode: "activations" or "weights", the rule above.

    Returns:
        A tensor like `x` with 2^k_bit levels: in [0, 1] for activations, [-1, 1] for weights.

    Raises:
        ValueError: `mode` is neither "activations" nor "weights".

    Example:

    >>> import numpy as np
    >>> np.asarray(dorefa(np.array([-0.2, 0.2, 0.5, 1.4], "float32"), k_bit=2)).tolist()
    [0.0, 0.3333333432674408, 0.6666666865348816, 1.0]

    References:
        {{ref_dorefa}}
    """
    x = check_float_input(x, "dorefa")
    if mode == "activations":
        return with_pseudo_gradient(
            lambda v: _round_k_bit(ops.clip(v, 0.0, 1.0), k_bit),
            lambda v: ops.logical_and(ops.greater_equal(v, 0.0), ops.less_equal(v, 1.0)),
        )(x)
    if mode == "weights":
        t = ops.tanh(x)
        peak = ops.max(ops.abs(t))
        if not gradient_through_max:
            peak = ops.stop_gradient(peak)
        # 0 / 0 would make every weight NaN; any divisor gives t / it = 0 for an all-zero kernel.
        divisor = ops.where(ops.greater(peak, 0.0), peak, ops.ones_like(peak))
        normalized = t / (2.0 * divisor) + 0.5
        q = with_pseudo_gradient(lambda v: _round_k_bit(v, k_bit), ops.ones_like)(normalized)
        return 2.0 * q - 1.0
    raise ValueError(f"DoReFa mode must be one of {MODES}, got {mode!r}")


@keras.saving.register_keras_serializable(package="keras_binary")
class DoReFa(BaseQuantizer):
    """k-bit DoReFa quantizer (alias "dorefa"); `precision` is `k_bit`.

    Computes `dorefa(x, k_bit, mode)`. Larq's name for it, `DoReFaQuantizer`, is an alias.

    Args:
        k_bit: Number of bits, an integer in [1, 16].
        mode: "activations" (clip to [0, 1], then round) or "weights" (tanh normalization to
            [-1, 1], then round).
        gradient_through_max: weights mode only. True (the default, the DoReFa authors' code)
            lets the gradient flow through the max |tanh(w)| normaliser; False stops it there,
            as Larq's `DoReFa` does.

    Example:

    >>> DoReFa(k_bit=4, mode="weights").precision
    4

    References:
        {{ref_dorefa}}
    """

    def __init__(
        self, k_bit: int = 2, mode: str = "activations", gradient_through_max: bool = True
    ):
        if not isinstance(k_bit, int) or isinstance(k_bit, bool) or not 1 <= k_bit <= 16:
            raise ValueError(f"DoReFa k_bit must be an integer in [1, 16], got {k_bit!r}")
        if mode not in MODES:
            raise ValueError(f"DoReFa mode must be one of {MODES}, got {mode!r}")
        if not isinstance(gradient_through_max, bool):
            raise TypeError(
                f"DoReFa gradient_through_max must be True or False, got {gradient_through_max!r}"
            )
        self.k_bit = k_bit
        self.mode = mode
        self.gradient_through_max = gradient_through_max

    @property
    def precision(self) -> int:  # type: ignore[override]
        return self.k_bit

    def call(self, x: Any) -> Any:
        return dorefa(x, self.k_bit, self.mode, self.gradient_through_max)

    def get_config(self) -> dict[str, Any]:
        return {
            "k_bit": self.k_bit,
            "mode": self.mode,
            "gradient_through_max": self.gradient_through_max,
        }
