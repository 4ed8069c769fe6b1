"""How close an output sequence is to its reference: exact match and character error rate.

The *edit distance* (Levenshtein) between two strings is the fewest insertions, deletions and
substitutions, each costing 1, that turn one into the other. The *character error rate* of a set
of outputs is the sum of their edit distances over the sum of the reference lengths (so long
references weigh more, as in speech recognition); it is 0 for perfect output and can exceed 1
when an output is much longer than its reference. *Exact match* is the share of outputs equal
to their reference, character for character.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def edit_distance(a: Sequence, b: Sequence) -> int:
    """The Levenshtein distance between ``a`` and ``b`` (strings or sequences of tokens)."""
    for name, sequence in (("a", a), ("b", b)):
        if not hasattr(sequence, "__len__") or not hasattr(sequence, "__getitem__"):
            raise TypeError(f"{name} is {type(sequence).__name__} {sequence!r}; the edit distance compares "
                            "two sequences (strings, or lists of tokens).")
    previous = np.arange(len(b) + 1)  # distances from the empty prefix of a to each prefix of b
    for i, item in enumerate(a, start=1):
        current = np.empty_like(previous)
        current[0] = i
        for j, other in enumerate(b, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (item != other))
        previous = current
    return int(previous[-1])


def _checked(outputs: Sequence[str], references: Sequence[str]) -> None:
    for name, texts in (("outputs", outputs), ("references", references)):
        if isinstance(texts, (str, bytes)):
            raise TypeError(f"{name} is one string ({texts[:30]!r}); give a list of strings, one per pair "
                            f"(a single pair as [{name[:-1]}]): a string would be scored character by "
                            "character.")
        wrong = next(((i, text) for i, text in enumerate(texts) if not isinstance(text, str)), None)
        if wrong is not None:
            raise TypeError(f"{name}[{wrong[0]}] is {type(wrong[1]).__name__} {wrong[1]!r}, not a string: "
                            "the metrics compare texts (decode token ids with the vocabulary first).")
    if len(outputs) != len(references):
        raise ValueError(f"{len(outputs)} outputs for {len(references)} references: give one output per reference.")
    if len(references) == 0:
        raise ValueError("no references given: the metrics need at least one pair.")


def character_error_rate(outputs: Sequence[str], references: Sequence[str]) -> float:
    """Total edit distance over total reference length (see the module docstring)."""
    _checked(outputs, references)
    total = sum(len(r) for r in references)
    if total == 0:
        raise ValueError("every reference is empty: the character error rate divides by their length.")
    return sum(edit_distance(o, r) for o, r in zip(outputs, references, strict=True)) / total


def exact_match(outputs: Sequence[str], references: Sequence[str]) -> float:
    """The share of outputs equal to their reference."""
    _checked(outputs, references)
    return float(np.mean([o == r for o, r in zip(outputs, references, strict=True)]))


def by_bin(outputs: Sequence[str], references: Sequence[str], bins: Sequence[int] | np.ndarray,
           labels: Sequence[str]) -> pd.DataFrame:
    """Exact match and character error rate in each bin, one row per bin label, plus the pair count."""
    _checked(outputs, references)
    bins = np.asarray(bins)
    if bins.shape != (len(references),):
        raise ValueError(f"bins has shape {bins.shape}: give one bin number per reference ({len(references)}).")
    rows = {}
    for b, label in enumerate(labels):
        members = np.flatnonzero(bins == b)
        if len(members) == 0:
            raise ValueError(f"bin {b} ({label}) holds no pair.")
        outs, refs = [outputs[i] for i in members], [references[i] for i in members]
        rows[label] = {"exact match": exact_match(outs, refs), "character error rate": character_error_rate(outs, refs),
                       "pairs": len(members)}
    return pd.DataFrame.from_dict(rows, orient="index")
