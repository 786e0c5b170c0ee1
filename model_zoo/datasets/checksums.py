"""sha256 checks that refuse corrupted or unexpected source files before they are used.

Example:
    >>> from model_zoo.datasets.checksums import sha256_bytes
    >>> sha256_bytes(b"abc")[:8]
    'ba7816bf'
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


class ChecksumMismatchError(ValueError):
    """A file's sha256 differs from the pinned one."""


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``.

    Args:
        data: Bytes.

    Returns:
        Their hex sha256.
    """
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of the file at ``path``, read in chunks.

    Args:
        path: A file.

    Returns:
        Its hex sha256.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_sha256(path: str | os.PathLike, expected: str, what: str | None = None) -> Path:
    """Return ``path`` if its sha256 is ``expected``, else raise :class:`ChecksumMismatchError`.

    Args:
        path: A file.
        expected: Its expected hex sha256.
        what: What the file is, for the message.

    Returns:
        `path` as a `Path`.

    Raises:
        ChecksumMismatchError: the sha256 differs.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what or 'file'} not found: {path}")
    actual = sha256_file(path)
    if actual != expected.lower():
        raise ChecksumMismatchError(
            f"sha256 mismatch for {what or path.name} at {path}: "
            f"expected {expected}, got {actual}. "
            "The file is corrupted or not the pinned version; delete it and prepare again."
        )
    return path
