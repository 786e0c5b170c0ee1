"""BinaryNet (Courbariaux, Hubara et al., 2016): the MNIST MLP and the CIFAR-10/SVHN ConvNet.

Recipe (paper): inputs scaled to [-1, 1], binary weights and activations (sign with the clipped
straight-through estimator, latent weights clipped to [-1, 1]), batch normalization with
epsilon 1e-4 and momentum 0.9 (Theano's alpha 0.1), squared hinge loss on +/-1 targets, outputs are
the batch-normalized scores of the last binary layer (no softmax). See `model_zoo.recipes`.

Example:

>>> model = binarynet_mlp(hidden_units=64, num_hidden_layers=1)
>>> model.output_shape
(None, 10)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import keras

from keras_binary.layers import QuantConv2D, QuantDense
from keras_binary.quantizers import NoOp, SteSign
from model_zoo.models.common import check_arguments, finish_model, model_inputs

BN_KWARGS = {"momentum": 0.9, "epsilon": 1e-4}
BINARY_KWARGS = {
    "kernel_quantizer": "ste_sign", "kernel_constraint": "weight_clip", "use_bias": False
}


def _mlp(
    x: Any,
    hidden_units: int,
    num_hidden_layers: int,
    dropout_input: float,
    dropout_hidden: float,
    num_classes: int,
    include_top: bool,
    prefix: str,
) -> Any:
    """Flatten -> Dropout -> [QuantDense -> BN -> sign -> Dropout] x n -> QuantDense -> BN.

    Dropout acts on the +/-1 activations, as in the paper, so a dropped unit is 0 (not +1); the
    next layer declares its inputs binary with NoOp(precision=1), which they are at inference.
    Without hidden dropout the sign is the next layer's `input_quantizer` instead.
    """
    x = keras.layers.Flatten(name=f"{prefix}flatten")(x)
    if dropout_input:
        x = keras.layers.Dropout(dropout_input, name=f"{prefix}dropout_in")(x)
    input_quantizer = None  # the first layer sees real-valued pixels
    layers = [hidden_units] * num_hidden_layers + ([num_classes] if include_top else [])
    for index, units in enumerate(layers):
        x = QuantDense(
            units, input_quantizer=input_quantizer, name=f"{prefix}dense_{index}", **BINARY_KWARGS
        )(x)
        x = keras.layers.BatchNormalization(name=f"{prefix}bn_{index}", **BN_KWARGS)(x)
        if index == len(layers) - 1 and include_top:
            break
        if dropout_hidden:
            x = keras.layers.Activation(SteSign(), name=f"{prefix}sign_{index}")(x)
            x = keras.layers.Dropout(dropout_hidden, name=f"{prefix}dropout_{index}")(x)
            input_quantizer = NoOp(precision=1)
        else:
            input_quantizer = "ste_sign"
    return x


def binarynet_mlp(
    input_shape: Sequence[int | None] | None = None,
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
    num_classes: int = 10,
    input_tensor: Any = None,
    hidden_units: int = 4096,
    num_hidden_layers: int = 3,
    dropout_input: float = 0.2,
    dropout_hidden: float = 0.5,
    name: str | None = None,
) -> keras.Model:
    """BinaryNet's MNIST MLP: 3 binary hidden layers of 4096 units (paper: 0.96% test error
    after 1000 epochs; the Torch7 3x2048 variant, `binarynet_mlp_2048`: 1.40%).

    Inputs are images (default 28x28x1) scaled to [-1, 1]; outputs are 10 scores for the squared
    hinge loss. `weights`: None, a pretrained name (see `model_zoo.weights_registry`) or a path.
    `include_top=False` drops the output layer and returns the last hidden layer's
    batch-normalized pre-activations.

    Args:
        {{zoo_model_args}}
        hidden_units: Units of each binary hidden layer.
        num_hidden_layers: Number of binary hidden layers.
        dropout_input: Dropout rate on the input pixels (the paper's 0.2).
        dropout_hidden: Dropout rate on the +/-1 hidden activations (the paper's 0.5).
        name: Model name; None takes the builder's.

    Returns:
        A `keras.Model`.

    Example:

    >>> binarynet_mlp(hidden_units=64, num_hidden_layers=2).count_params()
    55464

    References:
        {{ref_binarynet}}
    """
    name = name or f"binarynet_mlp_{hidden_units}"
    check_arguments(name, include_top, weights, num_classes)
    inputs, x = model_inputs(input_shape, input_tensor, default_shape=(28, 28, 1))
    x = _mlp(x, hidden_units, num_hidden_layers, dropout_input, dropout_hidden, num_classes,
             include_top, prefix="")
    return finish_model(inputs, x, name, weights)


def binarynet_mlp_2048(
    input_shape: Sequence[int | None] | None = None,
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
    num_classes: int = 10,
    input_tensor: Any = None,
    dropout_input: float = 0.2,
    dropout_hidden: float = 0.5,
) -> keras.Model:
    """BinaryNet MLP with 3 hidden layers of 2048 units (the paper's Torch7 variant, 1.40%).

    Pretrained (trained here on the real data sets with the BinaryNet recipe at short budgets on
    2 shared CPU cores; packed files of 1.37 MB):
    `weights="mnist"`: 98.86% test accuracy (1.14% error; paper: 1.40% after 1000 epochs) after
    50 epochs with two short-budget changes: no hidden dropout (`dropout_hidden=0`) and Adam
    decayed to 3e-5 instead of 3e-7 (with the paper's settings compressed into 50 epochs: 98.23%);
    `weights="fashion_mnist"`: 89.33% after 20 epochs with the same two changes (87.58% with the
    paper's settings).

    Args:
        {{zoo_model_args}}
        dropout_input: Dropout rate on the input pixels.
        dropout_hidden: Dropout rate on the +/-1 hidden activations.

    Returns:
        A `keras.Model`.

    Example:

    >>> binarynet_mlp_2048().count_params()
    10039336

    References:
        {{ref_binarynet}}
    """
    return binarynet_mlp(input_shape, include_top, weights, num_classes, input_tensor,
                         hidden_units=2048, dropout_input=dropout_input,
                         dropout_hidden=dropout_hidden)


def _conv_block(x: Any, filters: int, index: int, pool: bool, first: bool) -> Any:
    x = QuantConv2D(
        filters, 3, padding="same", input_quantizer=None if first else "ste_sign",
        name=f"conv_{index}", **BINARY_KWARGS,
    )(x)
    if pool:
        x = keras.layers.MaxPooling2D(2, name=f"pool_{index}")(x)
    return keras.layers.BatchNormalization(name=f"conv_bn_{index}", **BN_KWARGS)(x)


def binarynet_cnn(
    input_shape: Sequence[int | None] | None = None,
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
    num_classes: int = 10,
    input_tensor: Any = None,
    width: float = 1.0,
    name: str | None = None,
) -> keras.Model:
    """BinaryNet's ConvNet for CIFAR-10: 2x128C3-MP2-2x256C3-MP2-2x512C3-MP2-2x1024FC-10
    (BinaryNet: 11.40% test error in Theano; Bop: 91.3% accuracy).

    Each block is BinConv -> [MaxPool] -> BN; the next layer's input quantizer applies the sign.
    `width` scales every layer (0.5 is the SVHN network, `binarynet_cnn_svhn`). Inputs are
    32x32x3 images scaled to [-1, 1]; outputs are scores for the squared hinge loss.

    Args:
        {{zoo_model_args}}
        width: Factor applied to every layer's width (0.5 is the SVHN network).
        name: Model name; None takes the builder's.

    Returns:
        A `keras.Model`.

    Example:

    >>> binarynet_cnn(width=0.125).output_shape
    (None, 10)

    References:
        {{ref_binarynet}}
    """
    name = name or "binarynet_cnn"
    check_arguments(name, include_top, weights, num_classes)
    inputs, x = model_inputs(input_shape, input_tensor, default_shape=(32, 32, 3))
    plan = [(128, False), (128, True), (256, False), (256, True), (512, False), (512, True)]
    for index, (filters, pool) in enumerate(plan):
        x = _conv_block(x, int(filters * width), index, pool, first=index == 0)
    if include_top:
        x = keras.layers.Flatten(name="flatten")(x)
        for index, units in enumerate([int(1024 * width)] * 2 + [num_classes]):
            x = QuantDense(units, input_quantizer="ste_sign", name=f"dense_{index}",
                           **BINARY_KWARGS)(x)
            x = keras.layers.BatchNormalization(name=f"dense_bn_{index}", **BN_KWARGS)(x)
    return finish_model(inputs, x, name, weights)


def binarynet_cnn_svhn(
    input_shape: Sequence[int | None] | None = None,
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
    num_classes: int = 10,
    input_tensor: Any = None,
) -> keras.Model:
    """BinaryNet's SVHN ConvNet: the CIFAR-10 network at half width, fully connected layers
    included (BinaryNet: 2.80% test error in Theano).

    Args:
        {{zoo_model_args}}

    Returns:
        A `keras.Model`.

    Example:

    >>> binarynet_cnn_svhn().count_params()
    3516648

    References:
        {{ref_binarynet}}
    """
    return binarynet_cnn(input_shape, include_top, weights, num_classes, input_tensor,
                         width=0.5, name="binarynet_cnn_svhn")
