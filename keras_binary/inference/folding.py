"""Folding a binary layer's kernel scale, bias and following BatchNorms into one per-channel
output transform ``y = acc * scale + bias`` on the integer accumulator ``acc``.

All arithmetic is in float64. For a packed output only the sign of ``y`` matters; since ``acc``
is an integer, the sign test becomes an exact integer threshold (``acc < t`` or ``acc > t``)
written as scale +-1 and an integer bias, so the bits do not depend on float rounding.

Example:

>>> import numpy as np
>>> a = Affine.identity(2).then(np.array([2.0, -1.0]), np.array([-3.0, 0.5]))
>>> a.scale.tolist(), a.bias.tolist()
([2.0, -1.0], [-3.0, 0.5])
>>> threshold_transform(a, k=8)[1].tolist()  # acc < 2 and acc > 0 are negative
[-2.0, 0.0]
"""

from __future__ import annotations

import dataclasses
from typing import Any

import keras
import numpy as np

from keras_binary.quantizers import precision_of


@dataclasses.dataclass(frozen=True)
class Affine:
    """Per-channel ``y = acc * scale + bias`` (float64 vectors)."""

    scale: np.ndarray
    bias: np.ndarray

    @classmethod
    def identity(cls, channels: int) -> Affine:
        return cls(np.ones(channels), np.zeros(channels))

    def then(self, scale: Any, bias: Any) -> Affine:
        """This transform followed by ``y * scale + bias``."""
        scale = np.asarray(scale, np.float64)
        return Affine(self.scale * scale, self.bias * scale + np.asarray(bias, np.float64))

    def shifted(self, offset: float) -> Affine:
        """The transform of ``acc + offset`` (an accumulator carrying a constant offset)."""
        return Affine(self.scale, self.bias - self.scale * offset)


def binary_kernel(layer: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """``(negative, alpha)`` when the layer's quantized kernel is ``alpha[c] * (+-1)`` per output
    channel (the last axis), with ``negative`` the kernel-shaped sign bits; None otherwise."""
    if precision_of(getattr(layer, "kernel_quantizer", None)) != 1:
        return None
    kernel = np.asarray(keras.ops.convert_to_numpy(layer.quantize_kernel(layer.kernel)))
    magnitude = np.abs(kernel.reshape(-1, kernel.shape[-1]))
    alpha = magnitude.max(axis=0)
    if not np.all(magnitude >= alpha * (1 - 1e-6)):
        return None
    return kernel < 0, alpha.astype(np.float64)


def batch_norm_affine(layer: keras.layers.BatchNormalization) -> tuple[np.ndarray, np.ndarray]:
    """``(scale, bias)`` of an inference-mode BatchNormalization over the last axis."""
    mean = keras.ops.convert_to_numpy(layer.moving_mean).astype(np.float64)
    var = keras.ops.convert_to_numpy(layer.moving_variance).astype(np.float64)
    scale = 1.0 / np.sqrt(var + layer.epsilon)
    if layer.scale:
        scale = scale * keras.ops.convert_to_numpy(layer.gamma).astype(np.float64)
    bias = -mean * scale
    if layer.center:
        bias = bias + keras.ops.convert_to_numpy(layer.beta).astype(np.float64)
    return scale, bias


def threshold_transform(affine: Affine, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``(scale, bias)`` in {-1, 0, 1} x integers with ``sign(acc * scale + bias)`` equal to
    ``sign(affine(acc))`` (sign(0) = +1) for every integer ``acc`` in [-k, k]."""
    s, b = affine.scale, affine.bias
    with np.errstate(divide="ignore", invalid="ignore"):
        cut = np.clip(-b / np.where(s == 0, 1.0, s), -k - 1.0, k + 1.0)
    # s > 0: negative iff acc < cut   <=> acc - ceil(cut) < 0
    # s < 0: negative iff acc > cut   <=> -acc + floor(cut) < 0
    # s = 0: negative iff b < 0       (constant)
    scale = np.sign(s)
    bias = np.where(s > 0, -np.ceil(cut), np.where(s < 0, np.floor(cut), np.where(b < 0, -1, 1)))
    return scale.astype(np.float32), bias.astype(np.float32)
