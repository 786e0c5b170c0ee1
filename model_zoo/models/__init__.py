"""Zoo models with the Keras Applications conventions, built from keras_binary layers.

`MODELS` maps each zoo name to its builder; `get_model(name, **kwargs)` builds one by name.

Example:

>>> from model_zoo.models import get_model
>>> get_model("binarynet_mlp_2048").count_params()
10039336
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

from keras_binary.docstrings import splice
from model_zoo.models.binary_alexnet import binary_alexnet
from model_zoo.models.binarynet import (
    binarynet_cnn,
    binarynet_cnn_svhn,
    binarynet_mlp,
    binarynet_mlp_2048,
)
from model_zoo.models.birealnet import birealnet18, birealnet34, birealnet_cifar
from model_zoo.models.lab_mlp import lab_mlp
from model_zoo.models.xnornet import xnornet, xnornet_cifar

MODELS: dict[str, Callable[..., keras.Model]] = {
    "binarynet_mlp_4096": binarynet_mlp,
    "binarynet_mlp_2048": binarynet_mlp_2048,
    "binarynet_cnn": binarynet_cnn,
    "binarynet_cnn_svhn": binarynet_cnn_svhn,
    "binary_alexnet": binary_alexnet,
    "xnornet": xnornet,
    "xnornet_cifar": xnornet_cifar,
    "birealnet18": birealnet18,
    "birealnet34": birealnet34,
    "birealnet_cifar": birealnet_cifar,
    "lab_mlp": lab_mlp,
}


def get_model(name: str, **kwargs: Any) -> keras.Model:
    """Builds the zoo model `name` (keyword arguments as its builder takes them).

    Args:
        name: A key of `MODELS`.
        **kwargs: Arguments of the builder, e.g. `weights="mnist"` or `num_classes=100`.

    Returns:
        A `keras.Model`.

    Raises:
        ValueError: `name` is not a zoo model (the message lists the known ones).

    Example:

    >>> get_model("lab_mlp", hidden_units=32).output_shape
    (None, 10)
    """
    if name not in MODELS:
        raise ValueError(f"Unknown zoo model {name!r}; known: {', '.join(sorted(MODELS))}")
    return MODELS[name](**kwargs)


__all__ = [
    "MODELS",
    "binary_alexnet",
    "binarynet_cnn",
    "binarynet_cnn_svhn",
    "binarynet_mlp",
    "binarynet_mlp_2048",
    "birealnet18",
    "birealnet34",
    "birealnet_cifar",
    "get_model",
    "lab_mlp",
    "xnornet",
    "xnornet_cifar",
]

# Fill the shared Keras Applications arguments ({{zoo_model_args}}) into the builders.
splice(*MODELS.values())
