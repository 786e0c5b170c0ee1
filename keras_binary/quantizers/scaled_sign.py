"""Scaled sign quantizers for weights: alpha * sign(w) with a per-output-channel scale.

The output channel is the last axis (Keras kernel layout); the scale alpha is mean |w| over all
other axes.

- `MagnitudeAwareSign` (Bi-Real Net): alpha is a constant for the gradient (stop_gradient),
  so d/dw = alpha * 1{|w| <= clip_value}.
- `XnorWeightScale` (XNOR-Net): alpha is differentiable, so the gradient also flows through
  mean |w| (exact autodiff of alpha(w) * ste_sign(w)).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_binary.quantizers.base import BaseQuantizer, check_float_input
from keras_binary.quantizers.sign import check_clip_value, ste_sign


def _channel_mean_abs(w: Any) -> Any:
    axes = tuple(range(len(w.shape) - 1))
    return ops.mean(ops.abs(w), axis=axes) if axes else ops.abs(w)


def magnitude_aware_sign(x: Any, clip_value: float | None = 1.0) -> Any:
    """stop_gradient(mean |x| per output channel) * ste_sign(x) (Bi-Real Net's weight binarizer).

    Args:
        x: Float kernel to binarize; the output channel is its last axis.
        {{clip_value_arg}}

    Returns:
        A tensor like `x`: +/-alpha per output channel, alpha = mean |x| over the other axes.

    Example:

    >>> import numpy as np
    >>> w = np.array([[0.5, -2.0], [-1.5, 1.0]], "float32")
    >>> np.asarray(magnitude_aware_sign(w)).tolist()
    [[1.0, -1.5], [-1.0, 1.5]]

    References:
        {{ref_bireal}}
    """
    x = check_float_input(x, "magnitude_aware_sign")
    return ops.stop_gradient(_channel_mean_abs(x)) * ste_sign(x, clip_value)


def xnor_weight_scale(x: Any, clip_value: float | None = 1.0) -> Any:
    """mean |x| per output channel * ste_sign(x), the scale kept differentiable (XNOR-Net).

    Args:
        x: Float kernel to binarize; the output channel is its last axis.
        {{clip_value_arg}}

    Returns:
        A tensor like `x`: +/-alpha per output channel, alpha = mean |x| over the other axes.

    Example:

    >>> import numpy as np
    >>> w = np.array([[0.5, -2.0], [-1.5, 1.0]], "float32")
    >>> np.asarray(xnor_weight_scale(w)).tolist()
    [[1.0, -1.5], [-1.0, 1.5]]

    References:
        {{ref_xnor}}
    """
    x = check_float_input(x, "xnor_weight_scale")
    return _channel_mean_abs(x) * ste_sign(x, clip_value)


@keras.saving.register_keras_serializable(package="keras_binary")
class MagnitudeAwareSign(BaseQuantizer):
    """Per-channel scaled sign, scale constant for the gradient (alias "magnitude_aware_sign").

    Computes `magnitude_aware_sign`: stop_gradient(mean |w| per output channel) * ste_sign(w).

    Args:
        {{clip_value_arg}}

    Example:

    >>> import numpy as np
    >>> w = np.array([[0.5, -2.0], [-1.5, 1.0]], "float32")
    >>> np.asarray(MagnitudeAwareSign()(w)).tolist()
    [[1.0, -1.5], [-1.0, 1.5]]

    References:
        {{ref_bireal}}
    """

    precision = 1

    def __init__(self, clip_value: float | None = 1.0):
        self.clip_value = check_clip_value(clip_value)

    def call(self, x: Any) -> Any:
        return magnitude_aware_sign(x, self.clip_value)

    def get_config(self) -> dict[str, Any]:
        return {"clip_value": self.clip_value}


@keras.saving.register_keras_serializable(package="keras_binary")
class XnorWeightScale(BaseQuantizer):
    """XNOR-Net weights: mean |W| per output filter times sign(W) (alias "xnor_weight_scale").

    Computes `xnor_weight_scale`; unlike `MagnitudeAwareSign` the gradient also flows through
    the scale.

    Args:
        {{clip_value_arg}}

    Example:

    >>> XnorWeightScale().precision
    1

    References:
        {{ref_xnor}}
    """

    precision = 1

    def __init__(self, clip_value: float | None = 1.0):
        self.clip_value = check_clip_value(clip_value)

    def call(self, x: Any) -> Any:
        return xnor_weight_scale(x, self.clip_value)

    def get_config(self) -> dict[str, Any]:
        return {"clip_value": self.clip_value}
