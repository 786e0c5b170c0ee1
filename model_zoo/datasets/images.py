"""Image dataset loaders over tfds (never downloading unless asked): tf.data and numpy variants.

Example:
    >>> from model_zoo.datasets import load, load_numpy
    >>> train = load("mnist", "train", batch_size=128, flatten=True, shuffle=True)  # doctest: +SKIP
    >>> x, y = load_numpy("mnist", "test", limit=1000)  # doctest: +SKIP
    >>> x.shape, x.dtype, float(x.min()), float(x.max())  # doctest: +SKIP
    ((1000, 28, 28, 1), dtype('float32'), -1.0, 1.0)
"""

from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np

from model_zoo.datasets.catalog import dataset_spec, is_prepared, not_prepared_error
from model_zoo.datasets.paths import resolve_data_dir
from model_zoo.datasets.preprocessing import ValueRange, rescale_factors, tf_preprocess

PASS_SEED_STRIDE = 1_000_003  # pass i of an endless shuffle uses seed * this + i


def _check_split(name: str, split: str) -> None:
    if not isinstance(split, str):
        raise TypeError(f"split must be a string such as 'train', got {type(split).__name__}")
    known = dataset_spec(name).splits
    for part in split.split("+"):
        if part.split("[", 1)[0].strip() not in known:
            raise ValueError(f"Unknown split {split!r} for {name}; known: {', '.join(known)}")


def load(
    name: str,
    split: str,
    data_dir: str | os.PathLike | None = None,
    *,
    batch_size: int | None = None,
    value_range: ValueRange | None = (-1.0, 1.0),
    flatten: bool = False,
    augment: bool = False,
    image_size: int | None = None,
    shuffle: bool = False,
    shuffle_buffer: int = 10_000,
    seed: int | None = None,
    limit: int | None = None,
    drop_remainder: bool = False,
    download: bool = False,
    endless: bool = False,
):
    """A ``tf.data.Dataset`` of ``(float32 image, int32 label)`` for a tfds dataset.

    ``split`` accepts tfds syntax ("train[:10%]"). Images are scaled to ``value_range``
    (BinaryNet's [-1, 1] by default; None keeps 0..255), optionally flattened, and with ``augment``
    randomly cropped after 4-pixel padding and flipped (CIFAR recipe). ``image_size`` resizes and
    crops (needed for imagenet2012). Not prepared and ``download=False``: fails at once with the
    command that prepares it.

    Args:
        name: A tfds dataset name (see `DATASETS`).
        split: A tfds split, e.g. "train" or "test[:50%]".
        data_dir: tfds data directory; None takes `$KERAS_BINARY_DATA_DIR`, else
            `~/tensorflow_datasets`.
        batch_size: Batch size; None leaves the dataset unbatched.
        value_range: `(low, high)` the pixels are scaled to; None keeps 0..255.
        flatten: Whether to flatten each image to a vector.
        augment: Whether to pad by 4, crop randomly and flip (the CIFAR recipe).
        image_size: Side length to resize and center-crop to (ImageNet); None keeps the size.
        shuffle: Whether to shuffle (with `shuffle_buffer` and `seed`).
        shuffle_buffer: Shuffle buffer size.
        seed: Seed of the shuffle and the augmentation.
        limit: Keep only the first `limit` examples.
        drop_remainder: Whether to drop a last, smaller batch.
        download: Whether tfds may download a dataset that is not prepared.
        endless: Whether to repeat the data without end. Shuffled with a `seed`, pass ``i`` is
            then shuffled with a seed made of `seed` and ``i``, so that each pass's order is set
            by the seed alone, not by how many iterators were made before (Keras's TensorFlow
            trainer makes a throwaway one under a distribution strategy); the file order is
            the same in every pass.

    Returns:
        A `tf.data.Dataset` of `(image, label)` pairs.

    Raises:
        DatasetNotPreparedError: the dataset is not prepared and `download` is False (the
            message gives the command that prepares it).

    Example:

    >>> train = load("mnist", "train", batch_size=128, flatten=True)  # doctest: +SKIP
    """
    spec = dataset_spec(name)
    _check_split(name, split)
    rescale_factors(value_range)
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise ValueError(f"limit must be a non-negative int or None, got {limit!r}")
    if None in spec.image_shape and image_size is None and (batch_size or flatten):
        raise ValueError(f"{name} images vary in size: pass image_size (e.g. 224) to batch them")
    data_dir = resolve_data_dir(data_dir)
    if not download and not is_prepared(name, data_dir):
        raise not_prepared_error(name, data_dir)

    import tensorflow as tf
    import tensorflow_datasets as tfds

    keyed = endless and shuffle and seed is not None
    dataset = tfds.load(
        name,
        split=split,
        data_dir=os.fspath(data_dir),
        as_supervised=True,
        download=download,
        shuffle_files=shuffle,
        read_config=tfds.ReadConfig(shuffle_seed=seed, try_autocache=limit is None,
                                    shuffle_reshuffle_each_iteration=not keyed),
    )
    if limit is not None:
        dataset = dataset.take(limit)
    # Without augmentation or resizing the preprocessing is elementwise, so it runs once per
    # batch: a hundredth of the op dispatches, which otherwise cost ~10% of a 2-core MLP step.
    batched = batch_size is not None and not augment and image_size is None

    def one_pass(data: Any, pass_seed: Any = seed) -> Any:
        if shuffle:
            data = data.shuffle(shuffle_buffer, seed=pass_seed, reshuffle_each_iteration=not keyed)
        return data.batch(batch_size, drop_remainder=drop_remainder) if batched else data

    if keyed:  # the pass index, not an iterator count, picks each pass's order
        base = dataset

        def keyed_pass(index: Any) -> Any:
            # In flat_map's graph: the pass seed alone sets the order. Under a global seed of 0
            # (keras.utils.set_random_seed(0)) shuffle's seed check would otherwise compare the
            # tensor seed as a Python bool and fail.
            tf.random.set_seed(None)
            return one_pass(base, tf.constant(seed, tf.int64) * PASS_SEED_STRIDE + index)

        dataset = tf.data.Dataset.counter().flat_map(keyed_pass)
    else:
        dataset = one_pass(dataset)
        if endless:
            dataset = dataset.repeat()
    preprocess = functools.partial(
        tf_preprocess,
        value_range=value_range,
        flatten=flatten,
        augment=augment,
        image_size=image_size,
        batched=batched,
    )
    dataset = dataset.map(preprocess, num_parallel_calls=tf.data.AUTOTUNE)
    if batch_size is not None and not batched:
        dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(tf.data.AUTOTUNE)


def load_numpy(
    name: str,
    split: str,
    data_dir: str | os.PathLike | None = None,
    *,
    limit: int | None = None,
    value_range: ValueRange | None = (-1.0, 1.0),
    flatten: bool = False,
    image_size: int | None = None,
    download: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """``(float32 images, int32 labels)`` numpy arrays, in tfds's stored order (any backend).

    Args:
        name: A tfds dataset name.
        split: A tfds split.
        data_dir: tfds data directory (as for `load`).
        limit: Keep only the first `limit` examples.
        value_range: `(low, high)` the pixels are scaled to; None keeps 0..255.
        flatten: Whether to flatten each image to a vector.
        image_size: Side length to resize and center-crop to; None keeps the size.
        download: Whether tfds may download a dataset that is not prepared.

    Returns:
        `(images, labels)`: float32 images and int32 labels.

    Example:

    >>> x, y = load_numpy("mnist", "test", limit=100)  # doctest: +SKIP
    """
    dataset = load(
        name,
        split,
        data_dir,
        batch_size=1024,
        value_range=value_range,
        flatten=flatten,
        image_size=image_size,
        limit=limit,
        download=download,
    )
    images, labels = [], []
    for batch_images, batch_labels in dataset.as_numpy_iterator():
        images.append(batch_images)
        labels.append(batch_labels)
    if not images:
        raise ValueError(f"{name} split {split!r} produced no examples (limit={limit})")
    return np.concatenate(images), np.concatenate(labels)
