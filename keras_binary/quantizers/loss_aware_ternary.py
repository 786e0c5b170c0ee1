"""`LossAwareTernarizer`: loss-aware ternarization (LAT, Hou & Kwok, ICLR 2018), alias "lat".

The forward pass is `w_hat = alpha * b` with `b = sign(w)` where `|w| > alpha / 2` and 0
elsewhere; the gradient goes to `w` straight through and to alpha as sum(g * b). Trained with
`keras_binary.optimizers.LAB`, which after each Adam step on `w` (clipped to [-1, 1]) sets alpha
to the minimizer of the curvature-weighted error sum(d * (w - alpha * b)^2), d = sqrt(v_hat) +
eps, by alternating the two closed forms of the paper's approximate solver:

    b = sign(w) * [|w| > alpha / 2],        alpha = sum(d * |w| * |b|) / sum(d * |b|)

starting from LAB's binary scale sum(d * |w|) / sum(d) (`iterations` rounds). With uniform d this
is the alternating ternary-weight fit of TWN-style scaling.

>>> from keras_binary import layers
>>> dense = layers.QuantDense(16, kernel_quantizer=LossAwareTernarizer())
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_binary.quantizers.loss_aware import LossAwareBinarizer


def ternary_scale(w: Any, d: Any, groups: int = 1, iterations: int = 2) -> Any:
    """Alternating LAT fit of alpha for kernel `w` and curvature `d`, per block with `groups`.

    Starts from `grouped_scale(w, d, groups)` and runs `iterations` rounds of
    b = [|w| > alpha / 2], alpha = sum(d |w| b) / sum(d b); a block whose b would be all zero
    keeps its previous alpha. A scalar for `groups=1`, else shape `(groups,)`.

    Args:
        w: The latent kernel.
        d: Positive curvature, shaped like `w`.
        groups: Equal blocks of the last axis.
        iterations: Alternating rounds.

    Returns:
        alpha, a scalar or shape `(groups,)`.
    """
    blocks = (-1, groups, w.shape[-1] // groups)
    magnitude = ops.reshape(ops.abs(w), blocks)
    dd = ops.reshape(d, blocks)
    dw = dd * magnitude
    alpha = ops.sum(dw, axis=(0, 2)) / ops.sum(dd, axis=(0, 2))  # grouped_scale, shape (groups,)
    for _ in range(iterations):
        keep = ops.cast(ops.greater(magnitude, ops.reshape(alpha, (1, groups, 1)) / 2), w.dtype)
        numerator = ops.sum(dw * keep, axis=(0, 2))
        denominator = ops.sum(dd * keep, axis=(0, 2))
        safe = ops.where(denominator > 0, denominator, ops.ones_like(denominator))
        alpha = ops.where(denominator > 0, numerator / safe, alpha)
    return ops.reshape(alpha, ()) if groups == 1 else alpha


@keras.saving.register_keras_serializable(package="keras_binary")
class LossAwareTernarizer(LossAwareBinarizer):
    """alpha * {-1, 0, +1}(w) with threshold alpha / 2 (alias "lat"); `precision` is 2.

    Args:
        groups: number of equal blocks of the kernel's last axis that get their own alpha
            (as for `LossAwareBinarizer`, e.g. 4 for an LSTM kernel's gates).
        iterations: alternating rounds of `ternary_scale` per LAB step.
        **kwargs: Keyword arguments of `keras.layers.Layer` (`name`, `dtype`).

    Under another optimizer than LAB, alpha is learned by its gradient, as in
    `LossAwareBinarizer(mode="lab")`.

    Example:

    >>> from keras_binary import layers
    >>> dense = layers.QuantDense(16, kernel_quantizer="lat", kernel_constraint="weight_clip")
    >>> dense.kernel_precision
    2

    References:
        {{ref_lat}}
    """

    precision = 2
    modes = ("lat",)
    optimizer_scaled_modes = ("lat",)

    def __init__(self, groups: int = 1, iterations: int = 2, **kwargs: Any):
        kwargs.pop("mode", None)  # always "lat"; accepted so base-class configs load
        super().__init__(mode="lat", groups=groups, **kwargs)
        if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
            raise ValueError(
                f"LossAwareTernarizer iterations must be a positive int, got {iterations!r}"
            )
        self.iterations = iterations

    def scale(self, w: Any, d: Any = None) -> Any:
        """LAT's alpha for kernel `w` and curvature `d` (uniform d when None)."""
        w = ops.convert_to_tensor(w)
        return ternary_scale(w, ops.ones_like(w) if d is None else d, self.groups,
                             self.iterations)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("mode")
        return {**config, "iterations": self.iterations}
