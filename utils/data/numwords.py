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

:func:`make_task` can also hold out the **longest spellings** (``hold_out_longer_than``): every pair
whose German source is longer than that many characters is kept out of training, validation and the
in-distribution bins, and ``n_beyond`` of them form :attr:`Task.beyond`, a test set beyond the
training lengths. The split is by source length in characters, not by number of digits: a split by
digits holds out a structure (a three-digit thousands group) that training never showed, and tests
that rather than length. With a cut long enough that every :func:`structure` of number still occurs
in training (at least 56 characters for the largest numbers: the shortest spelling with every word
of a six-digit number has 53), the held-out pairs are longer spellings of structures the models have
seen; :func:`reachability` measures that.

:func:`alignment` says, for every character of a pair, which *word* of the number it belongs to
(the hundreds digit, "hundert"/"hundred", the tens, the units, "tausend"/"thousand", in each
group of three digits), or that it belongs to none (German "und", English "and", spaces, hyphens,
commas). The alignment is known by construction: it is built from the digits by the spelling
rules of both languages and checked against ``num2words``'s own spelling. Chapter 8 scores the
attention weights against it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SOURCE_LANGUAGE, TARGET_LANGUAGE = "de", "en"

_DE_UNITS = ("", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun")
_DE_TEENS = ("zehn", "elf", "zwölf", "dreizehn", "vierzehn", "fünfzehn", "sechzehn", "siebzehn", "achtzehn",
             "neunzehn")
_DE_TENS = ("", "", "zwanzig", "dreißig", "vierzig", "fünfzig", "sechzig", "siebzig", "achtzig", "neunzig")
_EN_UNITS = ("", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_EN_TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
             "nineteen")
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
WORDS = ("thousands: hundreds digit", "thousands: hundred", "thousands: tens", "thousands: units",
         "thousands: ten to nineteen", "thousand", "hundreds digit", "hundred", "tens", "units",
         "ten to nineteen")
"""The words of a number that :func:`alignment` tells apart; a label is an index into this tuple."""

_Segment = tuple[str, "str | None"]  # a piece of text and the word of the number it spells (None: a joiner)


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
    beyond: Pairs | None = None
    """Test pairs whose sources are longer than every other split's (``None`` unless asked for)."""
    beyond_label: str | None = None


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
              largest: int = 99_999, seed: int = 0, hold_out_longer_than: int | None = None,
              n_beyond: int = 0) -> Task:
    """Draw the task's numbers and split them; see the module docstring.

    The length bins are the quantiles of the German source length over all drawn numbers, so each
    bin covers about the same share of the task; the test set takes ``n_test_per_bin`` pairs from
    each, validation ``n_validation`` at random from the rest, and training the remaining pairs.

    With ``hold_out_longer_than`` (a number of characters), the pairs with longer German sources
    are held out of all of that, and ``n_beyond`` of them (at least 1) become ``Task.beyond``; the
    draw grows until there are enough pairs on both sides of the cut. Without it (the default) the
    task is drawn exactly as before the option existed.
    """
    for name, value in (("n_train", n_train), ("n_validation", n_validation),
                        ("n_test_per_bin", n_test_per_bin), ("n_bins", n_bins)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive whole number, got {value!r}.")
    total = n_train + n_validation + n_test_per_bin * n_bins
    beyond = beyond_label = None
    if hold_out_longer_than is None:
        if n_beyond:
            raise ValueError(f"n_beyond={n_beyond} asks for pairs beyond the training lengths: give "
                             "hold_out_longer_than too (the source length in characters above which pairs are held out).")
        pool = Pairs.of(draw_numbers(total, largest, seed))
    else:
        pool, beyond = _split_by_length(total, largest, seed, hold_out_longer_than, n_beyond)
        beyond_label = f"{min(len(s) for s in beyond.sources)}-{max(len(s) for s in beyond.sources)} chars (beyond)"
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
        largest=largest, beyond=beyond, beyond_label=beyond_label,
    )


def _split_by_length(total: int, largest: int, seed: int, longer_than: int, n_beyond: int) -> tuple[Pairs, Pairs]:
    """``total`` pairs with sources of at most ``longer_than`` characters and ``n_beyond`` longer ones, in drawing order."""
    for name, value in (("hold_out_longer_than", longer_than), ("n_beyond", n_beyond)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive whole number, got {value!r}.")
    count, spelled = total + n_beyond, {}
    while True:
        numbers = draw_numbers(count, largest, seed)
        for n in numbers:  # a larger draw repeats few numbers, but each is spelled once
            if int(n) not in spelled:
                spelled[int(n)] = spell(int(n), SOURCE_LANGUAGE)
        long = np.array([len(spelled[int(n)]) > longer_than for n in numbers])
        inside, outside = np.flatnonzero(~long), np.flatnonzero(long)
        if len(inside) >= total and len(outside) >= n_beyond:
            break
        if len(outside) == 0 and count >= 2_000:
            raise ValueError(f"no German source in 1..{largest} drawn is longer than {longer_than} characters: "
                             "lower hold_out_longer_than or raise largest.")
        grown = max(total * count / max(len(inside), 1), n_beyond * count / max(len(outside), 1))
        count = int(1.1 * grown) + 1
        if count > 0.5 * largest:
            raise ValueError(f"too few sources longer than {longer_than} characters in 1..{largest} to hold out "
                             f"{n_beyond}: lower hold_out_longer_than or ask for fewer pairs beyond.")
    def pairs(chosen: np.ndarray) -> Pairs:
        return Pairs(chosen, [spelled[int(n)] for n in chosen], [spell(int(n), TARGET_LANGUAGE) for n in chosen])

    return pairs(numbers[inside[:total]]), pairs(numbers[outside[:n_beyond]])


def structure(number: int) -> tuple:
    """The number's structure: for the thousands group and the rest, which words it has.

    Per group of three digits: whether it has a hundreds word, its tens ("none", "teen" or "tens")
    and whether it has a units word (``None`` for a teen); ``None`` for an absent group. 387,654 and
    123,456 share a structure; 387,054 and 387,614 do not. Two numbers of one structure are spelled
    with the same sequence of kinds of word, in both languages.
    """
    def group(value: int) -> tuple | None:
        if value == 0:
            return None
        hundreds, rest = divmod(value, 100)
        tens, units = divmod(rest, 10)
        kind = "teen" if tens == 1 else "tens" if tens else "none"
        return hundreds > 0, kind, (None if tens == 1 else units > 0)

    thousands, rest = divmod(int(number), 1000)
    return group(thousands), group(rest)


def reachability(train: Pairs, held_out: Pairs) -> dict[str, float]:
    """How much of what the held-out pairs need training showed: shares of the held-out pairs.

    ``structure seen``: the number's :func:`structure` occurs in training. ``groups seen in role``:
    its thousands group occurs as a thousands group in training, and its last three digits as last
    three digits. ``longest training source`` and ``shortest held-out source`` in characters.
    """
    structures = {structure(int(n)) for n in train.numbers}
    high = {int(n) // 1000 for n in train.numbers if n >= 1000}
    low = {int(n) % 1000 for n in train.numbers}
    numbers = [int(n) for n in held_out.numbers]
    if not numbers:
        raise ValueError("no held-out pairs to check.")
    return {
        "structure seen": float(np.mean([structure(n) in structures for n in numbers])),
        "groups seen in role": float(np.mean([(n // 1000 == 0 or n // 1000 in high) and n % 1000 in low
                                              for n in numbers])),
        "longest training source": float(max(len(s) for s in train.sources)),
        "shortest held-out source": float(min(len(s) for s in held_out.sources)),
    }


def _group_de(group: int, prefix: str, before_thousand: bool) -> list[_Segment]:
    hundreds, rest = divmod(group, 100)
    tens, units = divmod(rest, 10)
    segments: list[_Segment] = []
    if hundreds:
        segments += [("ein" if hundreds == 1 else _DE_UNITS[hundreds], f"{prefix}hundreds digit"),
                     ("hundert", f"{prefix}hundred")]
    if tens == 1:
        segments.append((_DE_TEENS[units], f"{prefix}ten to nineteen"))
        return segments
    if units:
        # "ein" before "und" and in "eintausend"; num2words writes "eins" elsewhere ("einhunderteinstausend")
        short = units == 1 and (tens > 1 or (before_thousand and not hundreds))
        segments.append(("ein" if short else _DE_UNITS[units], f"{prefix}units"))
        if tens:
            segments.append(("und", None))
    if tens:
        segments.append((_DE_TENS[tens], f"{prefix}tens"))
    return segments


def _group_en(group: int, prefix: str) -> list[_Segment]:
    hundreds, rest = divmod(group, 100)
    tens, units = divmod(rest, 10)
    segments: list[_Segment] = []
    if hundreds:
        segments += [(_EN_UNITS[hundreds], f"{prefix}hundreds digit"), (" ", None), ("hundred", f"{prefix}hundred")]
        if rest:
            segments.append((" and ", None))
    if tens == 1:
        segments.append((_EN_TEENS[units], f"{prefix}ten to nineteen"))
        return segments
    if tens:
        segments.append((_EN_TENS[tens], f"{prefix}tens"))
        if units:
            segments.append(("-", None))
    if units:
        segments.append((_EN_UNITS[units], f"{prefix}units"))
    return segments


def _segments(number: int, language: str) -> list[_Segment]:
    thousands, rest = divmod(number, 1000)
    segments: list[_Segment] = []
    if thousands:
        if language == SOURCE_LANGUAGE:
            segments += _group_de(thousands, "thousands: ", True) + [("tausend", "thousand")]
        else:
            segments += _group_en(thousands, "thousands: ") + [(" ", None), ("thousand", "thousand")]
    if rest:
        if language == SOURCE_LANGUAGE:
            segments += _group_de(rest, "", False)
        else:
            segments += ([(", " if rest >= 100 else " and ", None)] if thousands else []) + _group_en(rest, "")
    return segments


def _labels(segments: list[_Segment]) -> np.ndarray:
    return np.concatenate([np.full(len(text), -1 if word is None else WORDS.index(word), dtype=np.int64)
                           for text, word in segments])


def alignment(number: int) -> tuple[np.ndarray, np.ndarray]:
    """The word of the number that each character of its German source and English target spells.

    Returns two int arrays, as long as the source and the target: an index into :data:`WORDS`, or
    -1 for a character that spells no word of the number on its own ("und", "and", spaces, hyphens,
    commas). A target character with label ``w`` translates the source characters with label ``w``:
    "siebenundachtzig" -> "eighty-seven" aligns "achtzig" with "eighty" and "sieben" with "seven".
    """
    spelled = {language: spell(number, language) for language in (SOURCE_LANGUAGE, TARGET_LANGUAGE)}
    if number > 999_999:  # spell has checked that it is a whole number of at least 1
        raise ValueError(f"the alignment covers numbers up to 999,999 (the task's range), got {number:,}.")
    labels = []
    for language in (SOURCE_LANGUAGE, TARGET_LANGUAGE):
        segments = _segments(int(number), language)
        built = "".join(text for text, _ in segments)
        if built != spelled[language]:
            raise RuntimeError(f"num2words spells {number:,} in {language!r} as {spelled[language]!r}, not "
                               f"{built!r} as the alignment rules expect: is another num2words version installed?")
        labels.append(_labels(segments))
    return labels[0], labels[1]


_SWAPPABLE = {"units": _EN_UNITS[1:], "tens": _EN_TENS[2:], "ten to nineteen": _EN_TEENS}


def swap_word(number: int, rng: np.random.Generator) -> tuple[str, int, int] | None:
    """The English target of ``number`` with its first swappable digit word replaced by another valid one.

    A digit word (a hundreds digit, units, tens or ten-to-nineteen word, in either group) is
    swappable when another word of its kind has the same length ("three" -> "seven", "forty" ->
    "sixty"): the changed target is then a well-formed English number, every later character stays
    where it was, and the later words still translate the source. Returns ``(changed target, start,
    end)``, the word at ``[start, end)``, or ``None`` when no digit word has a same-length partner
    ("seventy", "ten"). Exposure bias is measured by feeding a decoder the changed prefix.
    """
    target = spell(number, TARGET_LANGUAGE)
    labels = alignment(number)[1]
    start = 0
    while start < len(labels):
        end = start
        while end < len(labels) and labels[end] == labels[start]:
            end += 1
        if labels[start] >= 0:
            kind = WORDS[labels[start]].split(": ")[-1]
            kind = "units" if kind == "hundreds digit" else kind
            word = target[start:end]
            partners = [w for w in _SWAPPABLE.get(kind, ()) if len(w) == len(word) and w != word]
            if partners:
                return target[:start] + str(rng.choice(partners)) + target[end:], start, end
        start = end
    return None
