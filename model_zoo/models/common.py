"""Keras Applications conventions shared by the zoo models: inputs, argument checks, weights.

Every zoo function takes `input_shape`, `input_tensor`, `include_top`, `weights` and
`num_classes` like `keras.applications`; these helpers implement them once.

Example:

>>> inputs, x = model_inputs(None, None, default_shape=(28, 28, 1))
>>> tuple(inputs.shape)
(None, 28, 28, 1)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import keras

from model_zoo.weights_registry import available_weights, load_weights


def model_inputs(
    input_shape: Sequence[int | None] | None,
    input_tensor: Any,
    default_shape: tuple[int | None, ...],
) -> tuple[Any, Any]:
    """Returns `(model inputs, first tensor)` from `input_shape`/`input_tensor` (Keras style).

    Args:
        input_shape: Shape without the batch axis, or None.
        input_tensor: A Keras tensor to build on, or None.
        default_shape: Shape used when both are None.

    Returns:
        `(model inputs, first tensor)`.
    """
    if input_shape is not None:
        if not isinstance(input_shape, (tuple, list)) or not all(
            d is None or (isinstance(d, int) and d > 0) for d in input_shape
        ):
            raise ValueError(
                f"input_shape must be a tuple of positive ints or None, got {input_shape!r}"
            )
        if len(input_shape) != len(default_shape):
            raise ValueError(
                f"input_shape must have {len(default_shape)} dimensions like {default_shape}, "
                f"got {tuple(input_shape)}"
            )
    shape = tuple(input_shape) if input_shape is not None else default_shape
    if input_tensor is None:
        inputs = keras.Input(shape=shape)
        return inputs, inputs
    if not keras.backend.is_keras_tensor(input_tensor):
        input_tensor = keras.Input(tensor=input_tensor, shape=shape)
    return keras.utils.get_source_inputs(input_tensor), input_tensor


def check_arguments(
    model_name: str,
    include_top: bool,
    weights: str | os.PathLike | None,
    num_classes: int,
    pretrained_classes: int = 10,
) -> None:
    """Validates `include_top`, `weights` and `num_classes` with clear errors.

    Args:
        model_name: Zoo model name (for messages and registered weights).
        include_top: Whether the classifier is included.
        weights: None, a registered name or a path.
        num_classes: Classifier size.
        pretrained_classes: Classes of the registered weights.

    Raises:
        ValueError: the combination is invalid (the message says which and how to fix it).
    """
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    if weights is not None and not isinstance(weights, (str, os.PathLike)):
        raise TypeError(
            f"weights must be None, a pretrained name or a path, got {type(weights).__name__}"
        )
    if isinstance(weights, str) and weights in available_weights(model_name):
        if not include_top:
            raise ValueError(
                f"weights={weights!r} holds the whole {model_name} including its classifier: "
                "use include_top=True (and drop layers afterwards if needed)."
            )
        if num_classes != pretrained_classes:
            raise ValueError(
                f"weights={weights!r} was trained with {pretrained_classes} classes; "
                f"got num_classes={num_classes}."
            )


def finish_model(
    inputs: Any, outputs: Any, name: str, weights: str | os.PathLike | None
) -> keras.Model:
    """Builds the functional model and loads `weights` (None, a registered name or a path).

    Args:
        inputs: The model inputs.
        outputs: The output tensor.
        name: Model name.
        weights: None, a registered name or a path.

    Returns:
        The `keras.Model`.
    """
    model = keras.Model(inputs, outputs, name=name)
    load_weights(model, weights, model_name=name)
    return model
