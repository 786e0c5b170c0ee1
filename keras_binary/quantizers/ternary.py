"""Ternary quantizer: -1, 0, +1 with a threshold (Ternary Weight Networks when asked)."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_binary.quantizers.base import BaseQuantizer, check_float_input
from keras_binary.quantizers.sign import _check_positive, check_clip_value, with_straight_through


def ste_tern(
    x: Any,
    threshold_value: float = 0.05,
    ternary_weight_networks: bool = False,
    clip_value: float | None = 1.0,
) -> Any:
    """+1 where x >= t, -1 where x <= -t, 0 in between; gradient 1{|x| <= clip_value} (1 when
    `clip_value` is None).

    The threshold t is `threshold_value`, or 0.7 * mean |x| over the whole tensor when
    `ternary_weight_networks=True` (Li et al., 2016).

    Args:
        {{quantizer_input_arg}}
        threshold_value: The threshold t when `ternary_weight_networks` is False.
        ternary_weight_networks: Whether t is 0.7 * mean |x| (the TWN rule) instead.
        {{clip_value_arg}}

    Returns:
        A tensor like `x` holding -1.0, 0.0 and +1.0.

    Example:

    >>> import numpy as np
    >>> np.asarray(ste_tern(np.array([-0.5, 0.01, 0.05, 0.3], "float32"))).tolist()
    [-1.0, 0.0, 1.0, 1.0]

    References:
        {{ref_twn}}
    """
    x = check_float_input(x, "ste_tern")
    if ternary_weight_networks:
        threshold = ops.stop_gradient(0.7 * ops.mean(ops.abs(x)))
    else:
        threshold = ops.cast(threshold_value, x.dtype)

    def forward(v):
        one = ops.ones_like(v)
        return ops.where(
            ops.greater_equal(v, threshold),
            one,
            ops.where(ops.less_equal(v, -threshold), -one, ops.zeros_like(v)),
        )

    return with_straight_through(forward, clip_value)(x)


@keras.saving.register_keras_serializable(package="keras_binary")
class SteTern(BaseQuantizer):
    """Ternary quantizer with a straight-through estimator (alias "ste_tern"); precision 2.

    Computes `ste_tern`: +1 where x >= t, -1 where x <= -t, 0 in between.

    Args:
        threshold_value: The threshold t when `ternary_weight_networks` is False; must be > 0.
        ternary_weight_networks: Whether t is 0.7 * mean |x| over the tensor (the TWN rule).
        {{clip_value_arg}}

    Example:

    >>> SteTern(threshold_value=0.1).precision
    2

    References:
        {{ref_twn}}
    """

    precision = 2

    def __init__(
        self,
        threshold_value: float = 0.05,
        ternary_weight_networks: bool = False,
        clip_value: float | None = 1.0,
    ):
        self.threshold_value = _check_positive("threshold_value", threshold_value)
        self.ternary_weight_networks = bool(ternary_weight_networks)
        self.clip_value = check_clip_value(clip_value)

    def call(self, x: Any) -> Any:
        return ste_tern(x, self.threshold_value, self.ternary_weight_networks, self.clip_value)

    def get_config(self) -> dict[str, Any]:
        return {
            "threshold_value": self.threshold_value,
            "ternary_weight_networks": self.ternary_weight_networks,
            "clip_value": self.clip_value,
        }
