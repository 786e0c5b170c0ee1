"""A character vocabulary: text <-> int32 ids, with a clear error for unknown characters.

Example:
    >>> from model_zoo.datasets import CharVocabulary
    >>> vocab = CharVocabulary.from_text("hello")
    >>> vocab.encode("hole").tolist(), vocab.decode(vocab.encode("hole"))
    ([1, 3, 2, 0], 'hole')
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class CharVocabulary:
    """Sorted unique characters; id ``i`` is ``chars[i]``.

    Args:
        chars: The characters, each once; `CharVocabulary.from_text` builds them from a text.

    Example:

    >>> vocab = CharVocabulary.from_text("hello")
    >>> vocab.chars, vocab.encode("lol").tolist()
    ('ehlo', [2, 3, 2])
    """

    def __init__(self, chars: Iterable[str]):
        chars = list(chars)
        if not chars or not all(isinstance(c, str) and len(c) == 1 for c in chars):
            raise ValueError("CharVocabulary needs a non-empty sequence of single characters")
        if len(set(chars)) != len(chars):
            raise ValueError("CharVocabulary characters must be unique")
        self.chars = "".join(chars)
        self._codes = np.array([ord(c) for c in self.chars], dtype=np.int64)
        self._order = np.argsort(self._codes)

    @classmethod
    def from_text(cls, text: str) -> CharVocabulary:
        """The vocabulary of every character that occurs in ``text``, sorted by code point."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        return cls(sorted(set(text)))

    @property
    def size(self) -> int:
        return len(self.chars)

    def __len__(self) -> int:
        return self.size

    def encode(self, text: str) -> np.ndarray:
        """int32 ids of ``text``; ValueError naming characters outside the vocabulary."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.int64)
        sorted_codes = self._codes[self._order]
        positions = np.clip(np.searchsorted(sorted_codes, codes), 0, self.size - 1)
        unknown = sorted_codes[positions] != codes
        if unknown.any():
            missing = sorted({chr(c) for c in codes[unknown]})
            raise ValueError(f"characters not in the vocabulary: {missing[:20]!r}")
        return self._order[positions].astype(np.int32)

    def decode(self, ids) -> str:
        """The text of a sequence of ids."""
        ids = np.asarray(ids)
        if ids.size and (ids.min() < 0 or ids.max() >= self.size):
            raise ValueError(f"ids must be in 0..{self.size - 1}")
        return "".join(self.chars[i] for i in ids.reshape(-1).tolist())

    def get_config(self) -> dict:
        return {"chars": self.chars}

    @classmethod
    def from_config(cls, config: dict) -> CharVocabulary:
        return cls(config["chars"])

    def __eq__(self, other) -> bool:
        return isinstance(other, CharVocabulary) and self.chars == other.chars

    def __hash__(self) -> int:
        return hash(self.chars)
