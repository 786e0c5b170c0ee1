"""The `Quantizer` base class and the pseudo-gradient helper shared by all quantizers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
from keras import ops

FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")


def check_float_input(x: Any, quantizer_name: str) -> Any:
    """Converts `x` to a tensor and raises a clear TypeError unless it is floating point."""
    if isinstance(x, keras.Variable):
        x = x.value  # custom gradients want tensors, not variables (TensorFlow)
    x = ops.convert_to_tensor(x)
    dtype = keras.backend.standardize_dtype(x.dtype)
    if dtype not in FLOAT_DTYPES:
        raise TypeError(
            f"{quantizer_name} quantizes floating-point tensors only ({', '.join(FLOAT_DTYPES)}), "
            f"got dtype {dtype}. Cast the input to a float dtype first."
        )
    return x


def with_pseudo_gradient(
    forward: Callable[[Any], Any], grad_scale: Callable[[Any], Any]
) -> Callable[[Any], Any]:
    """Returns `f` with `f(x) = forward(x)` and `df/dx = upstream * grad_scale(x)` (elementwise).

    This is how a non-differentiable forward (sign, rounding) gets its pseudo-gradient, on every
    backend, eager and compiled.
    """

    @ops.custom_gradient
    def quantize(x):
        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return upstream * ops.cast(grad_scale(x), upstream.dtype)

        return forward(x), grad

    return quantize


def sign(x: Any) -> Any:
    """sign(x) with sign(0) = +1 and sign(NaN) = NaN, in the dtype of `x` (no gradient defined).

    Written as sign(sign(x) + 0.1), as Larq does: a NaN stays NaN, so it reaches the loss instead
    of being absorbed as -1, and TensorFlow lowers it to the `Sign`/`AddV2` pattern that Larq
    Compute Engine's converter turns into binary ops.
    The converted popcount layers keep the rule although bits cannot hold NaN: a row whose input
    holds a NaN gets NaN outputs (`keras_binary.inference.nan_rows`); +-inf give +-1 on both paths.
    """
    return ops.sign(ops.sign(x) + ops.cast(0.1, x.dtype))


class Quantizer:
    """Base class of all quantizers: a serializable callable with a `precision` in bits.

    Subclasses implement `call(x)` and `get_config()`; `precision` is the number of bits of the
    quantized values (1 for binary, 2 for ternary, 32 for no quantization).

    Example:

    >>> import numpy as np
    >>> from keras_binary.quantizers import SteSign
    >>> q = SteSign()
    >>> q.precision, np.asarray(q(np.array([-0.3, 0.0, 2.0], "float32"))).tolist()
    (1, [-1.0, 1.0, 1.0])
    """

    precision: int = 32

    def __call__(self, x: Any) -> Any:
        return self.call(check_float_input(x, type(self).__name__))

    def call(self, x: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement call(x)")

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Quantizer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted(self.get_config().items()))))
