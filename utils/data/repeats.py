"""How much of a text repeats what came before: match lengths from a suffix array, in NumPy.

- :func:`context_match_lengths`: for each position ``p`` of a text, the length of the longest
  stretch ending just before ``p`` that also occurs earlier, ending before ``p - 1`` at the
  latest, so that the character that followed it then has been read too: how far back a model
  that could copy from everything it has read would find the current context.
- :func:`match_lengths`: for each position ``i`` of a text, the length of the longest string
  starting at ``i`` that occurs somewhere in a reference text (matching statistics);
  :func:`verbatim_shares`, :func:`longest_shared` and :func:`longest_shared_each` summarise it.

Both run on a suffix array built by prefix doubling (sort by the first 1, 2, 4 ... characters),
which keeps the rank of every ``2^k``-character block; the longest common prefix of any two
suffixes is then read off those ranks by binary lifting, and the suffixes nearest in sorted
order that qualify (an earlier one, one of the reference) are found with vectorised scans. A
text of 470,000 characters takes a few seconds; nothing is quadratic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Text = str | Sequence[int] | np.ndarray


def as_codes(text: Text, name: str = "text") -> np.ndarray:
    """``text`` as an int64 array: a str's code points, or the ids of a 1-D sequence of whole numbers."""
    if isinstance(text, str):
        return np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.int64)
    array = np.asarray(text)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a str or a 1-D array of ids, got shape {array.shape}.")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must hold whole-number ids, got dtype {array.dtype}.")
    if array.size and array.min() < 0:
        raise ValueError(f"{name} holds a negative id ({int(array.min())}); ids are 0 or more.")
    return array.astype(np.int64)


@dataclass(frozen=True)
class SuffixArray:
    """The suffixes of a text in sorted order, and the rank of every ``2^k``-character block.

    ``order[r]`` is the start of the ``r``-th smallest suffix; ``blocks[k][i]`` ranks the block of
    ``2^k`` characters at ``i`` (equal ranks, equal blocks; a block that runs past the end ranks
    apart from every other), up to the first ``k`` at which every block is distinct.
    """

    order: np.ndarray
    blocks: list[np.ndarray]

    @property
    def rank(self) -> np.ndarray:
        """``rank[i]``: where the suffix at ``i`` stands in :attr:`order`."""
        rank = np.empty(len(self.order), dtype=np.int64)
        rank[self.order] = np.arange(len(self.order))
        return rank

    def common_prefix(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """The length of the longest common prefix of the suffixes at ``i`` and at ``j != i`` (element-wise)."""
        i, j = np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64)
        n = len(self.order)
        length = np.zeros(np.broadcast(i, j).shape, dtype=np.int64)
        for k in range(len(self.blocks) - 1, -1, -1):
            step = 1 << k
            a, b = i + length, j + length
            inside = (a + step <= n) & (b + step <= n)
            ranks = self.blocks[k]
            same = inside & (ranks[np.minimum(a, n - 1)] == ranks[np.minimum(b, n - 1)])
            length += np.where(same, step, 0)
        return length


def suffix_array(text: Text) -> SuffixArray:
    """The :class:`SuffixArray` of ``text`` (a str or ids), by prefix doubling.

    A block's rank is the number of blocks that sort below it (so equal blocks share a rank); each
    doubling re-sorts only the blocks that still tie, by the rank of the block that follows them.
    """
    codes = as_codes(text)
    n = len(codes)
    if n == 0:
        raise ValueError("text is empty: there are no suffixes to sort. Pass a non-empty text.")
    values, inverse, counts = np.unique(codes, return_inverse=True, return_counts=True)
    below = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = below[inverse.reshape(-1)].astype(np.int64)
    blocks = [rank]
    width = 1
    while True:
        tied = np.flatnonzero(np.bincount(rank, minlength=n)[rank] > 1)
        if len(tied) == 0:
            break
        following = np.full(len(tied), -1, dtype=np.int64)
        inside = tied + width < n
        following[inside] = rank[tied[inside] + width]
        first = rank[tied]
        by_pair = np.argsort(first * (n + 1) + following + 1)  # by first block, then the block after it
        first, following, tied = first[by_pair], following[by_pair], tied[by_pair]
        new_pair = np.ones(len(tied), dtype=bool)
        new_pair[1:] = (first[1:] != first[:-1]) | (following[1:] != following[:-1])
        new_group = np.ones(len(tied), dtype=bool)
        new_group[1:] = first[1:] != first[:-1]
        index = np.arange(len(tied))
        pair_start = np.maximum.accumulate(np.where(new_pair, index, 0))
        group_start = np.maximum.accumulate(np.where(new_group, index, 0))
        rank = rank.copy()
        rank[tied] = first + (pair_start - group_start)
        blocks.append(rank)
        width *= 2
    order = np.empty(n, dtype=np.int64)
    order[rank] = np.arange(n)
    return SuffixArray(order=order, blocks=blocks)


def _previous_larger(values: np.ndarray) -> np.ndarray:
    """For each index ``r``, the largest ``r' < r`` with ``values[r'] > values[r]`` (-1 where none).

    ``values`` are distinct. A table of block maxima lets every index jump left over blocks whose
    values are all smaller, the longest block first (binary lifting), all indices at once.
    """
    n = len(values)
    maxima = [values]  # maxima[k][i] = max(values[i : i + 2^k])
    while (1 << len(maxima)) <= n:
        half = 1 << (len(maxima) - 1)
        maxima.append(np.maximum(maxima[-1][:-half], maxima[-1][half:]))
    position = np.arange(n)  # every value in [position, r) is below values[r]
    for k in range(len(maxima) - 1, -1, -1):
        low = position - (1 << k)
        block = maxima[k][np.maximum(low, 0)]
        position = np.where((low >= 0) & (block < values), low, position)
    return position - 1


def context_match_lengths(text: Text, start: int = 1) -> np.ndarray:
    """For each position ``p = start .. len(text) - 1``: how many characters before ``p`` were seen before.

    The largest ``L`` such that ``text[p - L : p]`` also occurs ending at some ``q < p``
    (``text[q - L : q] == text[p - L : p]``): the current context's longest match in the text read
    so far, where what followed it (``text[q]``) has been read too. Returns an int64 array of
    ``len(text) - start`` lengths. Computed on the reversed text, where the context becomes a prefix of
    a suffix and "earlier" a suffix that starts later.
    """
    codes = as_codes(text)
    n = len(codes)
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or not 1 <= start <= n:
        raise ValueError(f"start must be a whole number from 1 to the text's length {n}, got {start!r}.")
    if start == n:
        return np.zeros(0, dtype=np.int64)
    suffixes = suffix_array(codes[::-1])
    order = suffixes.order
    previous = _previous_larger(order)
    following = n - 1 - _previous_larger(order[::-1])[::-1]  # n where none
    best = np.zeros(n, dtype=np.int64)  # by position in sorted order
    for neighbour in (previous, following):
        has = (neighbour >= 0) & (neighbour < n)
        lengths = suffixes.common_prefix(order, order[np.clip(neighbour, 0, n - 1)])
        best = np.maximum(best, np.where(has, lengths, 0))
    reversed_start = n - np.arange(start, n)  # the reversed context of p starts at n - p
    return best[suffixes.rank[reversed_start]]


def match_lengths(text: Text, reference: Text) -> np.ndarray:
    """For each position ``i`` of ``text``, the length of the longest ``text[i : i + L]`` found in ``reference``.

    (Matching statistics.) Both are str or ids; returns an int64 array of ``len(text)`` lengths.
    """
    query, known = as_codes(text, "text"), as_codes(reference, "reference")
    if len(query) == 0:
        raise ValueError("text is empty: there is nothing to look up. Pass a non-empty text.")
    if len(known) == 0:
        raise ValueError("reference is empty: there is nothing to find text in. Pass a non-empty reference.")
    separator = max(int(query.max()), int(known.max())) + 1  # occurs in neither
    joined = np.concatenate([known, [separator], query])
    suffixes = suffix_array(joined)
    order, n, m = suffixes.order, len(joined), len(known)
    in_reference = order < m
    positions = np.arange(n)
    before = np.maximum.accumulate(np.where(in_reference, positions, -1))
    after = np.minimum.accumulate(np.where(in_reference, positions, n)[::-1])[::-1]
    best = np.zeros(n, dtype=np.int64)
    for neighbour in (before, after):
        has = (neighbour >= 0) & (neighbour < n)
        other = order[np.clip(neighbour, 0, n - 1)]
        lengths = np.minimum(suffixes.common_prefix(order, other), m - other)  # a match stays inside reference
        best = np.maximum(best, np.where(has, lengths, 0))
    return best[suffixes.rank[m + 1:]]


def verbatim_shares(text: Text, reference: Text, lengths: Sequence[int]) -> dict[int, float]:
    """For each of ``lengths``, the share of ``text``'s strings of that many characters (at every start) that
    occur verbatim in ``reference`` (one search for all the lengths)."""
    lengths = list(lengths)
    if not lengths or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 for n in lengths):
        raise ValueError(f"lengths must be whole numbers of at least 1, e.g. (20, 50); got {lengths!r}.")
    found = match_lengths(text, reference)
    if len(found) < max(lengths):
        raise ValueError(f"text has {len(found)} characters, fewer than one string of {max(lengths)}.")
    return {int(n): float(np.mean(found[: len(found) - n + 1] >= n)) for n in lengths}


def longest_shared(text: Text, reference: Text) -> int:
    """The length of the longest string that occurs in both ``text`` and ``reference``."""
    return int(match_lengths(text, reference).max())


def longest_shared_each(texts: Sequence[Text], reference: Text) -> np.ndarray:
    """For each of ``texts``, the length of the longest string it shares with ``reference`` (one search for all).

    The texts are joined with a separator that occurs nowhere, so no match runs from one into the next;
    an empty text shares nothing (0).
    """
    if isinstance(texts, (str, np.ndarray)) or len(texts) == 0:
        raise ValueError("texts must be a non-empty list of texts (str or ids), e.g. generated tunes.")
    codes = [as_codes(text, f"texts[{k}]") for k, text in enumerate(texts)]
    known = as_codes(reference, "reference")
    if len(known) == 0:
        raise ValueError("reference is empty: there is nothing to find the texts in. Pass a non-empty reference.")
    separator = max([int(known.max()), *(int(c.max()) for c in codes if len(c))]) + 1
    joined = np.concatenate([piece for c in codes for piece in (c, [separator])])
    found = match_lengths(joined, known)
    ends = np.cumsum([len(c) + 1 for c in codes])
    return np.array([found[end - len(c) - 1: end - 1].max() if len(c) else 0 for c, end in zip(codes, ends)],
                    dtype=np.int64)
