"""Image preprocessing per recipe: rescaling (BinaryNet's [-1, 1]), flattening, augmentation.

The ``tf_*`` functions run inside tf.data pipelines (TensorFlow imported lazily); ``rescale_numpy``
is the numpy twin used where TensorFlow is not wanted.

Example:
    >>> import numpy as np
    >>> from model_zoo.datasets.preprocessing import rescale_numpy
    >>> rescale_numpy(np.array([0, 255], np.uint8)).tolist()
    [-1.0, 1.0]
"""

from __future__ import annotations

import numpy as np

ValueRange = tuple[float, float]


def rescale_factors(value_range: ValueRange | None) -> tuple[float, float]:
    """``(scale, offset)`` mapping uint8 0..255 linearly onto ``value_range`` (None: identity).

    Args:
        value_range: `(low, high)`, or None.

    Returns:
        `(scale, offset)` with `image * scale + offset` in the range.

    Example:

    >>> rescale_factors((-1.0, 1.0))
    (0.00784313725490196, -1.0)
    """
    if value_range is None:
        return 1.0, 0.0
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"value_range must be a (low, high) pair or None, got {value_range!r}"
        ) from error
    if not low < high:
        raise ValueError(f"value_range needs low < high, got {value_range!r}")
    return (high - low) / 255.0, low


def rescale_numpy(images: np.ndarray, value_range: ValueRange | None = (-1.0, 1.0)) -> np.ndarray:
    """uint8 images as float32 in ``value_range``.

    Args:
        images: uint8 array.
        value_range: `(low, high)`, or None to keep 0..255.

    Returns:
        float32 array.
    """
    scale, offset = rescale_factors(value_range)
    return (np.asarray(images, np.float32) * np.float32(scale) + np.float32(offset)).astype(
        np.float32
    )


def tf_crop_flip(image, padding: int = 4):
    """Random crop after zero padding by ``padding`` pixels, then random left-right flip (CIFAR).

    Args:
        image: HWC image tensor.
        padding: Zero padding on each side before the crop.

    Returns:
        The augmented image.
    """
    import tensorflow as tf

    height, width = image.shape[0], image.shape[1]
    padded = tf.pad(image, [[padding, padding], [padding, padding], [0, 0]])
    cropped = tf.image.random_crop(padded, tf.stack([height, width, tf.shape(image)[-1]]))
    return tf.image.random_flip_left_right(cropped)


def tf_resize_crop(image, size: int, random: bool = False):
    """Resize the shorter side to ``size / 0.875`` and crop ``size x size`` (centre, or random).

    Args:
        image: HWC image tensor.
        size: Output side.
        random: Whether the crop is random (else centred).

    Returns:
        The `size x size` image.
    """
    import tensorflow as tf

    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    target = tf.cast(tf.math.round(size / 0.875), tf.float32)
    new_shape = tf.cast(tf.math.round(shape * target / tf.reduce_min(shape)), tf.int32)
    resized = tf.image.resize(image, new_shape, antialias=True)
    resized = tf.cast(tf.clip_by_value(tf.round(resized), 0.0, 255.0), tf.uint8)
    if random:
        return tf.image.random_flip_left_right(
            tf.image.random_crop(resized, tf.stack([size, size, tf.shape(image)[-1]]))
        )
    return tf.image.resize_with_crop_or_pad(resized, size, size)


def tf_preprocess(
    image,
    label,
    *,
    value_range: ValueRange | None = (-1.0, 1.0),
    flatten: bool = False,
    augment: bool = False,
    image_size: int | None = None,
    batched: bool = False,
):
    """uint8 ``(image, label)`` -> ``(float32 image, int32 label)`` for one example, or for a
    batch of them with ``batched=True`` (elementwise work only: no augmentation or resizing).

    Args:
        image: uint8 image tensor.
        label: Integer label.
        value_range: `(low, high)`, or None to keep 0..255.
        flatten: Whether to flatten the image.
        augment: Whether to crop and flip randomly.
        image_size: Side to resize and crop to, or None.
        batched: Whether `image` and `label` hold a batch.

    Returns:
        `(image, label)`.
    """
    import tensorflow as tf

    if batched and (augment or image_size is not None):
        raise ValueError("augmentation and resizing work on one example at a time: preprocess "
                         "before batching (batched=False)")
    scale, offset = rescale_factors(value_range)
    if image_size is not None:
        image = tf_resize_crop(image, image_size, random=augment)
    elif augment:
        image = tf_crop_flip(image)
    image = tf.cast(image, tf.float32) * scale + offset
    if flatten:
        image = tf.reshape(image, [tf.shape(image)[0], -1] if batched else [-1])
    return image, tf.cast(label, tf.int32)
