"""Pretrained weights: a registry of named files (shipped in the package or behind a URL), each
with its sha256, checked before anything is loaded.

`load_weights(model, "mnist", model_name="binarynet_mlp_2048")` resolves the registry entry, checks
the file's sha256 and loads it; `weights=<path>` loads a user's packed ``.npz`` (see
`model_zoo.packed_weights`) or Keras ``.weights.h5``/``.keras`` file.

Example:

>>> from model_zoo.weights_registry import available_weights
>>> "mnist" in available_weights("binarynet_mlp_2048")
True
"""

from __future__ import annotations

import os
from pathlib import Path

import keras

from model_zoo.datasets.checksums import sha256_file
from model_zoo.packed_weights import WeightsFileError, load_packed_weights
from model_zoo.weights_catalog import (  # noqa: F401  (re-exported: the registry's public names)
    REGISTRY,
    PretrainedWeights,
    available_weights,
    register,
)

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


class WeightsChecksumError(WeightsFileError):
    """A weights file's sha256 is not the one the registry expects."""


def sha256_of(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes.

    Args:
        path: A file.

    Returns:
        Its hex sha256.
    """
    return sha256_file(path)


def verify_sha256(path: str | os.PathLike, expected: str) -> Path:
    """Returns `path` when its sha256 is `expected`; raises WeightsChecksumError otherwise.

    Args:
        path: A file.
        expected: Its expected hex sha256.

    Returns:
        `path` as a `Path`.

    Raises:
        WeightsChecksumError: the sha256 differs (the message names both).
    """
    actual = sha256_of(path)
    if actual != expected:
        raise WeightsChecksumError(
            f"Refusing to load {path}: its sha256 is {actual} but {expected} was expected. "
            "The file is corrupted or is not the registered one; delete it (or reinstall the "
            "package) to get a fresh copy."
        )
    return Path(path)


def resolve(entry: PretrainedWeights) -> Path:
    """The verified local path of an entry's file (downloading it first for URL entries).

    Args:
        entry: A registry entry.

    Returns:
        The path of its verified file.
    """
    if entry.url is not None:
        path = keras.utils.get_file(
            entry.filename, entry.url, file_hash=entry.sha256, cache_subdir="keras_binary"
        )
    else:
        path = WEIGHTS_DIR / entry.filename
        if not path.is_file():
            raise FileNotFoundError(
                f"The pretrained file {path} for {entry.model} ({entry.weights}) is missing from "
                "the installed package; reinstall keras-binary."
            )
    return verify_sha256(path, entry.sha256)


def _load_file(model: keras.Model, path: Path) -> None:
    name = path.name
    if name.endswith(".npz"):
        load_packed_weights(model, path)
    elif name.endswith(".weights.h5") or name.endswith(".keras"):
        model.load_weights(path)
    else:
        raise ValueError(
            f"Cannot load weights from {path}: expected a packed .npz file "
            "(model_zoo.packed_weights), a .weights.h5 or a .keras file."
        )


def load_weights(model: keras.Model, weights: str | os.PathLike | None, model_name: str) -> None:
    """Loads `weights` into `model`: None (nothing), a registered name or a file path.

    Args:
        model: The model to fill.
        weights: None, a registered name (`available_weights`) or a file path.
        model_name: The zoo name of `model`, to look registered names up.
    """
    if weights is None:
        return
    if not isinstance(weights, (str, os.PathLike)):
        raise TypeError(
            f"weights must be None, a pretrained name or a file path, got {type(weights).__name__}"
        )
    entry = REGISTRY.get((model_name, os.fspath(weights)))
    if entry is not None:
        _load_file(model, resolve(entry))
        return
    path = Path(weights).expanduser()
    if path.is_file():
        _load_file(model, path)
        return
    known = ", ".join(repr(name) for name in available_weights(model_name)) or "none"
    raise ValueError(
        f"weights={os.fspath(weights)!r} is neither a pretrained name for {model_name} "
        f"(available: {known}) nor an existing file."
    )
