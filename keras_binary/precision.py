"""Precision tags: how many bits a variable holds once quantized.

A quantized layer tags the variable it quantizes with the precision of its quantizer, so that
optimizers (`is_binary_variable`), `keras_binary.summary` and `keras_binary.inference` read the
precision instead of guessing it from names.

Example:

>>> import keras
>>> from keras_binary.precision import set_precision, is_binary_variable
>>> v = keras.Variable([0.5, -0.5])
>>> set_precision(v, 1)
>>> is_binary_variable(v)
True
"""

from __future__ import annotations

from typing import Any

PRECISION_ATTR = "precision"


def set_precision(variable: Any, bits: int | None) -> None:
    """Tags `variable` as holding `bits`-bit values once quantized (None removes the tag).

    Args:
        variable: A `keras.Variable` (any object that takes attributes).
        bits: A positive number of bits, or None.

    Raises:
        ValueError: `bits` is not a positive integer or None.

    Example:

    >>> import keras
    >>> v = keras.Variable([1.0, -1.0])
    >>> set_precision(v, 1)
    >>> get_precision(v)
    1
    """
    if bits is not None and (not isinstance(bits, int) or isinstance(bits, bool) or bits < 1):
        raise ValueError(f"precision must be a positive number of bits or None, got {bits!r}")
    setattr(variable, PRECISION_ATTR, bits)


def get_precision(variable: Any) -> int | None:
    """The precision tag of `variable` in bits; None for an untagged (full-precision) one.

    Args:
        variable: A `keras.Variable`.

    Returns:
        The tagged number of bits, or None.

    Example:

    >>> import keras
    >>> get_precision(keras.Variable([0.5])) is None
    True
    """
    return getattr(variable, PRECISION_ATTR, None)


def is_binary_variable(variable: Any) -> bool:
    """True when `variable` is tagged as holding 1-bit values (its layer binarizes it).

    Args:
        variable: A `keras.Variable`.

    Returns:
        Whether its precision tag is 1.

    Example:

    >>> from keras_binary.layers import QuantDense
    >>> layer = QuantDense(4, kernel_quantizer="ste_sign", kernel_constraint="weight_clip")
    >>> layer.build((None, 3))
    >>> is_binary_variable(layer.kernel), is_binary_variable(layer.bias)
    (True, False)
    """
    return get_precision(variable) == 1


QUANTIZER_ATTR = "quantizer"


def set_quantizer(variable: Any, quantizer: Any) -> None:
    """Records on `variable` the quantizer its layer applies to it (and tags its precision).

    Optimizers use this to find a quantizer's state (e.g. LAB's per-layer scale) from the
    variable they update.

    Args:
        variable: A `keras.Variable`.
        quantizer: The quantizer applied to it, or None (which also removes the precision tag).

    Example:

    >>> import keras
    >>> from keras_binary.quantizers import SteSign
    >>> v = keras.Variable([0.5, -0.5])
    >>> set_quantizer(v, SteSign())
    >>> get_quantizer(v), get_precision(v)
    (SteSign(clip_value=1.0), 1)
    """
    setattr(variable, QUANTIZER_ATTR, quantizer)
    bits = getattr(quantizer, "precision", None) if quantizer is not None else None
    set_precision(variable, bits)


def get_quantizer(variable: Any) -> Any:
    """The quantizer that the owning layer applies to `variable`, or None.

    Args:
        variable: A `keras.Variable`.

    Returns:
        The quantizer recorded by `set_quantizer`, or None.

    Example:

    >>> import keras
    >>> get_quantizer(keras.Variable([0.5])) is None
    True
    """
    return getattr(variable, QUANTIZER_ATTR, None)
