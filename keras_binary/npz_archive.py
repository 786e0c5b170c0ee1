"""`.npz` archives with a JSON header: the container of keras-binary's packed weight files.

The header is stored as a uint8 array under its own key; reading uses ``allow_pickle=False`` and
checks that the header is a JSON object of the expected ``format`` and ``version`` whose list of
entries has the keys the caller needs, raising the caller's error class otherwise. Files are
written atomically (`keras_binary.atomic_io`): a kill mid-write never leaves a partial file.

Example:

>>> import numpy as np, os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "a.npz")
>>> arrays = {"x": np.arange(3), "__header__": encode_header({"format": "demo", "version": 1})}
>>> size = write_npz(path, arrays)
>>> header, stored = read_npz(path, "__header__", "demo", 1, ValueError)
>>> header["format"], stored["x"].tolist()
('demo', [0, 1, 2])
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from keras_binary import atomic_io


def encode_header(header: dict[str, Any]) -> np.ndarray:
    """The JSON header as a uint8 array, storable next to the weights.

    Args:
        header: A JSON-serializable dict.

    Returns:
        A 1-D uint8 array of its UTF-8 JSON.
    """
    return np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)


def write_npz(
    path: str | os.PathLike,
    arrays: dict[str, np.ndarray],
    *,
    compressed: bool = False,
    overwrite: bool = True,
) -> int:
    """Writes `arrays` as one `.npz` file atomically; returns its size in bytes.

    With `overwrite=False` an existing file is refused with a FileExistsError; a directory at
    `path` is refused with an IsADirectoryError.

    Args:
        path: Destination file.
        arrays: The arrays by key.
        compressed: Whether to use `numpy.savez_compressed`.
        overwrite: Whether an existing file may be replaced.

    Returns:
        The file size in bytes.

    Raises:
        FileExistsError: `path` exists and `overwrite` is False.
        IsADirectoryError: `path` is a directory.
    """
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"{path} is a directory; give a file path such as {os.path.join(path, 'model.npz')}"
        )
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    return atomic_io.write_bytes(path, buffer.getvalue(), overwrite=overwrite)


def read_npz(
    path: str | os.PathLike,
    header_key: str,
    expected_format: str,
    expected_version: int,
    error: type[Exception],
    entries: tuple[str, Sequence[str]] | None = None,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header and the remaining arrays of an archive written with `write_npz`.

    A missing file raises FileNotFoundError; a damaged archive, a header that is not a JSON
    object, another format/version, or (with `entries=(key, fields)`) a header whose `key` is
    not a list of objects each holding `fields` raises `error` with a message naming the problem.

    Args:
        path: The archive.
        header_key: Key of the header array.
        expected_format: The `format` the header must name.
        expected_version: The `version` the header must hold.
        error: Exception class raised for a damaged archive or another format.
        entries: Optional `(key, fields)`: the header's `key` must be a list of objects each
            holding `fields`.

    Returns:
        `(header, arrays)`: the header dict and the other arrays by key.

    Raises:
        FileNotFoundError: `path` does not exist.
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
        header = json.loads(bytes(arrays.pop(header_key)).decode())
    except FileNotFoundError:
        raise
    except Exception as cause:  # zip, npy and JSON damage all mean a corrupted file
        raise error(f"{path} is not a readable packed weights file: {cause}") from cause
    if not isinstance(header, dict):
        raise error(f"{path} has a header that is not a JSON object: the file is damaged or not "
                    "a packed weights file; export it again")
    if header.get("format") != expected_format or header.get("version") != expected_version:
        raise error(
            f"{path} has format {header.get('format')!r} version {header.get('version')!r}; "
            f"expected {expected_format!r} version {expected_version}."
        )
    if entries is not None:
        _check_entries(path, header, *entries, error)
    return header, arrays


def _check_entries(
    path: Any, header: dict[str, Any], key: str, fields: Sequence[str], error: type[Exception]
) -> None:
    listed = header.get(key)
    if not isinstance(listed, list) or not all(isinstance(entry, dict) for entry in listed):
        raise error(f"{path} has no list of objects under {key!r} in its header: the file is "
                    "damaged; export it again")
    for index, entry in enumerate(listed):
        missing = [field for field in fields if field not in entry]
        if missing:
            raise error(f"{path}: header entry {index} of {key!r} lacks {', '.join(missing)}: "
                        "the file is damaged; export it again")
