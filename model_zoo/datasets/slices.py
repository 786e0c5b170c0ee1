"""Small real (Fashion-)MNIST slices for tests and quick experiments, without TensorFlow.

Example:
    >>> from model_zoo.datasets import mnist_slice
    >>> x_train, y_train, x_test, y_test = mnist_slice(512, 128, flatten=True)  # doctest: +SKIP
    >>> x_train.shape, x_train.dtype, float(x_train.min()), float(x_train.max())  # doctest: +SKIP
    ((512, 784), dtype('float32'), -1.0, 1.0)
"""

from __future__ import annotations

import os

import numpy as np

from model_zoo.datasets.preprocessing import ValueRange, rescale_numpy
from model_zoo.datasets.raw_arrays import raw_arrays


def _check_count(label: str, value: int, maximum: int) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{label} must be an int, got {type(value).__name__}")
    if not 0 <= value <= maximum:
        raise ValueError(f"{label} must be in 0..{maximum}, got {value}")


def mnist_slice(
    n_train: int = 1000,
    n_test: int = 200,
    *,
    flatten: bool = False,
    value_range: ValueRange | None = (-1.0, 1.0),
    dataset: str = "mnist",
    cache_dir: str | os.PathLike | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The first ``n_train`` training and ``n_test`` test examples of real MNIST.

    Returns ``(x_train, y_train, x_test, y_test)``: float32 images in ``value_range`` shaped
    (n, 28, 28, 1), or (n, 784) with ``flatten``, and int32 labels. Fetches and verifies the pinned
    source on first use (``dataset="fashion_mnist"`` for Fashion-MNIST).

    Args:
        n_train: Number of training examples, from the start of the training set.
        n_test: Number of test examples, from the start of the test set.
        flatten: Whether to return (n, 784) vectors.
        value_range: `(low, high)` the pixels are scaled to; None keeps 0..255.
        dataset: "mnist" or "fashion_mnist".
        cache_dir: Where the source files are cached; None takes the default cache.

    Returns:
        `(x_train, y_train, x_test, y_test)`.

    Example:

    >>> x_train, y_train, x_test, y_test = mnist_slice(1000, 200)  # doctest: +SKIP
    """
    splits = raw_arrays(dataset, cache_dir=cache_dir)
    _check_count("n_train", n_train, len(splits["train"][1]))
    _check_count("n_test", n_test, len(splits["test"][1]))
    shape = (-1, 28 * 28) if flatten else (-1, 28, 28, 1)
    out = []
    for split, count in (("train", n_train), ("test", n_test)):
        images, labels = splits[split]
        out.append(rescale_numpy(images[:count], value_range).reshape(shape))
        out.append(labels[:count].astype(np.int32))
    return tuple(out)
