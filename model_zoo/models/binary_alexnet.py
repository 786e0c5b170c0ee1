"""Binary AlexNet: BinaryNet's binarization (sign weights and activations, no scaling) applied to
AlexNet for ImageNet, with Larq Zoo's layout (61,859,192 parameters at 224x224; Larq Zoo:
36.30% top-1; Bop paper: 41.1%).

Example:

>>> model = binary_alexnet(input_shape=(64, 64, 3), include_top=False)
>>> model.output_shape
(None, 1, 1, 256)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import keras

from keras_binary.layers import QuantConv2D, QuantDense
from model_zoo.models.common import check_arguments, finish_model, model_inputs

BINARY_KWARGS = {
    "kernel_quantizer": "ste_sign", "kernel_constraint": "weight_clip", "use_bias": False
}


def _bn(x: Any) -> Any:
    return keras.layers.BatchNormalization(momentum=0.9, scale=False)(x)


def binary_alexnet(
    input_shape: Sequence[int | None] | None = None,
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
    num_classes: int = 1000,
    input_tensor: Any = None,
) -> keras.Model:
    """Binary AlexNet for 224x224x3 inputs: BinConv 11x11/4 64 (real inputs) -> MaxPool, 5x5 192
    -> MaxPool, 3x3 384, 384, 256 -> MaxPool, each followed by BN; top: binary dense 4096, 4096
    and `num_classes` with BN, softmax. No pretrained ImageNet weights are shipped.

    Args:
        {{zoo_model_args}}

    Returns:
        A `keras.Model`.

    Example:

    >>> binary_alexnet().count_params()  # Larq Zoo's BinaryAlexNet  # doctest: +SKIP
    61859192

    References:
        {{ref_binarynet}}
    """
    check_arguments("binary_alexnet", include_top, weights, num_classes, pretrained_classes=1000)
    inputs, x = model_inputs(input_shape, input_tensor, default_shape=(224, 224, 3))
    plan = [(64, 11, 4, True), (192, 5, 1, True), (384, 3, 1, False), (384, 3, 1, False),
            (256, 3, 1, True)]
    for index, (filters, size, strides, pool) in enumerate(plan):
        x = QuantConv2D(filters, size, strides=strides, padding="same",
                        input_quantizer=None if index == 0 else "ste_sign", **BINARY_KWARGS)(x)
        if pool:
            x = keras.layers.MaxPooling2D(3, strides=2)(x)
        x = _bn(x)
    if include_top:
        x = keras.layers.Flatten()(x)
        for units in (4096, 4096, num_classes):
            x = _bn(QuantDense(units, input_quantizer="ste_sign", **BINARY_KWARGS)(x))
        x = keras.layers.Activation("softmax", dtype="float32")(x)
    return finish_model(inputs, x, "binary_alexnet", weights)
