"""Characters and words as numbers: a character vocabulary and a bag of words."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

_WORD = re.compile(r"[a-z0-9']+")


def words(sentence: str) -> list[str]:
    """Lower-case word tokens of ``sentence`` (letters, digits and apostrophes)."""
    return _WORD.findall(sentence.lower())


def build_word_vocab(sentences: Iterable[str]) -> dict[str, int]:
    """Map every word that occurs in ``sentences`` to an index, in sorted order."""
    found = sorted({word for sentence in sentences for word in words(sentence)})
    return {word: index for index, word in enumerate(found)}


def bag_of_words(tokens: Sequence[str], vocab: Mapping[str, int]) -> np.ndarray:
    """Count vector of ``tokens`` over ``vocab``; words not in ``vocab`` are skipped."""
    vector = np.zeros(len(vocab), dtype=np.float32)
    for token in tokens:
        index = vocab.get(token)
        if index is not None:
            vector[index] += 1.0
    return vector


class CharVocab:
    """A fixed character vocabulary, most frequent character first."""

    def __init__(self, text: str) -> None:
        if not text:
            raise ValueError("CharVocab needs a non-empty text to learn its characters from.")
        counts = Counter(text)
        self.chars: list[str] = sorted(counts, key=lambda char: (-counts[char], char))
        self.index: dict[str, int] = {char: i for i, char in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Integer ids (int32) of the characters of ``text``."""
        try:
            return np.fromiter((self.index[char] for char in text), dtype=np.int32, count=len(text))
        except KeyError as exc:
            raise ValueError(
                f"character {exc.args[0]!r} is not in this vocabulary of {len(self)} characters; "
                "build the vocabulary from a text that contains it."
            ) from None

    def decode(self, ids: Iterable[int]) -> str:
        """The text spelled by a sequence of character ids."""
        return "".join(self.chars[int(i)] for i in ids)
