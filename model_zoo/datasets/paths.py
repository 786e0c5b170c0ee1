"""Where prepared datasets and downloaded source archives live.

Example:
    >>> from model_zoo.datasets.paths import resolve_data_dir
    >>> str(resolve_data_dir("/tmp/tfds"))
    '/tmp/tfds'
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "KERAS_BINARY_DATA_DIR"
CACHE_DIR_ENV = "KERAS_BINARY_CACHE_DIR"


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The tfds data dir: ``data_dir``, ``$KERAS_BINARY_DATA_DIR`` or ``~/tensorflow_datasets``.

    Args:
        data_dir: A folder, or None for the default.

    Returns:
        The folder as a `Path`.
    """
    if data_dir is None:
        data_dir = os.environ.get(DATA_DIR_ENV) or "~/tensorflow_datasets"
    if not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(f"data_dir must be a path or None, got {type(data_dir).__name__}")
    return Path(data_dir).expanduser()


def resolve_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """Cache for downloaded source archives: ``cache_dir``, ``$KERAS_BINARY_CACHE_DIR`` or
    ``~/.cache/keras_binary``. Shared across data dirs so tests do not re-download.

    Args:
        cache_dir: A folder, or None for the default.

    Returns:
        The folder as a `Path`.
    """
    if cache_dir is None:
        cache_dir = os.environ.get(CACHE_DIR_ENV) or "~/.cache/keras_binary"
    if not isinstance(cache_dir, (str, os.PathLike)):
        raise TypeError(f"cache_dir must be a path or None, got {type(cache_dir).__name__}")
    return Path(cache_dir).expanduser()
