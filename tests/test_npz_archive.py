"""The shared .npz-with-JSON-header container of the packed weight formats."""

import json

import numpy as np
import pytest

from keras_binary.npz_archive import encode_header, read_npz, write_npz


class MyError(ValueError):
    pass


def archive(fmt="f", version=1):
    header = encode_header({"format": fmt, "version": version})
    return {"x": np.arange(5, dtype=np.int32), "h": header}


def test_round_trip_plain_and_compressed(tmp_path):
    for compressed in (False, True):
        path = tmp_path / f"a{compressed}.npz"
        size = write_npz(path, archive(), compressed=compressed)
        assert size == path.stat().st_size
        header, arrays = read_npz(path, "h", "f", 1, MyError)
        assert header == {"format": "f", "version": 1}
        np.testing.assert_array_equal(arrays["x"], np.arange(5))
        assert "h" not in arrays


def test_existing_file_is_kept_unless_overwrite(tmp_path):
    path = tmp_path / "a.npz"
    path.write_bytes(b"mine")
    with pytest.raises(FileExistsError, match="pass overwrite=True"):
        write_npz(path, archive(), overwrite=False)
    assert path.read_bytes() == b"mine"
    write_npz(path, archive(), overwrite=True)
    assert read_npz(path, "h", "f", 1, MyError)[0]["version"] == 1


def test_other_format_or_version_and_damage_raise_the_callers_error(tmp_path):
    path = tmp_path / "a.npz"
    write_npz(path, archive(version=2))
    with pytest.raises(MyError, match="version 2; expected 'f' version 1"):
        read_npz(path, "h", "f", 1, MyError)
    with pytest.raises(MyError, match="format 'f'.*expected 'g'"):
        read_npz(path, "h", "g", 2, MyError)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(MyError, match="not a readable packed weights file"):
        read_npz(tmp_path / "junk.npz", "h", "f", 1, MyError)
    with pytest.raises(FileNotFoundError):
        read_npz(tmp_path / "missing.npz", "h", "f", 1, MyError)


def _with_header(path, header):
    np.savez(path, x=np.arange(3), h=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8))


@pytest.mark.parametrize("header", [
    [1, 2],  # not an object
    "format",
    {"format": "f", "version": 1},  # no entries
    {"format": "f", "version": 1, "entries": {"a": 1}},
    {"format": "f", "version": 1, "entries": [{"path": "w"}]},  # an entry lacks a field
    {"format": "f", "version": 1, "entries": [7]},
])
def test_malformed_header_raises_the_callers_error(tmp_path, header):
    path = tmp_path / "a.npz"
    _with_header(path, header)
    with pytest.raises(MyError, match="export it again"):
        read_npz(path, "h", "f", 1, MyError, entries=("entries", ("path", "sha256")))


def test_a_directory_is_refused_naming_a_file_path(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory; give a file path such as"):
        write_npz(tmp_path, archive(), overwrite=True)
