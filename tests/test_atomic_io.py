"""Atomic writes: the old file or the new one, never a partial one; leftovers are cleaned."""

from __future__ import annotations

import pytest

from keras_binary import atomic_io


def test_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    assert atomic_io.write_text(path, "new") == 3
    assert path.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"good")
    with pytest.raises(RuntimeError), atomic_io.atomic_path(path) as temporary:
        assert temporary.parent == tmp_path and temporary.name.endswith("-model.keras")
        temporary.write_bytes(b"half")
        raise RuntimeError("killed mid-write")
    assert path.read_bytes() == b"good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]


def test_no_overwrite_keeps_an_existing_file(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"mine")
    with pytest.raises(FileExistsError, match="pass overwrite=True"):
        atomic_io.write_bytes(path, b"theirs", overwrite=False)
    assert path.read_bytes() == b"mine"
    temporary = atomic_io.temporary_path(path)
    temporary.write_bytes(b"theirs")
    with pytest.raises(FileExistsError):
        atomic_io.commit(temporary, path, overwrite=False)  # a file that appeared meanwhile
    assert path.read_bytes() == b"mine" and not temporary.exists()
    atomic_io.write_bytes(tmp_path / "b.bin", b"new", overwrite=False)
    assert (tmp_path / "b.bin").read_bytes() == b"new"


def test_stale_temporaries_of_one_file_are_removed(tmp_path):
    path = tmp_path / "run.json"
    stale = atomic_io.temporary_path(path)
    stale.write_text("{")
    other = atomic_io.temporary_path(tmp_path / "other.json")
    other.write_text("{")
    assert atomic_io.remove_stale_temporaries(path) == [stale]
    assert not stale.exists() and other.exists()
