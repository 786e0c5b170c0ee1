"""`LossAwareBinarizer`: the weight binarizer of loss-aware binarization (Hou, Yao & Kwok, 2017).

The forward pass is `w_hat = alpha * sign(w)` (sign(0) = +1); the gradient with respect to
`w_hat` is passed to `w` unchanged (straight through, as LAB's proximal step uses it). Three
modes give the paper's comparisons as layer configurations:

- "lab": alpha is a per-layer weight, set by `keras_binary.optimizers.LAB` after each step to
  ||d * w||_1 / ||d||_1 (d = sqrt(v_hat) + eps, Adam's second moment). It is created as a
  *trainable* weight so that the optimizer may assign it on every backend (JAX's stateless
  optimizer step only writes trainable and optimizer variables back); LAB never applies a
  gradient to it. Under any other optimizer alpha is learned by its gradient sum(g * sign(w)).
- "bwn": alpha = mean |w| (Binary Weight Networks), recomputed from `w` on every call.
- "binary_connect": alpha = 1 (BinaryConnect).

Use one instance per layer (an alias string creates a new one): alpha belongs to one kernel.

>>> import numpy as np
>>> q = LossAwareBinarizer(mode="bwn")
>>> np.asarray(q(np.array([0.5, -1.0, 0.0, -0.5], "float32"))).tolist()
[0.5, -0.5, 0.5, -0.5]
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_binary.precision import get_quantizer
from keras_binary.quantizers.base import check_float_input, sign

MODES = ("lab", "bwn", "binary_connect")
SCALE_ATTR = "loss_aware_scale"


def _scaled_sign(w: Any, alpha: Any) -> Any:
    """alpha * sign(w); d/dw = upstream (straight through), d/dalpha = sum(upstream * sign(w))."""

    @ops.custom_gradient
    def forward(w, alpha):
        signs = sign(w)

        def grad(*args, upstream=None, variables=None):
            if upstream is None:
                (upstream,) = args
            grads = (upstream, ops.sum(upstream * signs))
            # TF eager passes the variables read inside; their gradient flows through `w`.
            return grads if variables is None else (grads, [None] * len(variables))

        return alpha * signs, grad

    return forward(w, alpha)


def is_loss_aware_scale(variable: Any) -> bool:
    """True for the `alpha` weight of a "lab"-mode `LossAwareBinarizer` (set by `LAB`)."""
    return bool(getattr(variable, SCALE_ATTR, False))


@keras.saving.register_keras_serializable(package="keras_binary")
class LossAwareBinarizer(keras.layers.Layer):
    """alpha * sign(w) with a straight-through gradient (alias "lab"); `precision` is 1.

    Args:
        mode: "lab" (alpha set by the LAB optimizer), "bwn" (alpha = mean |w|) or
            "binary_connect" (alpha = 1).

    Train with `keras_binary.optimizers.LAB`, which also clips `w` to [-1, 1]:

    >>> from keras_binary import layers
    >>> dense = layers.QuantDense(16, kernel_quantizer=LossAwareBinarizer())
    """

    precision = 1

    def __init__(self, mode: str = "lab", **kwargs: Any):
        super().__init__(**kwargs)
        if mode not in MODES:
            raise ValueError(f"LossAwareBinarizer mode must be one of {MODES}, got {mode!r}")
        self.mode = mode
        self.alpha = None

    def build(self, input_shape: Any) -> None:
        if self.mode == "lab":
            self.alpha = self.add_weight(shape=(), initializer="ones", name="alpha")
            setattr(self.alpha, SCALE_ATTR, True)
        self.built = True

    def call(self, w: Any) -> Any:
        w = check_float_input(w, type(self).__name__)
        if self.mode == "lab":
            alpha = ops.cast(self.alpha, w.dtype)
        elif self.mode == "bwn":
            alpha = ops.stop_gradient(ops.mean(ops.abs(w)))
        else:
            alpha = ops.ones((), w.dtype)
        return _scaled_sign(w, alpha)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mode": self.mode}


def loss_aware_quantizer(variable: Any) -> LossAwareBinarizer | None:
    """The `LossAwareBinarizer` that a layer applies to `variable`, or None."""
    quantizer = get_quantizer(variable)
    return quantizer if isinstance(quantizer, LossAwareBinarizer) else None
