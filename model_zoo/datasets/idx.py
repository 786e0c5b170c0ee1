"""Parser for the IDX format of (Fashion-)MNIST, validating magic numbers and sizes.

Example:
    >>> import numpy as np
    >>> from model_zoo.datasets.idx import parse_idx
    >>> parse_idx(bytes([0, 0, 8, 1, 0, 0, 0, 2, 7, 9])).tolist()
    [7, 9]
"""

from __future__ import annotations

import gzip
import os

import numpy as np

_UBYTE = 0x08


class IdxFormatError(ValueError):
    """Bytes that are not a valid unsigned-byte IDX file of the expected shape."""


def parse_idx(
    data: bytes, expected_shape: tuple[int, ...] | None = None, what: str = "IDX data"
) -> np.ndarray:
    """Decode unsigned-byte IDX bytes into a uint8 array, checking magic, dims and length.

    Args:
        data: IDX bytes.
        expected_shape: Shape the array must have, or None.
        what: What the data is, for messages.

    Returns:
        The uint8 array.

    Raises:
        IdxFormatError: bad magic, dimensions or length.
    """
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise IdxFormatError(f"{what}: bad magic number {data[:4].hex()!r} (expected 0000 08 0N)")
    if data[2] != _UBYTE:
        raise IdxFormatError(f"{what}: element type 0x{data[2]:02x} is not unsigned byte (0x08)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise IdxFormatError(f"{what}: truncated header for {ndim} dimensions")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    if expected_shape is not None and shape != tuple(expected_shape):
        raise IdxFormatError(f"{what}: shape {shape} differs from the expected {expected_shape}")
    size = int(np.prod(shape))
    if len(data) != header + size:
        raise IdxFormatError(
            f"{what}: {len(data) - header} payload bytes for shape {shape} (expected {size})"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape).copy()


def read_idx(path: str | os.PathLike, expected_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Read an IDX file (gzip-compressed if its name ends in .gz).

    Args:
        path: An IDX file (.gz allowed).
        expected_shape: Shape the array must have, or None.

    Returns:
        The uint8 array.
    """
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as handle:
        return parse_idx(handle.read(), expected_shape, what=path)
