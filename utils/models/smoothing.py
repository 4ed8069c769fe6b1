"""An interpolated Kneser-Ney character n-gram language model, fitted with NumPy.

An order-``k`` model predicts a character from the ``k`` before it (as in
:mod:`utils.models.ngram`). Each level ``n = 1 .. k+1`` (n-grams of ``n`` characters, contexts of
``n - 1``) mixes a discounted estimate with the level below:

    P_n(w | h) = max(a(h w) - D_n(a), 0) / a(h ·) + gamma(h) P_{n-1}(w | h'),
    gamma(h) = (D_n1 N1(h ·) + D_n2 N2(h ·) + D_n3+ N3+(h ·)) / a(h ·),

where ``h'`` is ``h`` without its first character and ``N1, N2, N3+`` count the characters
seen 1, 2 and 3+ times after ``h``. At the top level ``a`` is the raw count; at lower levels
(Kneser-Ney) it is the *continuation count*, the number of distinct characters seen before
``h w``, so a character that follows many contexts counts for more than one that follows
one context often. A context never seen at level ``n`` backs off: ``P_n = P_{n-1}``.

**Unseen characters.** The bottom of the recursion is the uniform distribution over the
whole vocabulary, ``P_0(w) = 1 / |V|``, and every discount is positive, so every character
of the vocabulary (also one absent from the training text) gets a probability > 0, and
``P_n(· | h)`` sums to 1 over the vocabulary for every context.

**Discounts.** By default three per level (modified Kneser-Ney, Chen & Goodman 1998),
estimated from the level's counts of counts ``n_1 .. n_4``: ``Y = n_1 / (n_1 + 2 n_2)``,
``D_c = c - (c + 1) Y n_{c+1} / n_c`` for ``c = 1, 2, 3``, each clipped to ``[0.05, c]``. Pass
``discount=`` a number in ``(0, 1]`` for one fixed discount at every level (the original
interpolated Kneser-Ney). ``method="absolute"`` uses raw counts at every level
(interpolated absolute discounting), for comparison.

**Exact codes at any order.** Each n-gram seen in the text gets a dense id, its rank among
the n-grams of its length: the id of ``h w`` is the rank of ``id(h) * |V| + w``, where ``h`` is
its first ``n - 1`` characters. Ids stay below the text's length, so the codes fit int64 at
every order (a base-``|V|`` code of the characters themselves would overflow int64 past
order 8 with the course's 103 characters). The ids are counted with ``np.bincount`` and
looked up with ``np.searchsorted``; a context that never occurred gets no id and backs off.
Fitting order 8 on about 370,000 characters takes a fraction of a second.

**Adaptation.** :func:`adaptive_probabilities` scores a held-out text block by block and adds
each block to the counts once it has been scored, as a compressor adapts to the file it is
coding: every character is still predicted from the text *before* it only. The n-grams of
training and held-out text are coded once, and each block's model counts the ones that end
before the block.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from utils.data.text import CharVocab

METHODS = ("kneser-ney", "absolute")
_MIN_DISCOUNT = 0.05


@dataclass(frozen=True)
class _Level:
    """One level of the model: n-grams of ``n`` characters and their contexts of ``n - 1``."""

    keys: np.ndarray  # sorted int64 codes of the n-grams seen
    weight: np.ndarray  # max(a - D(a), 0) / a(h ·) of each key
    contexts: np.ndarray  # sorted int64 codes of the contexts seen
    gamma: np.ndarray  # the back-off weight of each context
    discounts: tuple[float, float, float]


class _Grams:
    """Every n-gram of one text (``n = 1 .. top``) with an exact dense id, for counting any prefix of it.

    ``codes[n]`` holds the sorted codes of the distinct n-grams, ``id(first n-1 characters) * V +
    last character``; an n-gram's id is the index of its code there (``codes[0] = [0]``: the
    empty gram, id 0). ``at[n][i]`` is the id of the n-gram that starts at position ``i`` and
    ``suffix[n][g]`` the id of the (n-1)-gram that ends n-gram ``g``.
    """

    def __init__(self, ids: np.ndarray, top: int, vocab_size: int) -> None:
        length = len(ids)
        small = ids.astype(np.uint8 if vocab_size <= 2**8 else np.uint16 if vocab_size <= 2**16 else np.int64)
        self.codes: list[np.ndarray] = [np.zeros(1, dtype=np.int64)]
        self.at: list[np.ndarray] = [np.zeros(length + 1, dtype=np.int64)]
        self.suffix: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
        order = np.arange(length + 1)  # positions sorted by the gram that starts there (all empty: any order)
        for n in range(1, top + 1):
            # The n-gram at i is ids[i] followed by the (n-1)-gram at i+1: positions sorted by their
            # (n-1)-gram, shifted by one, then stably sorted by their first character, are sorted by
            # their n-gram (lexicographically, which is the order of the codes).
            starts = order[order >= 1] - 1
            starts = starts[starts <= length - n]
            starts = starts[np.argsort(small[starts], kind="stable")]
            first_char, rest = ids[starts], self.at[n - 1][starts + 1]
            new_gram = np.ones(len(starts), dtype=bool)
            new_gram[1:] = (first_char[1:] != first_char[:-1]) | (rest[1:] != rest[:-1])
            rank = np.cumsum(new_gram) - 1
            at = np.empty(length - n + 1, dtype=np.int64)
            at[starts] = rank
            representative = starts[new_gram]  # one position of each distinct n-gram, in rank order
            self.codes.append(self.at[n - 1][representative] * vocab_size + ids[representative + n - 1])
            self.at.append(at)
            self.suffix.append(rest[new_gram] if n > 1 else np.zeros(len(representative), dtype=np.int64))
            order = starts

    def _present(self, n: int, end: int) -> np.ndarray:
        """How often each n-gram occurs within the first ``end`` characters (by id)."""
        return np.bincount(self.at[n][: max(end - n + 1, 0)], minlength=len(self.codes[n]))

    def counts(self, n: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        """Codes and counts of the n-grams within the first ``end`` characters (codes sorted)."""
        count = self._present(n, end)
        seen = np.flatnonzero(count)
        return self.codes[n][seen], count[seen]

    def continuation_counts(self, n: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        """Codes of the n-grams that end an (n+1)-gram within the first ``end`` characters, and how
        many distinct characters precede each there (Kneser-Ney's continuation counts)."""
        longer = np.flatnonzero(self._present(n + 1, end))
        count = np.bincount(self.suffix[n + 1][longer], minlength=len(self.codes[n]))
        seen = np.flatnonzero(count)
        return self.codes[n][seen], count[seen]


def _count_of_counts_discounts(counts: np.ndarray) -> tuple[float, float, float]:
    """Modified Kneser-Ney discounts ``(D1, D2, D3+)`` from the counts of one level."""
    n = [int(np.count_nonzero(counts == c)) for c in (1, 2, 3, 4)]
    y = n[0] / (n[0] + 2 * n[1]) if n[0] + 2 * n[1] > 0 else 0.5
    discounts = []
    for c in (1, 2, 3):
        estimate = c - (c + 1) * y * n[c] / n[c - 1] if n[c - 1] > 0 else y
        discounts.append(float(np.clip(estimate, _MIN_DISCOUNT, c)))
    return discounts[0], discounts[1], discounts[2]


def _check_int(value: Any, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a whole number (an int), got {value!r} of type {type(value).__name__}.")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}.")
    return int(value)


class KneserNeyLM:
    """An interpolated (modified) Kneser-Ney character model of order ``order``.

    ``vocab`` is a :class:`~utils.data.text.CharVocab` (then texts may be given as ``str``) or the
    vocabulary size (then only id arrays). Build the vocabulary from the whole corpus so that
    held-out characters have ids; characters the training text lacks still get P > 0.
    """

    def __init__(self, order: int, vocab: CharVocab | int, discount: float | None = None,
                 method: str = "kneser-ney") -> None:
        self.order = _check_int(order, "order", 0)
        if isinstance(vocab, CharVocab):
            self.vocab: CharVocab | None = vocab
            self.vocab_size = len(vocab)
        else:
            self.vocab = None
            self.vocab_size = _check_int(vocab, "vocab (the vocabulary size)", 1)
        if discount is not None:
            if isinstance(discount, bool) or not isinstance(discount, (int, float, np.floating)):
                raise TypeError(f"discount must be a number in (0, 1] or None, got {discount!r}.")
            if not 0.0 < discount <= 1.0:
                raise ValueError(f"discount must lie in (0, 1] (0 would give unseen characters probability 0), "
                                 f"got {discount!r}; or pass None for the estimated modified-KN discounts.")
        self.discount = None if discount is None else float(discount)
        if method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}.")
        self.method = method
        self.levels: list[_Level] = []
        self.n_train = 0
        self._dictionary: list[np.ndarray] = []  # sorted codes of the k-grams that have ids, k = 0 .. order

    # Input ------------------------------------------------------------------------------------

    def ids(self, text: str | Sequence[int] | np.ndarray, name: str = "text") -> np.ndarray:
        """``text`` as int64 ids, checked against the vocabulary."""
        if isinstance(text, str):
            if self.vocab is None:
                raise TypeError(f"{name} is a str, but this model was built with a vocabulary size, not a "
                                "CharVocab; pass ids, or build the model with KneserNeyLM(order, CharVocab(corpus)).")
            return self.vocab.encode(text).astype(np.int64)
        array = np.asarray(text)
        if array.ndim != 1:
            raise ValueError(f"{name} must be a str or a 1-D array of ids, got shape {array.shape}.")
        if array.size == 0:
            return array.astype(np.int64)
        if not np.issubdtype(array.dtype, np.integer):
            raise TypeError(f"{name} must hold whole-number ids, got dtype {array.dtype}.")
        outside = (array < 0) | (array >= self.vocab_size)
        if outside.any():
            raise ValueError(f"{name} holds id {int(array[np.argmax(outside)])}, outside the vocabulary "
                             f"0..{self.vocab_size - 1}; encode it with the model's vocabulary.")
        return array.astype(np.int64)

    # Fitting ----------------------------------------------------------------------------------

    def fit(self, train: str | Sequence[int] | np.ndarray) -> KneserNeyLM:
        """Count the n-grams of ``train`` (a str or ids) and set up every level."""
        ids = self.ids(train, "train")
        self._check_length(len(ids), "train")
        return self._fit_counts(_Grams(ids, self.order + 1, self.vocab_size), len(ids))

    def _check_length(self, length: int, name: str) -> None:
        if length <= self.order:
            raise ValueError(f"{name} has {length} characters, too few for an order-{self.order} model "
                             f"(it needs more than {self.order}); pass a longer training text.")

    def _fit_counts(self, grams: _Grams, end: int) -> KneserNeyLM:
        """Set up every level from the n-grams of ``grams`` that end within its first ``end`` characters."""
        levels = []
        for n in range(1, self.order + 2):
            if self.method == "kneser-ney" and n <= self.order:
                keys, a = grams.continuation_counts(n, end)  # distinct characters seen before each n-gram
            else:
                keys, a = grams.counts(n, end)
            levels.append(self._level(keys, a))
        self.levels = levels
        self._dictionary = grams.codes[: self.order + 1]
        self.n_train = end
        return self

    def _level(self, keys: np.ndarray, a: np.ndarray) -> _Level:
        v = self.vocab_size
        if self.discount is None:
            d1, d2, d3 = _count_of_counts_discounts(a)
        else:
            d1 = d2 = d3 = self.discount
        d = np.where(a == 1, d1, np.where(a == 2, d2, d3))
        contexts_of_keys = keys // v  # sorted, since the keys are
        first_of_context = np.ones(len(keys), dtype=bool)
        first_of_context[1:] = contexts_of_keys[1:] != contexts_of_keys[:-1]
        starts = np.flatnonzero(first_of_context)
        contexts = contexts_of_keys[starts]
        totals = np.add.reduceat(a, starts).astype(np.float64)
        removed = np.add.reduceat(d, starts)
        which = np.cumsum(first_of_context) - 1  # the context of each key, by index
        weight = np.maximum(a - d, 0.0) / totals[which]
        return _Level(keys=keys, weight=weight, contexts=contexts, gamma=removed / totals,
                      discounts=(float(d1), float(d2), float(d3)))

    def _check_fitted(self) -> None:
        if not self.levels:
            raise ValueError("this model is not fitted yet; call model.fit(train_text) first.")

    # Probabilities ----------------------------------------------------------------------------

    def _interpolate(self, context_codes: list[np.ndarray], next_ids: np.ndarray) -> np.ndarray:
        """P(next | context) for many positions; ``context_codes[n-1]`` is -1 where level n is unavailable."""
        v = self.vocab_size
        p = np.full(len(next_ids), 1.0 / v)
        for level, ctx in zip(self.levels, context_codes):
            available = ctx >= 0
            i = np.searchsorted(level.contexts, ctx)
            i_clipped = np.minimum(i, len(level.contexts) - 1)
            seen = available & (level.contexts[i_clipped] == ctx)
            if not seen.any():
                continue
            gram = ctx * v + next_ids
            j = np.minimum(np.searchsorted(level.keys, gram), len(level.keys) - 1)
            found = seen & (level.keys[j] == gram)
            mixed = np.where(found, level.weight[j], 0.0) + level.gamma[i_clipped] * p
            p = np.where(seen, mixed, p)
        return p

    def _extend(self, k: int, ids: np.ndarray, chars: np.ndarray) -> np.ndarray:
        """The id of each (k-1)-gram ``ids`` followed by ``chars``, as a k-gram; -1 where it has none."""
        codes = self._dictionary[k]
        wanted = ids * self.vocab_size + chars
        i = np.minimum(np.searchsorted(codes, wanted), len(codes) - 1)
        return np.where((ids >= 0) & (codes[i] == wanted), i, -1)

    def _context_ids(self, contexts: np.ndarray) -> np.ndarray:
        """Ids of the last 0..order characters of each row of ``contexts`` ``(B, order)`` (-1 marks no character).

        Column ``k`` of the result ``(B, order + 1)`` is the id of each row's last ``k`` characters (-1 where
        a row has fewer, or where they never occurred).
        """
        batch = len(contexts)
        found = np.full((batch, self.order + 1), -1, dtype=np.int64)
        found[:, 0] = 0
        for k in range(1, self.order + 1):
            ids = np.zeros(batch, dtype=np.int64)
            for column in range(self.order - k, self.order):
                chars = contexts[:, column]
                ids = np.where(chars >= 0, self._extend(k - (self.order - 1 - column), ids, chars), -1)
            found[:, k] = ids
        return found

    def _last_chars(self, context: np.ndarray) -> np.ndarray:
        """``context``'s last ``order`` ids as one row of length ``order``, padded on the left with -1."""
        row = np.full(self.order, -1, dtype=np.int64)
        kept = context[len(context) - min(len(context), self.order):]
        row[self.order - len(kept):] = kept
        return row

    def distribution(self, context: str | Sequence[int] | np.ndarray = "") -> np.ndarray:
        """P(w | context) for every character ``w`` of the vocabulary (shape ``(V,)``, sums to 1).

        Only the last ``order`` characters of ``context`` matter; a shorter context (the start
        of a text) uses the levels it has.
        """
        self._check_fitted()
        if isinstance(context, str) and not context:
            ids = np.zeros(0, dtype=np.int64)
        else:
            ids = self.ids(context, "context")
        return self._distributions(self._context_ids(self._last_chars(ids)[None, :]))[0]

    def _distributions(self, context_ids: np.ndarray) -> np.ndarray:
        """P(w | context) for every row of ``context_ids`` ``(B, order + 1)`` (see :meth:`_context_ids`): ``(B, V)``.

        The same interpolation as :meth:`_interpolate`, a row at a time: a seen context's n-grams are
        one run of a level's sorted keys, so each row takes its run instead of looking up all ``V``.
        """
        v = self.vocab_size
        p = np.full((len(context_ids), v), 1.0 / v)
        for level, ctx in zip(self.levels, context_ids.T):
            i = np.minimum(np.searchsorted(level.contexts, ctx), len(level.contexts) - 1)
            rows = np.flatnonzero((ctx >= 0) & (level.contexts[i] == ctx))
            if len(rows) == 0:
                continue
            first = np.searchsorted(level.keys, ctx[rows] * v)
            size = np.searchsorted(level.keys, ctx[rows] * v + v) - first
            keys = np.repeat(first - np.cumsum(size) + size, size) + np.arange(size.sum())
            seen = np.zeros((len(rows), v))
            seen[np.repeat(np.arange(len(rows)), size), level.keys[keys] % v] = level.weight[keys]
            p[rows] = seen + level.gamma[i[rows]][:, None] * p[rows]
        return p

    def probabilities(self, text: str | Sequence[int] | np.ndarray,
                      history: str | Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """P(x_t | the characters before it) for every character of ``text`` (float64, ``(len(text),)``).

        ``history`` is what precedes ``text`` (for the test slice: the end of the training
        text); without it the first characters are predicted from the shorter context they have.
        """
        self._check_fitted()
        ids = self.ids(text)
        if len(ids) == 0:
            raise ValueError("text is empty: there are no characters to score. Pass a non-empty text.")
        before = np.zeros(0, dtype=np.int64)
        if history is not None and len(history) > 0 and self.order > 0:
            before = self.ids(history[len(history) - min(len(history), self.order) :], "history")
        full = np.concatenate([before, ids])
        length, start = len(full), len(before)
        codes = [np.zeros(length, dtype=np.int64)]  # the empty context, id 0 everywhere
        for k in range(1, self.order + 1):
            code = np.full(length, -1, dtype=np.int64)
            if k < length:  # the k characters before t: those before t-1, then full[t-1]
                code[k:] = self._extend(k, codes[-1][k - 1 : length - 1], full[k - 1 : length - 1])
            codes.append(code)
        return self._interpolate([code[start:] for code in codes], ids)

    def bits_per_char(self, text: str | Sequence[int] | np.ndarray,
                      history: str | Sequence[int] | np.ndarray | None = None) -> float:
        """Mean of ``-log2 P(x_t | ...)`` over ``text`` (see :meth:`probabilities`)."""
        return float(-np.mean(np.log2(self.probabilities(text, history))))

    def step(self, last_id: int, state: tuple[int, ...] | None = None) -> tuple[np.ndarray, tuple[int, ...]]:
        """A step function for :func:`utils.decoding.sampling.generate`: read ``last_id``, return P(next) and the context."""
        self._check_fitted()
        if isinstance(last_id, bool) or not isinstance(last_id, (int, np.integer)) \
                or not 0 <= last_id < self.vocab_size:
            raise ValueError(f"last_id must be an id in 0..{self.vocab_size - 1}, got {last_id!r}.")
        context = (*(state or ()), int(last_id))
        context = context[len(context) - min(len(context), self.order) :]
        return self.distribution(np.array(context, dtype=np.int64)), context

    def batch_step(self, last_ids: Any, state: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`step` for a batch of texts, for :func:`utils.decoding.sampling.generate_batch`.

        ``last_ids`` ``(B,)`` are the ids just read; ``state`` ``(B, order + 1)`` holds, for each text, the
        ids of its last 0, 1, ..., ``order`` characters before them (-1 where the text is shorter or the
        context never occurred; ``None`` at the start). Returns P(next) ``(B, V)`` and the new state: each
        context grows by the id just read, one lookup per order.
        """
        self._check_fitted()
        ids = self.ids(np.asarray(last_ids).reshape(-1), "last_ids")
        if state is None:
            state = np.full((len(ids), self.order + 1), -1, dtype=np.int64)
            state[:, 0] = 0
        state = np.asarray(state, dtype=np.int64)
        if state.shape != (len(ids), self.order + 1):
            raise ValueError(f"state must have shape (batch, order + 1) = ({len(ids)}, {self.order + 1}), "
                             f"got {state.shape}; start with state=None.")
        grown = np.empty_like(state)
        grown[:, 0] = 0
        for k in range(1, self.order + 1):
            grown[:, k] = self._extend(k, state[:, k - 1], ids)
        return self._distributions(grown), grown

    def discounts(self) -> list[tuple[float, float, float]]:
        """``(D1, D2, D3+)`` of each level, from unigrams (level 1) to the top."""
        self._check_fitted()
        return [level.discounts for level in self.levels]


def fit_kneser_ney(train: str | np.ndarray, order: int, vocab: CharVocab | int, **options: Any) -> KneserNeyLM:
    """``KneserNeyLM(order, vocab, **options).fit(train)``."""
    return KneserNeyLM(order, vocab, **options).fit(train)


def adaptive_probabilities(train: str | np.ndarray, text: str | np.ndarray, order: int,
                           vocab: CharVocab | int, block: int = 2_000,
                           history: str | np.ndarray | None = None, **options: Any) -> np.ndarray:
    """P(x_t | the characters before it) for every character of ``text`` under a Kneser-Ney model that
    keeps counting as it reads.

    ``text`` is cut into blocks of ``block`` characters. Block ``j`` is scored by the model fitted on
    ``train`` plus blocks ``0 .. j-1`` of ``text`` (so no character is ever predicted from counts
    that include it or anything after it), with the characters just before it as its history
    (``history`` for the first block). With ``block >= len(text)`` this is the fixed model's
    :meth:`KneserNeyLM.probabilities`. Smaller blocks adapt sooner.
    """
    model = KneserNeyLM(order, vocab, **options)  # checks the arguments and encodes the texts once
    train_ids, text_ids = model.ids(train, "train"), model.ids(text, "text")
    if len(text_ids) == 0:
        raise ValueError("text is empty: there are no characters to score. Pass a non-empty text.")
    model._check_length(len(train_ids), "train")
    block = _check_int(block, "block", 1)
    before = np.zeros(0, dtype=np.int64)
    if history is not None and len(history) > 0:
        before = model.ids(history, "history")
    grams = _Grams(np.concatenate([train_ids, text_ids]), model.order + 1, model.vocab_size)
    probabilities = np.empty(len(text_ids))
    for start in range(0, len(text_ids), block):
        model._fit_counts(grams, len(train_ids) + start)
        context = np.concatenate([before, text_ids[:start]])[-max(order, 1):]
        probabilities[start:start + block] = model.probabilities(text_ids[start:start + block], history=context)
    return probabilities


def adaptive_bits_per_char(train: str | np.ndarray, text: str | np.ndarray, order: int,
                           vocab: CharVocab | int, block: int = 2_000,
                           history: str | np.ndarray | None = None, **options: Any) -> float:
    """Bits per character of ``text`` under a Kneser-Ney model that keeps counting as it reads
    (the mean of ``-log2`` :func:`adaptive_probabilities`)."""
    return float(-np.mean(np.log2(adaptive_probabilities(train, text, order, vocab, block, history, **options))))


@dataclass(frozen=True)
class OrderSelection:
    """The order with the lowest validation bits per character, and the score of every order tried."""

    best_order: int
    bits_per_char: dict[int, float]


def select_order(train: str | np.ndarray, validation: str | np.ndarray, vocab: CharVocab | int,
                 orders: Iterable[int] = range(1, 9), **options: Any) -> OrderSelection:
    """Fit one model per order on ``train``, score ``validation`` (its history: the end of ``train``).

    Returns the order with the lowest validation bits per character (the lower order on a
    tie) and every order's score. The training text's n-grams are coded once for all orders. Refit the chosen order on train + validation before the
    single test evaluation.
    """
    orders = sorted(set(orders))
    if not orders:
        raise ValueError("orders is empty; pass the orders to compare, e.g. range(1, 9).")
    models = {order: KneserNeyLM(order, vocab, **options) for order in orders}  # checks every order first
    train_ids = models[orders[0]].ids(train, "train")
    models[orders[-1]]._check_length(len(train_ids), "train")
    grams = _Grams(train_ids, orders[-1] + 1, models[orders[0]].vocab_size)  # coded once for every order
    scores = {order: model._fit_counts(grams, len(train_ids)).bits_per_char(validation, history=train)
              for order, model in models.items()}
    best = min(orders, key=lambda order: (scores[order], order))
    return OrderSelection(best_order=best, bits_per_char=scores)


def choose_order(train: str, validation: str, vocab: CharVocab | int,
                 orders: Iterable[int]) -> tuple[int, dict[int, float]]:
    """Exercise 6.2's reference: ``(best order, {order: validation bits per character})``.

    The same as :func:`select_order`, returned as a plain pair.
    """
    selection = select_order(train, validation, vocab, orders)
    return selection.best_order, dict(selection.bits_per_char)
