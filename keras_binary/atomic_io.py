"""Atomic file writes: a reader (or a process restarted after a kill) sees the old file or the
new one, never a partial one.

A file is written to a temporary name in the same folder (``.tmp-<token>-<name>``, so writers
that insist on a suffix such as ``.keras`` or ``.weights.h5`` still see it), flushed, fsynced,
moved into place with `os.replace`, and the folder is fsynced so the rename itself survives a
power cut. On an error (or Ctrl-C) the temporary file is removed; after a SIGKILL it is left
behind, and `remove_stale_temporaries` clears such leftovers.

Example:

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "note.txt")
>>> write_bytes(path, b"hello")
5
>>> with atomic_path(path) as tmp:  # for writers that take a path (model.save, savefig)
...     with open(tmp, "w") as handle:
...         _ = handle.write("bye")
>>> open(path).read()
'bye'
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

TMP_PREFIX = ".tmp-"


def temporary_path(path: str | os.PathLike) -> Path:
    """A fresh temporary name next to `path` that ends with `path`'s own name."""
    path = Path(path)
    return path.with_name(f"{TMP_PREFIX}{secrets.token_hex(4)}-{path.name}")


def fsync_path(path: str | os.PathLike) -> None:
    """Flushes a file's or a folder's data (a folder: its entries, i.e. renames) to disk."""
    flags = os.O_RDONLY | (os.O_DIRECTORY if Path(path).is_dir() else 0)
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def commit(temporary: str | os.PathLike, path: str | os.PathLike, overwrite: bool = True) -> None:
    """Moves the finished file `temporary` onto `path` durably (fsync, rename, fsync folder).

    With `overwrite=False` an existing `path` is kept and a FileExistsError raised (checked
    atomically with a hard link where the file system has them); `temporary` is removed then.
    """
    temporary, path = Path(temporary), Path(path)
    try:
        fsync_path(temporary)
        if overwrite:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)  # fails if `path` exists, without a race
            except FileExistsError:
                raise FileExistsError(f"{path} exists; pass overwrite=True to replace it") from None
            except OSError:  # no hard links here: a plain check, then the rename
                if path.exists():
                    raise FileExistsError(
                        f"{path} exists; pass overwrite=True to replace it"
                    ) from None
                os.replace(temporary, path)
            temporary.unlink(missing_ok=True)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_path(path.parent)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, overwrite: bool = True) -> Iterator[Path]:
    """Yields a temporary path to write `path`'s new content to; commits it on success.

    The temporary file is removed when the block raises (Ctrl-C included). Use it for writers
    that take a file name (`model.save`, `figure.savefig`, `np.savez`).
    """
    path = Path(path)
    if not overwrite and path.exists():
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    temporary = temporary_path(path)
    try:
        yield temporary
    except BaseException:
        _remove(temporary)
        raise
    commit(temporary, path, overwrite=overwrite)


def write_bytes(path: str | os.PathLike, data: bytes, overwrite: bool = True) -> int:
    """Writes `data` to `path` atomically; returns the number of bytes written."""
    with atomic_path(path, overwrite=overwrite) as temporary:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
    return len(data)


def write_text(path: str | os.PathLike, text: str, overwrite: bool = True) -> int:
    """Writes `text` (UTF-8) to `path` atomically; returns the number of bytes written."""
    return write_bytes(path, text.encode("utf-8"), overwrite=overwrite)


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Deletes temporary files or folders left next to `path` by a killed writer of `path`;
    returns them."""
    path = Path(path)
    if not path.parent.is_dir():
        return []
    stale = sorted(path.parent.glob(f"{TMP_PREFIX}*-{path.name}"))
    for leftover in stale:
        _remove(leftover)
    return stale


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
