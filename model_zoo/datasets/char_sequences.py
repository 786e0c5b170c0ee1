"""Next-character prediction data: contiguous 90/5/5 splits cut into (input ids, next-char ids).

Example:
    >>> from model_zoo.datasets import char_dataset
    >>> x, y = char_dataset("abcdefghij" * 100, seq_len=8, batch_size=4)
    >>> x.shape, bool((x[0, 1:] == y[0, :-1]).all())
    ((112, 8), True)
"""

from __future__ import annotations

import numpy as np

from model_zoo.datasets.vocabulary import CharVocabulary

SPLIT_FRACTIONS = {"train": (0.0, 0.9), "valid": (0.9, 0.95), "test": (0.95, 1.0)}


def split_bounds(length: int, split: str) -> tuple[int, int]:
    """``[start, stop)`` offsets of ``split`` in a text of ``length`` (90/5/5, contiguous).

    Args:
        length: Length of the text.
        split: "train", "valid" or "test".

    Returns:
        `(start, stop)` character offsets.

    Raises:
        ValueError: an unknown split.

    Example:

    >>> split_bounds(1000, "valid")
    (900, 950)
    """
    if split not in SPLIT_FRACTIONS:
        raise ValueError(f"split must be one of {', '.join(SPLIT_FRACTIONS)}, got {split!r}")
    low, high = SPLIT_FRACTIONS[split]
    return int(length * low), int(length * high)


def char_dataset(
    text: str,
    seq_len: int,
    batch_size: int,
    split: str = "train",
    *,
    vocabulary: CharVocabulary | None = None,
    as_tf_dataset: bool = False,
    shuffle: bool = False,
    seed: int | None = None,
):
    """Non-overlapping windows of ``split`` as ``(inputs, targets)`` int32 arrays (n, seq_len).

    ``targets`` are ``inputs`` shifted by one character. ``n`` is cut to a multiple of
    ``batch_size`` so every batch is full. The vocabulary defaults to that of the whole ``text``
    (so valid/test characters are known). ``as_tf_dataset`` returns a batched ``tf.data.Dataset``.

    Args:
        text: The whole corpus.
        seq_len: Characters per window.
        batch_size: Batch size the number of windows is a multiple of.
        split: "train", "valid" or "test" (`split_bounds`).
        vocabulary: The `CharVocabulary` to encode with; None builds it from `text`.
        as_tf_dataset: Whether to return a batched `tf.data.Dataset` instead of arrays.
        shuffle: Whether to shuffle the windows (with `seed`).
        seed: Seed of the shuffle.

    Returns:
        `(inputs, targets)` int32 arrays of shape `(n, seq_len)`, or a `tf.data.Dataset` of
        such batches.

    Example:

    >>> x, y = char_dataset("abcdefghij" * 20, seq_len=4, batch_size=2)
    >>> x.shape, bool((x[:, 1:] == y[:, :-1]).all())
    ((44, 4), True)
    """
    for label, value in (("seq_len", seq_len), ("batch_size", batch_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{label} must be a positive int, got {value!r}")
    vocabulary = vocabulary or CharVocabulary.from_text(text)
    start, stop = split_bounds(len(text), split)
    ids = vocabulary.encode(text[start:stop])
    windows = (len(ids) - 1) // seq_len
    windows -= windows % batch_size
    if windows == 0:
        raise ValueError(
            f"split {split!r} has {len(ids)} characters: too few for one batch of {batch_size} "
            f"sequences of {seq_len} (+1)"
        )
    used = windows * seq_len
    inputs = ids[:used].reshape(windows, seq_len)
    targets = ids[1 : used + 1].reshape(windows, seq_len)
    if shuffle:
        order = np.random.default_rng(seed).permutation(windows)
        inputs, targets = inputs[order], targets[order]
    if not as_tf_dataset:
        return inputs, targets
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((inputs, targets)).batch(
        batch_size, drop_remainder=True
    )
