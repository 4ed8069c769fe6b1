"""How close an output sequence is to its reference: exact match, character error rate, BLEU and chrF.

The *edit distance* (Levenshtein) between two strings is the fewest insertions, deletions and
substitutions, each costing 1, that turn one into the other. The *character error rate* of a set
of outputs is the sum of their edit distances over the sum of the reference lengths (so long
references weigh more, as in speech recognition); it is 0 for perfect output and can exceed 1
when an output is much longer than its reference. *Exact match* is the share of outputs equal
to their reference, character for character.

*BLEU* (Papineni et al. 2002) and *chrF* (Popović 2015) are the scores of machine-translation
papers, computed here at corpus level by ``sacrebleu`` (Post 2018), the library made so that papers
report them the same way: BLEU is the geometric mean of word 1- to 4-gram precisions times a
penalty for outputs shorter than the references; chrF is the F-score (recall weighted twice) of
character 1- to 6-grams. Both are on a 0-100 scale, 100 for output equal to the references.

Every figure that is compared carries an interval: :func:`by_bin_with_intervals` gives exact
match and character error rate per bin with a bootstrap over the test pairs, and
:func:`paired_by_bin` the difference of two models on the same pairs (:mod:`utils.stats.bootstrap`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from utils.stats import bootstrap


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
    bins = _bins(bins, len(references), labels)
    rows = {}
    for b, label in enumerate(labels):
        members = np.flatnonzero(bins == b)
        outs, refs = [outputs[i] for i in members], [references[i] for i in members]
        rows[label] = {"exact match": exact_match(outs, refs), "character error rate": character_error_rate(outs, refs),
                       "pairs": len(members)}
    return pd.DataFrame.from_dict(rows, orient="index")


def _sacrebleu():  # imported here so that a missing package gets a sentence, not a traceback
    try:
        from sacrebleu import metrics
    except ImportError:
        raise ImportError("BLEU and chrF need the `sacrebleu` package, a course dependency: run `make lab` "
                          "(or `pip install -e .`) to install it.") from None
    return metrics


def bleu(outputs: Sequence[str], references: Sequence[str]) -> float:
    """Corpus BLEU (0-100) with sacrebleu's defaults: its ``13a`` word tokenisation, 1- to 4-grams, one reference each.

    A hyphenated word ("eighty-seven") is one word to ``13a``. Outputs that share no 4-gram with
    their references still score above 0 at corpus level when other pairs supply the 4-grams.
    """
    _checked(outputs, references)
    return float(_sacrebleu().BLEU().corpus_score(list(outputs), [list(references)]).score)


def chrf(outputs: Sequence[str], references: Sequence[str]) -> float:
    """Corpus chrF (0-100) with sacrebleu's defaults: character 1- to 6-grams, recall weighted twice (beta = 2)."""
    _checked(outputs, references)
    return float(_sacrebleu().CHRF().corpus_score(list(outputs), [list(references)]).score)


def per_pair(outputs: Sequence[str], references: Sequence[str]) -> dict[str, np.ndarray]:
    """For each pair: ``right`` (1.0 when the output equals its reference), ``edits`` (edit distance), ``length``
    (reference length): the items that exact match and character error rate sum over."""
    _checked(outputs, references)
    return {"right": np.array([float(o == r) for o, r in zip(outputs, references, strict=True)]),
            "edits": np.array([float(edit_distance(o, r)) for o, r in zip(outputs, references, strict=True)]),
            "length": np.array([float(len(r)) for r in references])}


def _bins(bins: Sequence[int] | np.ndarray, count: int, labels: Sequence[str]) -> np.ndarray:
    bins = np.asarray(bins)
    if bins.shape != (count,):
        raise ValueError(f"bins has shape {bins.shape}: give one bin number per reference ({count}).")
    for b, label in enumerate(labels):
        if not np.any(bins == b):
            raise ValueError(f"bin {b} ({label}) holds no pair.")
    return bins


def intervals(outputs: Sequence[str], references: Sequence[str], *, resamples: int = 1000, seed: int = 0,
              level: float = 0.95) -> dict[str, bootstrap.Interval]:
    """Exact match and character error rate of all pairs, each with its bootstrap interval over the pairs."""
    items = per_pair(outputs, references)
    settings = dict(resamples=resamples, seed=seed, level=level)
    return {"exact match": bootstrap.interval(items["right"], **settings),
            "character error rate": bootstrap.interval(items["edits"], items["length"], **settings)}


def by_bin_with_intervals(outputs: Sequence[str], references: Sequence[str], bins: Sequence[int] | np.ndarray,
                          labels: Sequence[str], *, resamples: int = 1000, seed: int = 0,
                          level: float = 0.95) -> pd.DataFrame:
    """:func:`by_bin` with the ends of a bootstrap interval over the pairs of each bin.

    Columns: ``exact match``, ``exact match low``, ``exact match high``, the same three for
    ``character error rate``, and ``pairs``; one row per bin label.
    """
    items = per_pair(outputs, references)
    bins = _bins(bins, len(references), labels)
    settings = dict(resamples=resamples, seed=seed, level=level)  # bin b draws with seed + b
    found = {"exact match": bootstrap.intervals_by_group(items["right"], bins, labels, **settings),
             "character error rate": bootstrap.intervals_by_group(items["edits"], bins, labels, items["length"],
                                                                  **settings)}
    rows = {}
    for b, label in enumerate(labels):
        row = {}
        for name, by_label in found.items():
            row.update({name: by_label[label].estimate, f"{name} low": by_label[label].low,
                        f"{name} high": by_label[label].high})
        rows[label] = {**row, "pairs": int(np.sum(bins == b))}
    return pd.DataFrame.from_dict(rows, orient="index")


def bin_interval(table: pd.DataFrame, label: str, metric: str = "exact match") -> bootstrap.Interval:
    """One cell of a :func:`by_bin_with_intervals` table as an :class:`~utils.stats.bootstrap.Interval`."""
    return bootstrap.Interval(float(table.loc[label, metric]), float(table.loc[label, f"{metric} low"]),
                              float(table.loc[label, f"{metric} high"]))


def paired_by_bin(outputs_a: Sequence[str], outputs_b: Sequence[str], references: Sequence[str],
                  bins: Sequence[int] | np.ndarray, labels: Sequence[str], *, metric: str = "exact match",
                  resamples: int = 1000, seed: int = 0, level: float = 0.95) -> dict[str, bootstrap.Interval]:
    """Model a minus model b on the same pairs, per bin, with a paired bootstrap interval (``metric``:
    ``"exact match"`` or ``"character error rate"``). A bin's difference is within noise when its interval holds 0."""
    if metric not in ("exact match", "character error rate"):
        raise ValueError(f"metric is 'exact match' or 'character error rate', got {metric!r}.")
    a, b = per_pair(outputs_a, references), per_pair(outputs_b, references)
    bins = _bins(bins, len(references), labels)
    found = {}
    for g, label in enumerate(labels):
        m = np.flatnonzero(bins == g)
        settings = dict(resamples=resamples, seed=seed + g, level=level)
        if metric == "exact match":
            found[label] = bootstrap.paired_difference(a["right"][m], b["right"][m], **settings)
        else:
            found[label] = bootstrap.paired_difference(a["edits"][m], b["edits"][m], a["length"][m], b["length"][m],
                                                       **settings)
    return found


def compounding_by_bin(teacher_right: Sequence[np.ndarray], outputs: Sequence[str], references: Sequence[str],
                       bins: Sequence[int] | np.ndarray, labels: Sequence[str], *, resamples: int = 1000,
                       seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """Per bin: how much of the exact match that per-token accuracy predicts by compounding alone.

    ``teacher_right[i]`` says, token by token (end token included), whether the teacher-forced
    argmax of pair ``i`` was right. Columns: ``teacher-forced token accuracy`` (with ``low`` and
    ``high`` ends of its bootstrap interval), ``mean target tokens``, ``compounding prediction``
    (the mean over the bin's pairs of accuracy ** tokens: independent errors at the bin's rate),
    ``exact match`` (with ``low`` and ``high``), ``every teacher-forced argmax right`` (share of
    pairs) and ``disagreements`` (pairs whose greedy exact match differs from that, which greedy
    decoding makes impossible up to float32 near-ties).
    """
    _checked(outputs, references)
    if len(teacher_right) != len(references):
        raise ValueError(f"{len(teacher_right)} teacher-forced rows for {len(references)} references: give one per pair.")
    bins = _bins(bins, len(references), labels)
    right = [np.asarray(r, dtype=bool) for r in teacher_right]
    tokens, hits = np.array([len(r) for r in right], dtype=float), np.array([r.sum() for r in right], dtype=float)
    all_right = np.array([r.all() for r in right])
    exact = np.array([o == r for o, r in zip(outputs, references, strict=True)], dtype=float)
    rows = {}
    for b, label in enumerate(labels):
        m = np.flatnonzero(bins == b)
        settings = dict(resamples=resamples, seed=seed + b, level=level)
        accuracy, matched = bootstrap.interval(hits[m], tokens[m], **settings), bootstrap.interval(exact[m], **settings)
        rows[label] = {"teacher-forced token accuracy": accuracy.estimate, "teacher-forced token accuracy low": accuracy.low,
                       "teacher-forced token accuracy high": accuracy.high, "mean target tokens": tokens[m].mean(),
                       "compounding prediction": float(np.mean(accuracy.estimate ** tokens[m])),
                       "exact match": matched.estimate, "exact match low": matched.low, "exact match high": matched.high,
                       "every teacher-forced argmax right": float(all_right[m].mean()),
                       "disagreements": int((all_right[m] != exact[m].astype(bool)).sum())}
    return pd.DataFrame.from_dict(rows, orient="index")
