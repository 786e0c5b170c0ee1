"""XNOR-Net (Rastegari et al., 2016): binary weights scaled by mean |W| per output filter and
binary activations; first convolution and classifier stay real-valued; blocks BN -> sign ->
BinConv -> [MaxPool].

`xnornet` is the ImageNet AlexNet-style network with Larq Zoo's layout (62,396,768 parameters at
224x224; paper: 44.2% top-1, Larq Zoo: 44.96%). The activation scaling K of the paper is left out,
as in Larq Zoo and most re-implementations. `xnornet_cifar` is a CIFAR-sized variant.

Example:

>>> model = xnornet_cifar(input_shape=(32, 32, 3))
>>> model.output_shape
(None, 10)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import keras

from keras_binary.layers import QuantConv2D, QuantDense
from model_zoo.models.common import check_arguments, finish_model, model_inputs

L2 = 5e-7


def _binary_kwargs() -> dict[str, Any]:
    return {
        "input_quantizer": "ste_sign",
        "kernel_quantizer": "xnor_weight_scale",
        "kernel_constraint": "weight_clip",
        "use_bias": False,
        "kernel_regularizer": keras.regularizers.L2(L2),
    }


def _bn(x: Any, epsilon: float = 1e-4, name: str | None = None) -> Any:
    return keras.layers.BatchNormalization(momentum=0.9, scale=False, epsilon=epsilon, name=name)(x)


def xnornet(
    input_shape: Sequence[int | None] | None = None,
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
    num_classes: int = 1000,
    input_tensor: Any = None,
) -> keras.Model:
    """XNOR-Net (AlexNet-style) for ImageNet, 224x224x3 inputs; softmax outputs.

    Layout: real 11x11/4 conv 96 -> BN -> ReLU -> MaxPool, then BN -> BinConv 5x5 256 -> MaxPool,
    3x3 convs 384, 384, 256 -> MaxPool, a 6x6 "valid" BinConv 4096 and a 1x1 BinConv 4096 (the
    fully connected layers), BN -> ReLU, real Dense classifier without bias. No pretrained
    ImageNet weights are shipped.

    Args:
        {{zoo_model_args}}

    Returns:
        A `keras.Model`.

    Example:

    >>> xnornet().count_params()  # Larq Zoo's XNORNet  # doctest: +SKIP
    62396768

    References:
        {{ref_xnor}}
    """
    check_arguments("xnornet", include_top, weights, num_classes, pretrained_classes=1000)
    inputs, x = model_inputs(input_shape, input_tensor, default_shape=(224, 224, 3))
    x = keras.layers.Conv2D(96, 11, strides=4, padding="same", use_bias=False,
                            kernel_regularizer=keras.regularizers.L2(L2))(x)
    x = _bn(x, epsilon=1e-5)
    x = keras.layers.Activation("relu")(x)
    x = keras.layers.MaxPooling2D(3, strides=2)(x)
    x = _bn(x)
    x = QuantConv2D(256, 5, padding="same", **_binary_kwargs())(x)
    x = keras.layers.MaxPooling2D(3, strides=2)(x)
    for filters in (384, 384, 256):
        x = _bn(x)
        x = QuantConv2D(filters, 3, padding="same", **_binary_kwargs())(x)
    x = keras.layers.MaxPooling2D(3, strides=2)(x)
    x = _bn(x)
    x = QuantConv2D(4096, 6, padding="valid", **_binary_kwargs())(x)
    x = _bn(x)
    if include_top:
        x = QuantConv2D(4096, 1, padding="valid", **_binary_kwargs())(x)
        x = _bn(x, epsilon=1e-3)
        x = keras.layers.Activation("relu")(x)
        x = keras.layers.Flatten()(x)
        x = keras.layers.Dense(num_classes, use_bias=False,
                               kernel_regularizer=keras.regularizers.L2(L2))(x)
        x = keras.layers.Activation("softmax", dtype="float32")(x)
    return finish_model(inputs, x, "xnornet", weights)


def xnornet_cifar(
    input_shape: Sequence[int | None] | None = None,
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
    num_classes: int = 10,
    input_tensor: Any = None,
) -> keras.Model:
    """XNOR-Net blocks on CIFAR-sized inputs (32x32x3, a variant of this project, no paper
    number): real 3x3 conv 128 -> BN -> ReLU, then BN -> sign -> BinConv 3x3 with filters
    128 (MaxPool), 256, 256 (MaxPool), 512, 512 (MaxPool), a binary 1024-unit dense layer and a
    real Dense classifier with softmax.

    Args:
        {{zoo_model_args}}

    Returns:
        A `keras.Model`.

    Example:

    >>> xnornet_cifar().output_shape  # doctest: +SKIP
    (None, 10)

    References:
        {{ref_xnor}}
    """
    check_arguments("xnornet_cifar", include_top, weights, num_classes)
    inputs, x = model_inputs(input_shape, input_tensor, default_shape=(32, 32, 3))
    x = keras.layers.Conv2D(128, 3, padding="same", use_bias=False,
                            kernel_regularizer=keras.regularizers.L2(L2))(x)
    x = _bn(x, epsilon=1e-5)
    x = keras.layers.Activation("relu")(x)
    for filters, pool in ((128, True), (256, False), (256, True), (512, False), (512, True)):
        x = _bn(x)
        x = QuantConv2D(filters, 3, padding="same", **_binary_kwargs())(x)
        if pool:
            x = keras.layers.MaxPooling2D(2)(x)
    if include_top:
        x = _bn(x)
        x = keras.layers.Flatten()(x)
        x = QuantDense(1024, **_binary_kwargs())(x)
        x = _bn(x)
        x = keras.layers.Activation("relu")(x)
        x = keras.layers.Dense(num_classes)(x)
        x = keras.layers.Activation("softmax", dtype="float32")(x)
    return finish_model(inputs, x, "xnornet_cifar", weights)
