"""Byte-pair encoding (Sennrich et al. 2016) learned from a text, in plain Python and NumPy.

Chapter 10 builds the merge step in front of the learner; this module holds the whole tokenizer for
the notebook and the tests. It starts from characters (the course's texts are Unicode strings, so the
alphabet is characters, not bytes, as in Sennrich et al.) and repeats one step ``merges`` times: count
every pair of neighbouring tokens, give the most frequent pair a new id, and replace each occurrence
of the pair by it, left to right without overlaps (``a a a`` with the pair ``(a, a)`` becomes
``aa a``). Ties between equally frequent pairs go to the pair whose ids come first (smallest left id,
then smallest right id), so the merges are a function of the text.

Tokens never reach across the start of a word: a token that holds anything but whitespace is never
merged with a token that starts with whitespace, so words get their own tokens, with the space in
front of them (``" the"``), as in GPT-2, and no token spells the end of one word and the start of the next. Encoding a new text applies the learned merges in the order
they were learned, which gives exactly the tokens training gave its own text.

A language model on these tokens is scored in **bits per character** of the original text (the bits
of all tokens divided by the number of characters they spell), the one unit that compares models
over different tokenisations.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np


def pair_counts(ids: np.ndarray, vocab_size: int, allowed: np.ndarray | None = None) -> np.ndarray:
    """How often each pair ``(a, b)`` of neighbouring ids occurs, as a (V, V) array of counts.

    ``allowed`` (V, V) boolean, True where a pair may be merged, zeroes the others. Overlapping
    occurrences are all counted (``a a a`` holds the pair ``(a, a)`` twice), as in Sennrich et al.'s
    reference implementation.
    """
    ids = np.asarray(ids, dtype=np.int64)
    if len(ids) < 2:
        return np.zeros((vocab_size, vocab_size), dtype=np.int64)
    codes = ids[:-1] * vocab_size + ids[1:]
    counts = np.bincount(codes, minlength=vocab_size * vocab_size).reshape(vocab_size, vocab_size)
    return counts if allowed is None else np.where(allowed, counts, 0)


def merge_pair(ids: Sequence[int] | np.ndarray, pair: tuple[int, int], new_id: int) -> np.ndarray:
    """``ids`` with every occurrence of ``pair`` replaced by ``new_id``, left to right, no overlaps.

    Returns a new int64 array (the input is not changed); a sequence without the pair comes back equal.
    """
    ids = np.asarray(ids, dtype=np.int64)
    if ids.ndim != 1:
        raise ValueError(f"merge_pair takes one sequence of ids (1-D); got shape {ids.shape}.")
    left, right = int(pair[0]), int(pair[1])
    if len(ids) < 2:
        return ids.copy()
    starts = np.flatnonzero((ids[:-1] == left) & (ids[1:] == right))
    if left == right and len(starts):
        # A run of matches at i, i+1, i+2, ... (as in "a a a a"): left to right, keep every other one.
        run_start = np.ones(len(starts), dtype=bool)
        run_start[1:] = np.diff(starts) != 1
        run_id = np.cumsum(run_start) - 1
        first_of_run = starts[run_start][run_id]
        starts = starts[(starts - first_of_run) % 2 == 0]
    merged = ids.copy()
    merged[starts] = new_id
    return np.delete(merged, starts + 1)


def _word_bound(tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per token: does it hold anything but whitespace; does it start with whitespace."""
    holds_word = np.array([not token.isspace() for token in tokens], dtype=bool)
    starts_space = np.array([token[:1].isspace() for token in tokens], dtype=bool)
    return holds_word, starts_space


@dataclass
class BytePairEncoding:
    """A learned tokenizer: the alphabet (ids ``0 .. len(alphabet) - 1``) and the merges, in order.

    Merge ``k`` joins the pair ``merges[k]`` into the token with id ``len(alphabet) + k``; ``tokens``
    spells every id.
    """

    alphabet: list[str]
    merges: list[tuple[int, int]] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)     # how often each pair occurred when it was merged

    def __post_init__(self) -> None:
        self.tokens: list[str] = list(self.alphabet)
        for left, right in self.merges:
            self.tokens.append(self.tokens[left] + self.tokens[right])
        self._index = {char: i for i, char in enumerate(self.alphabet)}

    def __len__(self) -> int:
        return len(self.tokens)

    def characters(self, text: str) -> np.ndarray:
        """The ids of ``text``'s characters (the alphabet only, before any merge)."""
        try:
            return np.fromiter((self._index[char] for char in text), dtype=np.int64, count=len(text))
        except KeyError as exc:
            raise ValueError(f"character {exc.args[0]!r} is not in this tokenizer's alphabet of {len(self.alphabet)} "
                             "characters; learn it with an alphabet that holds it (the alphabet argument of "
                             "learn_bpe).") from None

    def encode(self, text: str) -> np.ndarray:
        """Token ids of ``text``: its characters, then every merge in the order it was learned."""
        ids = self.characters(text)
        for k, pair in enumerate(self.merges):
            ids = merge_pair(ids, pair, len(self.alphabet) + k)
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """The text the ids spell."""
        return "".join(self.tokens[int(i)] for i in ids)

    def token_lengths(self) -> np.ndarray:
        """How many characters each token spells, (V,)."""
        return np.array([len(token) for token in self.tokens], dtype=np.int64)


def learn_bpe(text: str, merges: int, alphabet: Iterable[str] | None = None) -> BytePairEncoding:
    """Learn ``merges`` merges from ``text`` (fewer if no pair is left to merge).

    ``alphabet`` (by default the characters of ``text``, sorted) fixes the first ids; it must hold
    every character of ``text``. The vocabulary ends with ``len(alphabet) + merges`` tokens.
    """
    if not isinstance(text, str) or not text:
        raise ValueError("learn_bpe needs a non-empty training text (a str) to count pairs in.")
    if isinstance(merges, bool) or not isinstance(merges, (int, np.integer)) or merges < 1:
        raise ValueError(f"the number of merges must be a whole number of at least 1; got {merges!r}.")
    chars = sorted(set(text)) if alphabet is None else list(dict.fromkeys(alphabet))
    tokenizer = BytePairEncoding(chars)
    ids = tokenizer.characters(text)
    size = len(chars) + int(merges)
    holds_word, starts_space = np.zeros(size, dtype=bool), np.zeros(size, dtype=bool)
    holds_word[:len(chars)], starts_space[:len(chars)] = _word_bound(chars)
    learned, counts, tokens = [], [], list(chars)
    for k in range(int(merges)):
        vocab_size = len(chars) + k
        allowed = ~(holds_word[:vocab_size, None] & starts_space[None, :vocab_size])
        table = pair_counts(ids, vocab_size, allowed)
        best = int(np.argmax(table))                     # the first of the most frequent: smallest (left, right)
        if table.flat[best] < 2:                         # a pair seen once saves nothing: stop early
            break
        pair = divmod(best, vocab_size)
        ids = merge_pair(ids, pair, vocab_size)
        tokens.append(tokens[pair[0]] + tokens[pair[1]])
        holds_word[vocab_size] = holds_word[pair[0]] or holds_word[pair[1]]
        starts_space[vocab_size] = starts_space[pair[0]]
        learned.append((int(pair[0]), int(pair[1])))
        counts.append(int(table.flat[best]))
    return BytePairEncoding(chars, learned, counts)


def bits_per_character(token_bits: float | np.ndarray, characters: int) -> float:
    """Bits per character of the original text: the bits of all its tokens over its character count.

    ``token_bits`` is the total, or one number per token (summed). A model on tokens is compared with a
    character model in this unit only: bits per token grow with the tokens' length.
    """
    if characters < 1:
        raise ValueError(f"bits per character needs at least one character; got {characters}.")
    return float(np.sum(token_bits)) / characters
