"""The translation task of chapters 7-9: numbers written in German words, into English words.

``dreihundertsiebenundachtzig`` -> ``three hundred and eighty-seven``: a real translation with
the two hard parts of translation in small. German says the units before the tens
(*sieben-und-achtzig*, "seven and eighty"), so the output is reordered, and the two sides have
different lengths that grow with the number. The pairs are generated offline by ``num2words``
(LGPL, https://github.com/savoirfairelinux/num2words) from numbers drawn with a seed.

:func:`make_task` draws distinct numbers with every number of digits about equally likely and
round numbers common (see :func:`draw_numbers`), and splits them into training, validation and test
sets that share no number. The test set is stratified by the length of the German input: the same
number of pairs in each length bin, so that accuracy against length can be read from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SOURCE_LANGUAGE, TARGET_LANGUAGE = "de", "en"


def _num2words():  # imported here so that a missing package gets a sentence, not a traceback
    try:
        from num2words import num2words
    except ImportError:
        raise ImportError("the translation task needs the `num2words` package, a course dependency: "
                          "run `make lab` (or `pip install -e .`) to install it.") from None
    return num2words


def spell(number: int, language: str) -> str:
    """``number`` written in words in ``language`` (``"de"`` or ``"en"``), as ``num2words`` spells it."""
    if isinstance(number, bool) or not isinstance(number, (int, np.integer)):
        raise TypeError(f"spell needs a whole number, got {type(number).__name__} {number!r}.")
    if number < 1:
        raise ValueError(f"the task's numbers start at 1, got {number}.")
    return str(_num2words()(int(number), lang=language))


@dataclass(frozen=True)
class Pairs:
    """Numbers with their German source and English target sentences, in the same order."""

    numbers: np.ndarray
    sources: list[str]
    targets: list[str]

    def __len__(self) -> int:
        return len(self.numbers)

    def __getitem__(self, index: Sequence[int] | np.ndarray) -> Pairs:
        index = np.asarray(index, dtype=int)
        return Pairs(self.numbers[index], [self.sources[i] for i in index], [self.targets[i] for i in index])

    @classmethod
    def of(cls, numbers: Sequence[int] | np.ndarray) -> Pairs:
        """The pairs of the given numbers."""
        numbers = np.asarray(numbers, dtype=np.int64)
        return cls(numbers, [spell(int(n), SOURCE_LANGUAGE) for n in numbers],
                   [spell(int(n), TARGET_LANGUAGE) for n in numbers])


@dataclass(frozen=True)
class Task:
    """The three splits, which share no number, and the length bins of the test set.

    ``test_bins[i]`` is the bin of test pair ``i`` (0 = shortest German input); ``bin_labels``
    names each bin by its range of source lengths in characters.
    """

    train: Pairs
    validation: Pairs
    test: Pairs
    test_bins: np.ndarray
    bin_labels: list[str]
    largest: int


def draw_numbers(count: int, largest: int, seed: int, zero_share: float = 0.4) -> np.ndarray:
    """``count`` distinct numbers in 1..``largest`` drawn with ``seed``, in drawing order.

    Each draw picks a number of digits uniformly (up to those of ``largest``), a leading digit
    from 1-9, and every further digit as 0 with probability ``zero_share``, else from 1-9: round
    numbers ("zweitausendneunhundert") are then as common as in real text, and every length of
    number is about equally likely until the short ones are used up (there are only 9 of one
    digit), after which the draws go to the longer ones.
    """
    if count < 1 or largest < 1:
        raise ValueError(f"count and largest must be at least 1, got count={count}, largest={largest}.")
    if not 0.0 <= zero_share < 1.0:
        raise ValueError(f"zero_share is a probability below 1, got {zero_share}.")
    if count > largest:
        raise ValueError(f"there are only {largest} numbers in 1..{largest}: cannot draw {count} distinct ones.")
    if count > 0.5 * largest:
        raise ValueError(f"{count} distinct numbers are too many to draw from 1..{largest} (at most half of "
                         "the range): raise `largest` or ask for fewer.")
    rng = np.random.default_rng(seed)
    max_digits = len(str(largest))
    seen: dict[int, None] = {}
    while len(seen) < count:
        digits = rng.integers(1, max_digits + 1, size=2 * count)
        lead = rng.integers(1, 10, size=2 * count)
        rest = np.where(rng.random((2 * count, max_digits - 1)) < zero_share, 0,
                        rng.integers(1, 10, size=(2 * count, max_digits - 1)))
        for n_digits, first, others in zip(digits, lead, rest, strict=True):
            number = int(str(first) + "".join(str(d) for d in others[: n_digits - 1]))
            if number <= largest:
                seen.setdefault(number)
            if len(seen) == count:
                break
    return np.fromiter(seen, dtype=np.int64, count=count)


def make_task(n_train: int, n_validation: int, n_test_per_bin: int, *, n_bins: int = 4,
              largest: int = 99_999, seed: int = 0) -> Task:
    """Draw the task's numbers and split them; see the module docstring.

    The length bins are the quantiles of the German source length over all drawn numbers, so each
    bin covers about the same share of the task; the test set takes ``n_test_per_bin`` pairs from
    each, validation ``n_validation`` at random from the rest, and training the remaining pairs.
    """
    for name, value in (("n_train", n_train), ("n_validation", n_validation),
                        ("n_test_per_bin", n_test_per_bin), ("n_bins", n_bins)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive whole number, got {value!r}.")
    total = n_train + n_validation + n_test_per_bin * n_bins
    pool = Pairs.of(draw_numbers(total, largest, seed))
    lengths = np.array([len(source) for source in pool.sources])
    edges = np.unique(np.quantile(lengths, np.linspace(0, 1, n_bins + 1)[1:-1], method="higher"))
    if len(edges) != n_bins - 1:
        raise ValueError(f"the source lengths do not split into {n_bins} distinct bins: ask for fewer bins.")
    bins = np.searchsorted(edges, lengths, side="right")
    rng = np.random.default_rng(seed + 1)
    test_parts = []
    for b in range(n_bins):
        members = np.flatnonzero(bins == b)
        if len(members) < n_test_per_bin:
            raise ValueError(f"length bin {b} holds {len(members)} pairs, fewer than n_test_per_bin="
                             f"{n_test_per_bin}: ask for fewer test pairs per bin or more pairs in all.")
        test_parts.append(np.sort(rng.choice(members, size=n_test_per_bin, replace=False)))
    test_index = np.concatenate(test_parts)
    rest = rng.permutation(np.setdiff1d(np.arange(total), test_index))
    low = [int(lengths.min())] + [int(e) for e in edges]
    high = [int(e) - 1 for e in edges] + [int(lengths.max())]
    return Task(
        train=pool[rest[n_validation:]], validation=pool[rest[:n_validation]], test=pool[test_index],
        test_bins=bins[test_index], bin_labels=[f"{lo}-{hi} chars" for lo, hi in zip(low, high, strict=True)],
        largest=largest,
    )
