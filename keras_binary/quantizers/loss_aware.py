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

With `groups=G` the kernel's last axis is split into G equal blocks, each with its own alpha
(e.g. the four gate matrices of an LSTM kernel).

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


def _scaled_codes(w: Any, alpha: Any, ternary: bool = False) -> Any:
    """alpha * b for a scalar alpha or one per output channel (last axis of w).

    b = sign(w), or with `ternary` sign(w) where |w| > alpha / 2 and 0 elsewhere.
    d/dw = upstream (straight through); d/dalpha = upstream * b summed to alpha's shape.
    """

    @ops.custom_gradient
    def forward(w, alpha):
        codes = sign(w)
        if ternary:
            codes = ops.where(ops.greater(ops.abs(w), alpha / 2), codes, ops.zeros_like(codes))

        def grad(*args, upstream=None, variables=None):
            if upstream is None:
                (upstream,) = args
            product = upstream * codes
            if len(alpha.shape) == 0:
                dalpha = ops.sum(product)
            else:
                dalpha = ops.sum(ops.reshape(product, (-1, alpha.shape[0])), axis=0)
            grads = (upstream, dalpha)
            # TF eager passes the variables read inside; their gradient flows through `w`.
            return grads if variables is None else (grads, [None] * len(variables))

        return alpha * codes, grad

    # Tensors, not numpy scalars: torch's custom gradient saves its inputs for the backward pass.
    return forward(ops.convert_to_tensor(w), ops.convert_to_tensor(alpha))


def grouped_scale(w: Any, d: Any, groups: int = 1) -> Any:
    """||d * w||_1 / ||d||_1 over each of `groups` equal blocks of w's last axis.

    A scalar for `groups=1`, else shape `(groups,)`; with uniform d it is mean |w| per block.

    Args:
        w: The latent kernel.
        d: Positive curvature, shaped like `w`.
        groups: Equal blocks of the last axis.

    Returns:
        alpha, a scalar or shape `(groups,)`.

    Example:

    >>> import numpy as np
    >>> w = np.array([[0.5, -1.0]], "float32")
    >>> float(grouped_scale(w, np.ones_like(w)))
    0.75
    """
    if groups == 1:
        return ops.sum(ops.multiply(d, ops.abs(w))) / ops.sum(d)
    blocks = (-1, groups, w.shape[-1] // groups)
    dw = ops.reshape(ops.multiply(d, ops.abs(w)), blocks)
    return ops.sum(dw, axis=(0, 2)) / ops.sum(ops.reshape(d, blocks), axis=(0, 2))


def is_loss_aware_scale(variable: Any) -> bool:
    """True for the `alpha` weight of a "lab"-mode `LossAwareBinarizer` or of a
    `LossAwareTernarizer` (set by `LAB`).

    Args:
        variable: A `keras.Variable`.

    Returns:
        Whether it is such a scale.
    """
    return bool(getattr(variable, SCALE_ATTR, False))


@keras.saving.register_keras_serializable(package="keras_binary")
class LossAwareBinarizer(keras.layers.Layer):
    """alpha * sign(w) with a straight-through gradient (alias "lab"); `precision` is 1.

    Args:
        mode: "lab" (alpha set by the LAB optimizer), "bwn" (alpha = mean |w|) or
            "binary_connect" (alpha = 1).
        groups: number of equal blocks of the kernel's last axis that get their own alpha.
            1 (default) is the paper's one scale per layer; an LSTM kernel holds its four
            gates side by side, so `groups=4` gives each gate matrix its own scale, as in the
            paper's implementation where every gate is a separate weight matrix.
        **kwargs: Keyword arguments of `keras.layers.Layer` (`name`, `dtype`).

    Train with `keras_binary.optimizers.LAB`, which also clips `w` to [-1, 1]:

    >>> from keras_binary import layers
    >>> dense = layers.QuantDense(16, kernel_quantizer=LossAwareBinarizer())

    References:
        {{ref_lab}}
    """

    precision = 1
    modes = MODES
    optimizer_scaled_modes = ("lab",)  # modes whose alpha is a weight that LAB sets

    def __init__(self, mode: str = "lab", groups: int = 1, **kwargs: Any):
        super().__init__(**kwargs)
        name = type(self).__name__
        if mode not in self.modes:
            raise ValueError(f"{name} mode must be one of {self.modes}, got {mode!r}")
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
            raise ValueError(f"{name} groups must be a positive int, got {groups!r}")
        self.mode = mode
        self.groups = groups
        self.alpha = None

    def build(self, input_shape: Any) -> None:
        channels = input_shape[-1] if input_shape else None
        if self.groups > 1 and (channels is None or channels % self.groups):
            raise ValueError(
                f"{type(self).__name__}(groups={self.groups}) needs a kernel whose last axis is a "
                f"multiple of {self.groups}, got shape {tuple(input_shape)}."
            )
        if self.mode in self.optimizer_scaled_modes:
            shape = () if self.groups == 1 else (self.groups,)
            self.alpha = self.add_weight(shape=shape, initializer="ones", name="alpha")
            setattr(self.alpha, SCALE_ATTR, True)
        self.built = True

    def scale(self, w: Any, d: Any = None) -> Any:
        """LAB's closed-form alpha for kernel `w` and curvature `d` (uniform d: mean |w|)."""
        w = ops.convert_to_tensor(w)
        return grouped_scale(w, ops.ones_like(w) if d is None else d, self.groups)

    def call(self, w: Any) -> Any:
        w = check_float_input(w, type(self).__name__)
        if self.mode in self.optimizer_scaled_modes:
            alpha = ops.cast(self.alpha, w.dtype)
        elif self.mode == "bwn":
            alpha = ops.stop_gradient(self.scale(w))
        else:
            return _scaled_codes(w, ops.ones((), w.dtype))
        if self.groups > 1:  # one alpha per block -> one per output channel
            alpha = ops.repeat(alpha, w.shape[-1] // self.groups)
        return _scaled_codes(w, alpha, ternary=self.precision == 2)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mode": self.mode, "groups": self.groups}


def loss_aware_quantizer(variable: Any) -> LossAwareBinarizer | None:
    """The `LossAwareBinarizer` (or `LossAwareTernarizer`) applied to `variable`, or None.

    Args:
        variable: A `keras.Variable`.

    Returns:
        The quantizer, or None.
    """
    quantizer = get_quantizer(variable)
    return quantizer if isinstance(quantizer, LossAwareBinarizer) else None
