"""Build tfds's own on-disk format for datasets from offline sources (or tfds downloads on request).

Example:
    >>> from model_zoo.datasets.prepare import prepare
    >>> prepare("mnist", data_dir="/tmp/tfds")  # doctest: +SKIP
    PosixPath('/tmp/tfds/mnist/3.0.1')
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from model_zoo.datasets.catalog import dataset_spec, is_prepared, not_prepared_error
from model_zoo.datasets.paths import resolve_data_dir
from model_zoo.datasets.raw_arrays import raw_arrays


def _examples(images, labels, split: str):
    for index in range(len(labels)):
        yield (
            f"{split}_{index:05d}",
            {"image": images[index][..., None], "label": int(labels[index])},
        )


def _store_offline(name: str, data_dir: Path, cache_dir, install: bool | None) -> None:
    import tensorflow_datasets as tfds

    spec = dataset_spec(name)
    splits = raw_arrays(name, cache_dir=cache_dir, install=install)
    # tfds prints "Downloading and preparing dataset Unknown size ..." and "... downloaded and
    # prepared" to stdout even though nothing is downloaded; prepare() says what happens instead.
    with contextlib.redirect_stdout(io.StringIO()):
        tfds.dataset_builders.store_as_tfds_dataset(
            name=name,
            version=spec.version,
            features=tfds.builder(name).info.features,
            split_datasets={
                split: list(_examples(images, labels, split))
                for split, (images, labels) in splits.items()
            },
            data_dir=os.fspath(data_dir),
            description=f"{name} prepared offline by model_zoo.datasets from pinned sources.",
        )


def prepare(
    name: str,
    data_dir: str | os.PathLike | None = None,
    *,
    download: bool = False,
    cache_dir: str | os.PathLike | None = None,
    install: bool | None = None,
) -> Path:
    """Make ``name`` loadable with ``tfds.load(name, data_dir=..., download=False)``.

    Returns the prepared folder; a quick no-op when already prepared. mnist and fashion_mnist are
    built offline from checksummed sources; other datasets need ``download=True`` (tfds, internet).
    ``install`` controls apt-get for Fashion-MNIST (see ``debian.ensure_debian_files``).

    Args:
        name: A tfds dataset name.
        data_dir: tfds data directory to write to; None takes `$KERAS_BINARY_DATA_DIR`, else
            `~/tensorflow_datasets`.
        download: Whether tfds may download datasets that cannot be built offline.
        cache_dir: Where the raw source files are cached; None takes the default cache.
        install: Whether apt-get may install Debian's Fashion-MNIST package; None allows it
            when running as root.

    Returns:
        The folder holding the prepared dataset.

    Example:

    >>> prepare("mnist")  # doctest: +SKIP
    """
    spec = dataset_spec(name)
    data_dir = resolve_data_dir(data_dir)
    if is_prepared(name, data_dir):
        return spec.prepared_dir(data_dir)
    if not spec.offline and not download:
        raise not_prepared_error(name, data_dir)
    with _preparation_lock(data_dir, name):
        if not is_prepared(name, data_dir):  # another process may have prepared it meanwhile
            _prepare_unlocked(name, data_dir, cache_dir, install)
    return spec.prepared_dir(data_dir)


@contextlib.contextmanager
def _preparation_lock(data_dir: Path, name: str) -> Iterator[None]:
    """Holds an exclusive lock on `data_dir`/.`name`.prepare.lock, so that processes preparing
    the same dataset at once (training workers, parallel test runs) take turns."""
    import fcntl

    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / f".{name}.prepare.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _prepare_unlocked(name: str, data_dir: Path, cache_dir: str | os.PathLike | None,
                      install: bool | None) -> None:
    spec = dataset_spec(name)
    if spec.offline:
        print(f"Preparing {name} offline into {data_dir} (once; from pinned, checksummed "
              "sources) ...", file=sys.stderr)
        _store_offline(name, data_dir, cache_dir, install)
    else:
        import tensorflow_datasets as tfds

        tfds.builder(name, data_dir=os.fspath(data_dir)).download_and_prepare()
    if not is_prepared(name, data_dir):
        raise RuntimeError(
            f"Preparing {name} finished but {spec.prepared_dir(data_dir)} is missing"
        )


def ensure_prepared(name: str, data_dir: str | os.PathLike | None = None) -> None:
    """Prepares ``name`` on first use when it has an offline source (printing a line when it
    does); other datasets are left to the loader, whose error says how to get them.

    Args:
        name: A dataset name of `model_zoo.datasets`.
        data_dir: tfds data directory; None takes `$KERAS_BINARY_DATA_DIR`, else
            `~/tensorflow_datasets`.
    """
    if dataset_spec(name).offline:
        prepare(name, data_dir)
