"""The LAB MNIST MLP (Hou, Yao & Kwok, ICLR 2017): 784-2048-2048-2048-10 with loss-aware
binarized weights, batch normalization and an L2-SVM (squared hinge) output.

Train it with `keras_binary.optimizers.LAB` (recipe in `model_zoo.recipes`: lr 0.01, x0.1 at
epochs 15 and 25, batch 100, 50 epochs; paper: 1.17% test error, LAB2 1.38%).

Pretrained: `weights="mnist"` (LAB, not LAB2) reaches 98.82% test accuracy (1.18% error) after
the paper's 50 epochs on its 50k/10k train/validation split (`python -m model_zoo.train_lab_mlp
--epochs 50 --seed 2 --validation 10000 --paper-init`, final epoch); binary kernels stored at
1 bit, 1.37 MB.

Example:

>>> model = lab_mlp(hidden_units=32)
>>> model.output_shape
(None, 10)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import keras

from keras_binary import quantizers
from keras_binary.layers import QuantDense
from model_zoo.models.common import check_arguments, finish_model, model_inputs


def lab_mlp(
    input_shape: Sequence[int | None] | None = None,
    include_top: bool = True,
    weights: str | os.PathLike | None = None,
    num_classes: int = 10,
    input_tensor: Any = None,
    hidden_units: int = 2048,
    binarize_activations: bool = False,
    kernel_quantizer: Any = "lab",
) -> keras.Model:
    """LAB MLP: [QuantDense(kernel_quantizer="lab") -> BN -> ReLU] x 3 -> QuantDense -> BN.

    `binarize_activations=True` gives LAB2 (sign activations, as inputs of the next layer, in
    place of ReLU). `kernel_quantizer` may also be a LossAwareBinarizer in "bwn" or
    "binary_connect" mode for the paper's baselines; each layer gets its own copy.

    Args:
        {{zoo_model_args}}
        hidden_units: Units of each of the three hidden layers.
        binarize_activations: Whether to binarize the hidden activations (LAB2).
        kernel_quantizer: Kernel quantizer of every layer: "lab", or a `LossAwareBinarizer`
            (copied per layer) for the "bwn" and "binary_connect" baselines.

    Returns:
        A `keras.Model`.

    Example:

    >>> lab_mlp(hidden_units=32).output_shape
    (None, 10)

    References:
        {{ref_lab}}
    """
    name = "lab2_mlp" if binarize_activations else "lab_mlp"
    check_arguments(name, include_top, weights, num_classes)
    inputs, x = model_inputs(input_shape, input_tensor, default_shape=(28, 28, 1))
    x = keras.layers.Flatten()(x)
    layers = [hidden_units] * 3 + ([num_classes] if include_top else [])
    input_quantizer = None
    for index, units in enumerate(layers):
        x = QuantDense(units, input_quantizer=input_quantizer,
                       kernel_quantizer=quantizers.deserialize(quantizers.serialize(
                           quantizers.get(kernel_quantizer))),
                       kernel_constraint="weight_clip", use_bias=False, name=f"dense_{index}")(x)
        x = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-4, name=f"bn_{index}")(x)
        if index < len(layers) - 1 or not include_top:
            if binarize_activations:
                input_quantizer = "ste_sign"
            else:
                x = keras.layers.Activation("relu", name=f"relu_{index}")(x)
    return finish_model(inputs, x, name, weights)
