"""Make sure a Debian package's files are present, installing it with apt-get when running as root.

Example:
    >>> from model_zoo.datasets.debian import ensure_debian_files
    >>> ensure_debian_files("linux-libc-dev", "/usr/include/linux")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

APT_TIMEOUT_S = 600


def debian_package_version(package: str) -> str | None:
    """The installed version of a Debian package, or None where dpkg does not know it.

    Args:
        package: Debian package name.

    Returns:
        Its installed version, or None.
    """
    dpkg_query = shutil.which("dpkg-query")
    if dpkg_query is None:
        return None
    result = subprocess.run(
        [dpkg_query, "-W", "-f=${Version}", package], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def _can_install() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get") is not None


def ensure_debian_files(package: str, path: str | os.PathLike, install: bool | None = None) -> Path:
    """Return ``path`` once it exists, running ``apt-get install -y package`` if needed.

    ``install=None`` installs only when running as root with apt-get available (and says so on
    stderr); ``install=False`` never installs. Raises FileNotFoundError with instructions otherwise.

    Args:
        package: Debian package that provides `path`.
        path: The file or folder needed.
        install: True installs, False never does, None installs as root with apt-get.

    Returns:
        `path` as a `Path`.

    Raises:
        FileNotFoundError: `path` is missing and was not installed (the message says how).
    """
    path = Path(path)
    if path.exists():
        return path
    if install is None:
        install = _can_install()
    if not install:
        raise FileNotFoundError(
            f"{path} is missing: it comes from the Debian package {package}. Install it with "
            f"`sudo apt-get install -y {package}` and try again."
        )
    print(
        f"Installing Debian package {package} with apt-get (running as root) ...", file=sys.stderr
    )
    # Another apt-get (a parallel test worker, the system's updater) may hold dpkg's lock: wait.
    apt = ["apt-get", "-o", f"DPkg::Lock::Timeout={APT_TIMEOUT_S}"]
    attempts = (
        [[*apt, "install", "-y", package]],
        [[*apt, "update"], [*apt, "install", "-y", package]],
    )
    for commands in attempts:
        for command in commands:
            subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=APT_TIMEOUT_S,
                check=False,
                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            )
        if path.exists():
            return path
    raise FileNotFoundError(
        f"`apt-get install -y {package}` did not provide {path}; install {package} by hand."
    )
