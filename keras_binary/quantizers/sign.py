"""Sign quantizers: sign(x) forward (sign(0) = +1) with different pseudo-gradients.

- `SteSign` (BinaryNet): d/dx = 1{|x| <= clip_value}, or 1 everywhere with `clip_value=None`.
- `ApproxSign` (Bi-Real Net): d/dx = (2 - 2|x|) for |x| <= 1, else 0.
- `SwishSign` (BNN+): d/dx = beta (2 - beta x tanh(beta x / 2)) / (1 + cosh(beta x)).
- `SteHeaviside`: forward 1 for x > 0 else 0, d/dx = 1{|x| <= clip_value}.

`clip_value=None` is Larq's unclipped straight-through estimator: the gradient passes unchanged.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable
from typing import Any

import keras
from keras import ops

from keras_binary.math import heaviside, sign
from keras_binary.quantizers.base import BaseQuantizer, check_float_input, with_pseudo_gradient


def _check_positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return float(value)


def check_clip_value(clip_value: float | None) -> float | None:
    """A positive clip value, or None for an unclipped straight-through estimator."""
    return None if clip_value is None else _check_positive("clip_value (or None)", clip_value)


def straight_through(clip_value: float | None) -> Any:
    """The STE gradient scale: 1{|x| <= clip_value}, or 1 everywhere when `clip_value` is None."""
    if clip_value is None:
        return ops.ones_like
    return lambda v: ops.less_equal(ops.abs(v), clip_value)


def with_straight_through(forward: Callable[[Any], Any],
                          clip_value: float | None) -> Callable[[Any], Any]:
    """`forward` with the STE gradient: `with_pseudo_gradient(forward, straight_through(clip))`.

    Eager torch with a clip value gets `keras_binary._torch_eager.straight_through` instead: the
    same values in one new tensor per backward pass where the generic form makes four.
    """
    if clip_value is not None and keras.backend.backend() == "torch":
        from keras_binary import _torch_eager

        return functools.partial(_torch_eager.straight_through, forward, bound=clip_value)
    return with_pseudo_gradient(forward, straight_through(clip_value))


def ste_sign(x: Any, clip_value: float | None = 1.0) -> Any:
    """sign(x) (sign(0) = +1) with the straight-through gradient 1{|x| <= clip_value} (1 when
    `clip_value` is None).

    Args:
        {{quantizer_input_arg}}
        {{clip_value_arg}}

    Returns:
        A tensor like `x` holding -1.0 and +1.0 (a NaN stays NaN).

    Example:

    >>> import numpy as np
    >>> np.asarray(ste_sign(np.array([-2.0, 0.0, 0.5], "float32"))).tolist()
    [-1.0, 1.0, 1.0]

    References:
        {{ref_binarynet}}
    """
    x = check_float_input(x, "ste_sign")
    return with_straight_through(sign, clip_value)(x)


def approx_sign(x: Any) -> Any:
    """sign(x) with Bi-Real Net's piecewise-linear gradient (2 - 2|x|) 1{|x| <= 1}.

    The gradient is that of the piecewise quadratic ApproxSign(x) = 2x + x|x| on [-1, 1], which
    fits sign(x) more closely than the straight-through estimator's clipped identity.

    Args:
        {{quantizer_input_arg}}

    Returns:
        A tensor like `x` holding -1.0 and +1.0.

    Example:

    >>> import numpy as np
    >>> np.asarray(approx_sign(np.array([-0.5, 0.0, 3.0], "float32"))).tolist()
    [-1.0, 1.0, 1.0]

    References:
        {{ref_bireal}}
    """
    x = check_float_input(x, "approx_sign")
    return with_pseudo_gradient(
        sign, lambda v: ops.where(ops.less_equal(ops.abs(v), 1.0), 2.0 - 2.0 * ops.abs(v), 0.0)
    )(x)


def swish_sign(x: Any, beta: float = 5.0) -> Any:
    """sign(x) with the BNN+ gradient beta (2 - beta x tanh(beta x / 2)) / (1 + cosh(beta x)).

    Args:
        {{quantizer_input_arg}}
        beta: Sharpness of the SignSwish whose derivative is the gradient; larger values
            approach sign(x) more closely and give a narrower, taller gradient.

    Returns:
        A tensor like `x` holding -1.0 and +1.0.

    Example:

    >>> import numpy as np
    >>> np.asarray(swish_sign(np.array([-0.5, 0.0, 3.0], "float32"), beta=5.0)).tolist()
    [-1.0, 1.0, 1.0]

    References:
        {{ref_bnn_plus}}
    """
    x = check_float_input(x, "swish_sign")

    def grad_scale(v):
        bx = beta * v
        return beta * (2.0 - bx * ops.tanh(bx / 2.0)) / (1.0 + ops.cosh(bx))

    return with_pseudo_gradient(sign, grad_scale)(x)


def ste_heaviside(x: Any, clip_value: float | None = 1.0) -> Any:
    """Step function (1 for x > 0, else 0) with the straight-through gradient 1{|x| <= clip}
    (1 when `clip_value` is None).

    Args:
        {{quantizer_input_arg}}
        {{clip_value_arg}}

    Returns:
        A tensor like `x` holding 0.0 and 1.0.

    Example:

    >>> import numpy as np
    >>> np.asarray(ste_heaviside(np.array([-2.0, 0.0, 0.5], "float32"))).tolist()
    [0.0, 0.0, 1.0]
    """
    x = check_float_input(x, "ste_heaviside")
    return with_straight_through(heaviside, clip_value)(x)


@keras.saving.register_keras_serializable(package="keras_binary")
class SteSign(BaseQuantizer):
    """Binary sign quantizer with a clipped straight-through estimator (alias "ste_sign").

    Forward sign(x) with sign(0) = +1; backward the upstream gradient where |x| <= clip_value,
    0 elsewhere (see `ste_sign`).

    Args:
        {{clip_value_arg}}

    Example:

    >>> q = SteSign(clip_value=1.0)
    >>> q.precision
    1

    References:
        {{ref_binarynet}}
    """

    precision = 1

    def __init__(self, clip_value: float | None = 1.0):
        self.clip_value = check_clip_value(clip_value)

    def call(self, x: Any) -> Any:
        return ste_sign(x, self.clip_value)

    def get_config(self) -> dict[str, Any]:
        return {"clip_value": self.clip_value}


@keras.saving.register_keras_serializable(package="keras_binary")
class ApproxSign(BaseQuantizer):
    """Binary sign quantizer with Bi-Real Net's approximate gradient (alias "approx_sign").

    Forward sign(x); backward (2 - 2|x|) for |x| <= 1, else 0 (see `approx_sign`).

    Example:

    >>> ApproxSign().precision
    1

    References:
        {{ref_bireal}}
    """

    precision = 1

    def call(self, x: Any) -> Any:
        return approx_sign(x)


@keras.saving.register_keras_serializable(package="keras_binary")
class SwishSign(BaseQuantizer):
    """Binary sign quantizer with the BNN+ SignSwish gradient (alias "swish_sign").

    Forward sign(x); backward beta (2 - beta x tanh(beta x / 2)) / (1 + cosh(beta x)) (see
    `swish_sign`).

    Args:
        beta: Sharpness of the SignSwish whose derivative is the gradient; must be > 0.

    Example:

    >>> SwishSign(beta=5.0)
    SwishSign(beta=5.0)

    References:
        {{ref_bnn_plus}}
    """

    precision = 1

    def __init__(self, beta: float = 5.0):
        self.beta = _check_positive("beta", beta)

    def call(self, x: Any) -> Any:
        return swish_sign(x, self.beta)

    def get_config(self) -> dict[str, Any]:
        return {"beta": self.beta}


@keras.saving.register_keras_serializable(package="keras_binary")
class SteHeaviside(BaseQuantizer):
    """{0, 1} step quantizer with a clipped straight-through estimator (alias "ste_heaviside").

    Forward 1 for x > 0, else 0; backward as `SteSign`.

    Args:
        {{clip_value_arg}}

    Example:

    >>> import numpy as np
    >>> np.asarray(SteHeaviside()(np.array([-1.0, 2.0], "float32"))).tolist()
    [0.0, 1.0]
    """

    precision = 1

    def __init__(self, clip_value: float | None = 1.0):
        self.clip_value = check_clip_value(clip_value)

    def call(self, x: Any) -> Any:
        return ste_heaviside(x, self.clip_value)

    def get_config(self) -> dict[str, Any]:
        return {"clip_value": self.clip_value}
