"""Activations for binarized networks: `hard_tanh` and `leaky_tanh`.

Keras resolves activation strings only among its own functions, so the Quant* layers look
identifiers up with `keras_binary.activations.get`, which knows "hard_tanh" and "leaky_tanh" and
falls back to `keras.activations.get`.

Example:

>>> import numpy as np
>>> from keras_binary.activations import hard_tanh, leaky_tanh
>>> x = np.array([-3.0, -0.5, 2.0], "float32")
>>> np.asarray(hard_tanh(x)).tolist(), np.asarray(leaky_tanh(x)).tolist()
([-1.0, -0.5, 1.0], [-1.399999976158142, -0.5, 1.2000000476837158])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
from keras import ops

from keras_binary.aliases import get_with_aliases


@keras.saving.register_keras_serializable(package="keras_binary")
def hard_tanh(x: Any) -> Any:
    """clip(x, -1, 1): identity on [-1, 1], gradient 1 inside and 0 outside.

    Args:
        x: Input tensor.

    Returns:
        A tensor like `x` with values in [-1, 1].

    Example:

    >>> import numpy as np
    >>> np.asarray(hard_tanh(np.array([-3.0, 0.5], "float32"))).tolist()
    [-1.0, 0.5]

    References:
        {{ref_binarynet}}
    """
    return ops.clip(x, -1.0, 1.0)


@keras.saving.register_keras_serializable(package="keras_binary")
def leaky_tanh(x: Any, alpha: float = 0.2) -> Any:
    """x for |x| <= 1, else sign(x) + alpha * (x - sign(x)) (Larq's leaky hard tanh).

    The slope outside [-1, 1] is `alpha`, so the gradient never vanishes.

    Args:
        x: Input tensor.
        alpha: Slope outside [-1, 1].

    Returns:
        A tensor like `x`.

    Example:

    >>> import numpy as np
    >>> np.asarray(leaky_tanh(np.array([3.0, 0.5], "float32"), alpha=0.5)).tolist()
    [2.0, 0.5]
    """
    x = ops.convert_to_tensor(x)  # numpy minus a torch tensor is no tensor
    clipped = hard_tanh(x)
    return clipped + alpha * (x - clipped)


ALIASES: dict[str, Callable[..., Any]] = {"hard_tanh": hard_tanh, "leaky_tanh": leaky_tanh}


def get(identifier: Any) -> Callable[..., Any]:
    """An activation from one of our aliases or anything `keras.activations.get` accepts.

    Args:
        identifier: "hard_tanh", "leaky_tanh", or a Keras activation identifier (name,
            config dict, callable or None).

    Returns:
        The activation function.

    Example:

    >>> get("leaky_tanh") is leaky_tanh
    True
    """
    return get_with_aliases(identifier, ALIASES, keras.activations.get, "activation")
