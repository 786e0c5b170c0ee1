"""Bi-Real Net (Liu et al., 2018): a ResNet whose every binary 3x3 convolution has its own real
identity shortcut, ApproxSign activations and magnitude-aware weight scaling.

Block: ApproxSign -> BinConv 3x3 (per-channel mean |W| scale) -> BN -> + shortcut; downsampling
shortcut AvgPool 2x2 -> real 1x1 conv -> BN. Stem 7x7/64 stride 2 -> BN -> MaxPool 3x3/2.
`birealnet18` has [4, 4, 4, 4] binary convolutions per stage (11,699,112 parameters at 224x224,
as Larq Zoo's BiRealNet; paper 56.4% top-1), `birealnet34` [6, 8, 12, 6] (paper 62.2%).
`birealnet_cifar` uses a 3x3 stride-1 stem without max pooling for 32x32 inputs.

Example:

>>> model = birealnet_cifar(input_shape=(32, 32, 3))
>>> model.output_shape
(None, 10)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import keras

from keras_binary.layers import QuantConv2D
from model_zoo.models.common import check_arguments, finish_model, model_inputs

INITIALIZER = "glorot_normal"


def _bn(x: Any) -> Any:
    return keras.layers.BatchNormalization(momentum=0.8)(x)


def _binary_block(x: Any, filters: int, strides: int) -> Any:
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = keras.layers.AveragePooling2D(strides, strides=strides, padding="same")(x)
        shortcut = keras.layers.Conv2D(filters, 1, use_bias=False,
                                       kernel_initializer=INITIALIZER)(shortcut)
        shortcut = _bn(shortcut)
    x = QuantConv2D(
        filters, 3, strides=strides, padding="same", input_quantizer="approx_sign",
        kernel_quantizer="magnitude_aware_sign", kernel_constraint="weight_clip",
        kernel_initializer=INITIALIZER, use_bias=False,
    )(x)
    return keras.layers.Add()([_bn(x), shortcut])


def _birealnet(
    name: str,
    stage_convs: Sequence[int],
    stem: str,
    default_shape: tuple[int, ...],
    input_shape: Sequence[int | None] | None,
    include_top: bool,
    weights: str | os.PathLike | None,
    num_classes: int,
    input_tensor: Any,
) -> keras.Model:
    check_arguments(name, include_top, weights, num_classes)
    inputs, x = model_inputs(input_shape, input_tensor, default_shape=default_shape)
    if stem == "imagenet":
        x = keras.layers.Conv2D(64, 7, strides=2, padding="same", use_bias=False,
                                kernel_initializer=INITIALIZER)(x)
        x = _bn(x)
        x = keras.layers.MaxPooling2D(3, strides=2, padding="same")(x)
    else:
        x = keras.layers.Conv2D(64, 3, padding="same", use_bias=False,
                                kernel_initializer=INITIALIZER)(x)
        x = _bn(x)
    for stage, convs in enumerate(stage_convs):
        filters = 64 * 2**stage
        for index in range(convs):
            x = _binary_block(x, filters, strides=2 if stage > 0 and index == 0 else 1)
    if include_top:
        x = keras.layers.GlobalAveragePooling2D()(x)
        x = keras.layers.Dense(num_classes, activation="softmax")(x)
    return finish_model(inputs, x, name, weights)


def birealnet18(
    input_shape: Sequence[int | None] | None = None,
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
    num_classes: int = 1000,
    input_tensor: Any = None,
) -> keras.Model:
    """Bi-Real Net 18 for ImageNet (224x224x3, softmax). No pretrained ImageNet weights shipped.

    Args:
        {{zoo_model_args}}

    Returns:
        A `keras.Model`.

    Example:

    >>> birealnet18().count_params()  # Larq Zoo's BiRealNet  # doctest: +SKIP
    11699112

    References:
        {{ref_bireal}}
    """
    return _birealnet("birealnet18", (4, 4, 4, 4), "imagenet", (224, 224, 3), input_shape,
                      include_top, weights, num_classes, input_tensor)


def birealnet34(
    input_shape: Sequence[int | None] | None = None,
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
    num_classes: int = 1000,
    input_tensor: Any = None,
) -> keras.Model:
    """Bi-Real Net 34 for ImageNet (224x224x3, softmax). No pretrained ImageNet weights shipped.

    Args:
        {{zoo_model_args}}

    Returns:
        A `keras.Model`.

    Example:

    >>> birealnet34().count_params()  # doctest: +SKIP
    21814696

    References:
        {{ref_bireal}}
    """
    return _birealnet("birealnet34", (6, 8, 12, 6), "imagenet", (224, 224, 3), input_shape,
                      include_top, weights, num_classes, input_tensor)


def birealnet_cifar(
    input_shape: Sequence[int | None] | None = None,
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
    num_classes: int = 10,
    input_tensor: Any = None,
) -> keras.Model:
    """Bi-Real Net 18 with a CIFAR stem (3x3 stride-1 conv, no max pooling) for 32x32x3 inputs
    (a variant of this project, no paper number).

    Args:
        {{zoo_model_args}}

    Returns:
        A `keras.Model`.

    Example:

    >>> birealnet_cifar().output_shape  # doctest: +SKIP
    (None, 10)

    References:
        {{ref_bireal}}
    """
    return _birealnet("birealnet_cifar", (4, 4, 4, 4), "cifar", (32, 32, 3), input_shape,
                      include_top, weights, num_classes, input_tensor)
