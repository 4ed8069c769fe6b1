"""Checkers for chapter 4: one LSTM step, one GRU step (both conventions), parameter counts, and the
reach of the gradient (Exercise 4.4, the chapter's experiment on the forget-gate bias).

Each checker compares the learner's answer with the reference in :mod:`utils.models.gated` on
several inputs and, when it differs, tests it against the wrong answers learners plausibly
write (gate blocks in another order, a missing forget gate, the reset gate in the wrong
place, the other update-gate convention, a forgotten second bias...) so that the message
names the mistake. For 4.4 (``gradient_reach(log_gradients, drop)``, the largest distance at
which a log10 gradient curve is within ``drop`` of its value at distance 0) these are: the fall
measured from the far end or the array read in time order, the first distance below the
threshold or the end of the first stretch above it (the curve is not monotone), the number of
distances within instead of the largest, one step too many or too few, the distance counted from
the start of the sequence, the log values divided by ``10 ** drop`` as if they were norms, norms
compared with a log threshold, ``log10(drop)``, the fall measured from the curve's maximum, ``>``
for ``>=``, and a rise above ``drop`` ending the reach (``abs``). The first case tells all but the
last two apart; the next two catch those.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import permutations
from typing import Any

import numpy as np

from utils.models.cells import simple_rnn_parameter_count
from utils.checks.framework import Mistake, as_array, call, checker, expect_shape, kind_of, named_mistake
from utils.checks.symptoms import ATOL, RTOL, expect_close
from utils.models.gated import GRU_GATES, LSTM_GATES, gradient_reach, gru_step, lstm_step, parameter_count, sigmoid

_GATE_NAMES = {"i": "input gate", "f": "forget gate", "c": "candidate", "o": "output gate",
               "z": "update gate", "r": "reset gate", "h": "candidate"}


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal within float32 rounding: a step computed in float32 is right, a wrong one misses by 1e-2 or more."""
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=ATOL))


def _rows(k: int) -> str:
    """``k*d:(k+1)*d`` written the way the text writes it: ``0:d``, ``d:2d``, ``2d:3d``..."""
    def multiple(m: int) -> str:
        return {0: "0", 1: "d"}.get(m, f"{m}d")

    return f"{multiple(k)}:{multiple(k + 1)}"


def _order_message(order: Sequence[int], gates: Sequence[str]) -> str:
    """Which gate was read from which block, in words."""
    swaps = [f"the {_GATE_NAMES[gates[k]]} ({gates[k]}) from the rows of {gates[j]}"
             for k, j in enumerate(order) if j != k]
    rows = ", ".join(f"{gate}: rows {_rows(k)}" for k, gate in enumerate(gates))
    return (f"the gate blocks are in the wrong order: you took {', '.join(swaps)}. The blocks of U, W and b "
            f"are stacked in Keras's order {', '.join(gates)} ({rows}).")


# Exercise 4.1 -----------------------------------------------------------------------------------


def _lstm_parts(x, s, U, W, b, order=(0, 1, 2, 3), bias=True, recurrent_T=False):
    """Pre-activations of i, f, c, o, reading gate k from block ``order[k]``."""
    d = W.shape[1]
    parts = []
    for j in order:
        rows = slice(j * d, (j + 1) * d)
        W_j = W[rows].T if recurrent_T else W[rows]
        parts.append(U[rows] @ x + W_j @ s + (b[rows] if bias else 0.0))
    return parts


def _lstm_from(parts, c_prev, *, keep="f", add="i", candidate=np.tanh, gate=sigmoid, out="tanh(c_t)"):
    a_i, a_f, a_g, a_o = parts
    i, f, o, g = gate(a_i), gate(a_f), gate(a_o), candidate(a_g)
    kept = {"f": f * c_prev, "1-f": (1.0 - f) * c_prev, "all": c_prev, "none": 0.0}[keep]
    added = {"i": i * g, "1-f": (1.0 - f) * g}[add]
    c_t = kept + added
    s_t = {"tanh(c_t)": o * np.tanh(c_t), "c_t": o * c_t, "tanh(c_prev)": o * np.tanh(c_prev),
           "no o": np.tanh(c_t)}[out]
    return s_t, c_t


def _lstm_suspects(x, s, c, U, W, b) -> list[tuple[tuple[np.ndarray, np.ndarray], str]]:
    parts = _lstm_parts(x, s, U, W, b)
    right = _lstm_from(parts, c)
    suspects = [
        (_lstm_from(parts, c, keep="all"),
         "the forget gate is missing: you wrote c_t = c_{t-1} + i_t * g_t (the LSTM of 1997). The LSTM of "
         "Keras (Gers et al., 2000) scales the old cell state by the forget gate: c_t = f_t * c_{t-1} + "
         "i_t * g_t."),
        (_lstm_from(parts, c, keep="none"),
         "your cell state ignores c_{t-1}: the old cell state must be carried, scaled by the forget gate: "
         "c_t = f_t * c_{t-1} + i_t * g_t."),
        (_lstm_from(parts, c, keep="1-f"),
         "you scaled c_{t-1} by (1 - f_t): f_t is the fraction of the old cell state that is kept, "
         "c_t = f_t * c_{t-1} + i_t * g_t."),
        (_lstm_from(parts, c, add="1-f"),
         "you coupled the input gate to the forget gate ((1 - f_t) in place of i_t). That is another "
         "variant; the LSTM here has its own input gate: c_t = f_t * c_{t-1} + i_t * g_t."),
        (_lstm_from(parts, c, out="c_t"),
         "tanh on the cell state is missing from the output: s_t = o_t * tanh(c_t), not o_t * c_t."),
        (_lstm_from(parts, c, out="tanh(c_prev)"),
         "the output uses the old cell state c_{t-1}: compute c_t first, then s_t = o_t * tanh(c_t)."),
        (_lstm_from(parts, c, out="no o"),
         "the output gate is missing: s_t = o_t * tanh(c_t)."),
        (_lstm_from(parts, c, candidate=sigmoid),
         "the candidate g_t uses the sigmoid; it uses tanh, whose values in (-1, 1) can also lower the "
         "cell state. Only the gates i, f, o use the sigmoid."),
        (_lstm_from(parts, c, gate=np.tanh),
         "the gates use tanh; the gates i, f and o use the sigmoid (values in (0, 1), a fraction to let "
         "through), only the candidate uses tanh."),
        (_lstm_from(_lstm_parts(x, s, U, W, b, bias=False), c),
         "the biases are missing: every gate's pre-activation is U_g x_t + W_g s_{t-1} + b_g."),
        (_lstm_from(_lstm_parts(x, s, U, W, b, recurrent_T=True), c),
         "a transposed recurrent weight: each block W_g multiplies the previous state as W_g @ s_prev, "
         "not W_g.T @ s_prev."),
        ((right[1], right[0]), "you returned (c_t, s_t); return the pair in the order (s_t, c_t)."),
    ]
    for order in permutations(range(4)):
        if order != (0, 1, 2, 3):
            suspects.append((_lstm_from(_lstm_parts(x, s, U, W, b, order=order), c),
                             _order_message(order, LSTM_GATES)))
    return suspects


def _pair(result: Any, on: str) -> tuple[np.ndarray, np.ndarray]:
    if result is None:
        raise Mistake("your function returned None: did you forget to `return` (s_t, c_t)?")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise Mistake(f"return the pair (s_t, c_t), two arrays; you returned {kind_of(result)} "
                      f"({on}).")
    return as_array(result[0], "your s_t"), as_array(result[1], "your c_t")


@checker("4.1", "one LSTM step in NumPy")
def check_lstm_step(answer: Callable[..., Any]) -> int:
    """``(s_t, c_t)`` of one LSTM step for single vectors, several sizes, with the mistake named."""
    rng = np.random.default_rng(41)
    n_checks = 0
    for n, d in [(3, 2), (2, 4), (5, 3)]:
        U, W, b = rng.normal(0, 0.9, (4 * d, n)), rng.normal(0, 0.9, (4 * d, d)), rng.normal(0, 0.9, 4 * d)
        x, s_prev, c_prev = rng.normal(0, 1, n), rng.uniform(-0.9, 0.9, d), rng.uniform(-2.0, 2.0, d)
        on = f"n={n}, d={d}: x_t ({n},), s_prev and c_prev ({d},), U {U.shape}, W {W.shape}, b ({4 * d},)"
        expected_s, expected_c = lstm_step(x, s_prev, c_prev, U, W, b)
        result = call(answer, x.copy(), s_prev.copy(), c_prev.copy(), U.copy(), W.copy(), b.copy(), on=on)
        s_t, c_t = _pair(result, on)
        for got, name in ((s_t, "s_t"), (c_t, "c_t")):
            expect_shape(got, (d,), f"your {name}", f"It has one value per unit, like s_prev ({on}).")
        n_checks += 1
        if _same(s_t, expected_s) and _same(c_t, expected_c):
            continue
        message = named_mistake((s_t, c_t), _lstm_suspects(x, s_prev, c_prev, U, W, b),
                                lambda a, b: _same(a[0], b[0]) and _same(a[1], b[1]))
        if message:
            raise Mistake(f"{message} (Seen on {on}.)")
        expect_close(c_t, expected_c, f"your c_t for {on}",
                     hint="c_t = f_t * c_{t-1} + i_t * g_t, with the blocks of U, W, b in the order i, f, c, o.")
        expect_close(s_t, expected_s, f"your s_t for {on}",
                     hint="Your c_t is right; s_t = o_t * tanh(c_t).")
    return n_checks


# Exercise 4.2 -----------------------------------------------------------------------------------


def _gru_biases(b: np.ndarray, d: int, reset_after: bool) -> tuple[np.ndarray, np.ndarray]:
    return (b[0], b[1]) if reset_after else (b, np.zeros(3 * d))


def _gru_variant(x, s, U, W, b, reset_after, *, order=(0, 1, 2), where="right", keep="z",
                 recurrent_bias="inside", candidate=np.tanh, update=True) -> np.ndarray:
    """A GRU step with one thing changed; ``where`` says where the reset gate acts."""
    d = W.shape[1]
    b_in, b_rec = _gru_biases(np.asarray(b), d, reset_after)
    if recurrent_bias == "none":
        b_rec = np.zeros_like(b_rec)
    blocks = []
    for j in order:
        rows = slice(j * d, (j + 1) * d)
        blocks.append((U[rows] @ x + b_in[rows], W[rows], b_rec[rows]))
    (x_z, W_z, c_z), (x_r, W_r, c_r), (x_h, W_h, c_h) = blocks
    z = sigmoid(x_z + W_z @ s + c_z)
    r = sigmoid(x_r + W_r @ s + c_r)
    if where == "right":
        where = "after" if reset_after else "before"
    if recurrent_bias == "outside":
        pre = x_h + r * (W_h @ s) + c_h
    elif where == "after":
        pre = x_h + r * (W_h @ s + c_h)
    elif where == "before":
        pre = x_h + W_h @ (r * s) + c_h
    elif where == "input":
        pre = r * x_h + W_h @ s + c_h
    else:  # "none" (no reset gate) or "candidate" (reset applied to the candidate's value)
        pre = x_h + W_h @ s + c_h
    h = candidate(pre)
    if where == "candidate":
        h = r * h
    if not update:
        return h
    return z * s + (1.0 - z) * h if keep == "z" else (1.0 - z) * s + z * h


def _gru_suspects(x, s, U, W, b, reset_after) -> list[tuple[np.ndarray, str]]:
    variant = lambda **changes: _gru_variant(x, s, U, W, b, reset_after, **changes)  # noqa: E731
    here = f"with reset_after={reset_after}"
    suspects = [
        (variant(where="before" if reset_after else "after"),
         f"the reset gate is in the wrong place: {here} it multiplies "
         + ("the recurrent term after the product, r_t * (W_h s_{t-1} + b'_h); you applied it to s_{t-1} "
            "before the product (that is reset_after=False)." if reset_after else
            "the previous state before the product, W_h (r_t * s_{t-1}); you applied it after the product "
            "(that is reset_after=True).")),
        (variant(where="input"),
         "the reset gate is in the wrong place: it acts on the previous state's term in the candidate, "
         "not on the input's term U_h x_t."),
        (variant(where="candidate"),
         "the reset gate is in the wrong place: you multiplied the candidate's value by r_t; r_t belongs "
         "inside the tanh, on the previous state's term."),
        (variant(where="none"),
         "the reset gate is missing from the candidate: h_t = tanh(U_h x_t + W_h (r_t * s_{t-1}) + b_h) "
         "(reset_after=False) or tanh(U_h x_t + b_h + r_t * (W_h s_{t-1} + b'_h)) (reset_after=True)."),
        (variant(keep="1-z"),
         "the update gate's convention is reversed: Keras (like Cho et al., 2014) keeps the fraction z_t "
         "of the old state, s_t = z_t * s_{t-1} + (1 - z_t) * h_t. Texts that write (1 - z_t) * s_{t-1} + "
         "z_t * h_t describe the same model with z replaced by 1 - z, but not Keras's weights."),
        (variant(update=False),
         "the update gate is missing: the new state mixes old and candidate, s_t = z_t * s_{t-1} + "
         "(1 - z_t) * h_t."),
        (variant(candidate=sigmoid),
         "the candidate uses the sigmoid; it uses tanh. Only the gates z and r use the sigmoid."),
    ]
    if reset_after:
        suspects += [
            (variant(recurrent_bias="outside"),
             "the candidate's recurrent bias b'_h sits outside the reset gate: it belongs inside, "
             "r_t * (W_h s_{t-1} + b'_h)."),
            (variant(recurrent_bias="none"),
             "the recurrent-side biases b[1] are missing: with reset_after=True every gate has two biases, "
             "b[0] on the input's term and b[1] on the previous state's term."),
        ]
    for order in permutations(range(3)):
        if order != (0, 1, 2):
            message = _order_message(order, GRU_GATES)
            if order == (1, 0, 2):
                message += " (PyTorch stores its GRU blocks as r, z, n; Keras as z, r, h.)"
            suspects.append((variant(order=order), message))
    return suspects


@checker("4.2", "one GRU step in NumPy, both conventions")
def check_gru_step(answer: Callable[..., Any]) -> int:
    """``s_t`` of one GRU step for single vectors, with ``reset_after`` True and False."""
    rng = np.random.default_rng(42)
    n_checks = 0
    for reset_after in (False, True):
        for n, d in [(3, 2), (2, 4), (4, 3)]:
            U, W = rng.normal(0, 0.9, (3 * d, n)), rng.normal(0, 0.9, (3 * d, d))
            b = rng.normal(0, 0.9, (2, 3 * d) if reset_after else 3 * d)
            x, s_prev = rng.normal(0, 1, n), rng.uniform(-0.9, 0.9, d)
            on = (f"reset_after={reset_after}, n={n}, d={d}: x_t ({n},), s_prev ({d},), U {U.shape}, "
                  f"W {W.shape}, b {b.shape}")
            expected = gru_step(x, s_prev, U, W, b, reset_after)
            result = call(answer, x.copy(), s_prev.copy(), U.copy(), W.copy(), b.copy(), reset_after, on=on)
            got = as_array(result, "your s_t")
            expect_shape(got, (d,), "your s_t", f"It has one value per unit, like s_prev ({on}).")
            n_checks += 1
            if _same(got, expected):
                continue
            message = named_mistake(got, _gru_suspects(x, s_prev, U, W, b, reset_after), _same)
            if message:
                raise Mistake(f"{message} (Seen on {on}.)")
            expect_close(got, expected, f"your s_t for {on}",
                         hint="z_t and r_t first, then the candidate h_t, then s_t = z_t * s_{t-1} + "
                         "(1 - z_t) * h_t; the blocks of U, W, b in the order z, r, h.")
    return n_checks


# Exercise 4.3 -----------------------------------------------------------------------------------

_SIZES = [(3, 5), (12, 64), (1, 1), (40, 7)]
_GROUPS = [("lstm", True), ("gru", True), ("gru", False), ("simple", True)]


def _block(n: int, d: int) -> int:
    return simple_rnn_parameter_count(n, d)


def _wrong_counts(cell: str, reset_after: bool) -> dict[str, Callable[[int, int], int]]:
    """Plausible wrong formulas for one kind of layer, each with the message that names it."""
    if cell == "lstm":
        return {
            "an LSTM has four blocks (i, f, c, o), each with its own U (d x n), W (d x d) and b (d); you "
            "counted three: is a gate missing?": lambda n, d: 3 * _block(n, d),
            "you counted one block: the LSTM has four (i, f, c, o), each the size of a simple RNN layer.":
                lambda n, d: _block(n, d),
            "each of the LSTM's four blocks has its own bias: 4d biases, not d.":
                lambda n, d: 4 * d * n + 4 * d * d + d,
            "Keras's LSTM has no peephole weights (the 3d extra numbers you added).":
                lambda n, d: 4 * _block(n, d) + 3 * d,
            "the LSTM has one bias per block; only the GRU with reset_after=True has a second one.":
                lambda n, d: 4 * _block(n, d) + 4 * d,
            "each recurrent block W_g has shape d x d (it reads the previous state), not d x n.":
                lambda n, d: 4 * (2 * d * n + d),
            "the cell state is not a parameter: it is computed, step by step, like s_t.":
                lambda n, d: 4 * _block(n, d) + d,
        }
    if cell == "gru" and reset_after:
        return {
            "with reset_after=True every GRU block has two biases (Keras's bias has shape (2, 3d)); you "
            "counted one.": lambda n, d: 3 * _block(n, d),
            "a GRU has three blocks (z, r, h), not four.": lambda n, d: 4 * _block(n, d) + 4 * d,
            "a GRU has three blocks (z, r, h), not four; with reset_after=True each has two biases.":
                lambda n, d: 4 * _block(n, d),
            "a GRU has three blocks (z, r, h): the candidate has its own U_h, W_h and biases.":
                lambda n, d: 2 * (_block(n, d) + d),
            "you counted one block: the GRU has three (z, r, h), each with two biases here.":
                lambda n, d: _block(n, d) + d,
        }
    if cell == "gru":
        return {
            "with reset_after=False the GRU has one bias per block (Keras's bias has shape (3d,)); the second "
            "one exists only with reset_after=True.": lambda n, d: 3 * _block(n, d) + 3 * d,
            "a GRU has three blocks (z, r, h), not four.": lambda n, d: 4 * _block(n, d),
            "you counted one block: the GRU has three (z, r, h).": lambda n, d: _block(n, d),
        }
    return {
        "a simple RNN layer has one block, U (d x n), W (d x d) and b (d), not four.": lambda n, d: 4 * _block(n, d),
        "a simple RNN layer has one block, U (d x n), W (d x d) and b (d), not three.": lambda n, d: 3 * _block(n, d),
        "the simple RNN's bias b (d numbers) is missing.": lambda n, d: d * n + d * d,
    }


def _describe(cell: str, reset_after: bool) -> str:
    return f"cell='gru', reset_after={reset_after}" if cell == "gru" else f"cell={cell!r}"


@checker("4.3", "parameters of LSTM and GRU layers")
def check_parameter_count(answer: Callable[..., Any]) -> int:
    """``parameter_count(cell, n, d, reset_after)`` for each kind of layer and several sizes."""
    n_checks = 0
    for cell, reset_after in _GROUPS:
        given = []
        for n, d in _SIZES:
            on = f"{_describe(cell, reset_after)}, n={n}, d={d}"
            value = call(answer, cell, n, d, reset_after, on=on)
            if value is None:
                raise Mistake("your function returned None: did you forget to `return` the count?")
            number = as_array(value, "your count")
            if number.shape != ():
                raise Mistake(f"return one number, the total count; you returned an array of shape {number.shape} "
                              f"({on}).")
            given.append(float(number))
        expected = [parameter_count(cell, n, d, reset_after) for n, d in _SIZES]
        n_checks += len(_SIZES)
        if given == [float(e) for e in expected]:
            continue
        n, d = _SIZES[0]
        for message, formula in _wrong_counts(cell, reset_after).items():
            if all(g == formula(*size) for g, size in zip(given, _SIZES, strict=True)):
                raise Mistake(f"{message} For {_describe(cell, reset_after)}, n={n}, d={d} you gave {given[0]:g}, "
                              f"expected {expected[0]}.")
        index = next(i for i, (g, e) in enumerate(zip(given, expected, strict=True)) if g != e)
        n, d = _SIZES[index]
        blocks = {"simple": "1 block", "lstm": "4 blocks", "gru": "3 blocks"}[cell]
        extra = " plus 3d recurrent-side biases" if cell == "gru" and reset_after else ""
        raise Mistake(f"for {_describe(cell, reset_after)}, n={n}, d={d} you gave {given[index]:g}, expected "
                      f"{expected[index]}: {blocks} of U (d x n), W (d x d) and b (d){extra}.")
    return n_checks


# Exercise 4.4 -----------------------------------------------------------------------------------


def _reach_cases() -> list[tuple[np.ndarray, float, str]]:
    """(log_gradients, drop, description). The first curve starts above drop, rises above its start, dips
    below the threshold and comes back, so that every slip but two gives its own distance; the second
    has a value exactly drop below distance 0 (binary fractions, exact in any order of operations),
    the third a rise by more than drop; then a flat float32 curve (reach T - 1, like a forget bias of 3),
    a steep one (reach 0) and a single distance."""
    slow = np.concatenate([[-0.65], -0.87 - 0.004 * np.arange(29)]).astype("float32")
    curves = [
        (np.array([1.5, 2.0, 1.8, 1.8, 1.2, 0.9, 0.3, 1.1, 0.3, -0.1, 0.7, 0.6, 0.3, 0.3, 0.0, -1.1]), 1.0),
        (np.array([-1.0, -1.75, -1.625, -2.0, -1.25, -2.0, -1.5, -2.0]), 0.5),
        (np.array([0.4, -0.9, -1.7, -2.3, -2.0, -1.4, -2.0, 2.9]), 2),
        (slow, 1.0),
        (np.array([-0.62, -1.31, -1.94, -2.56, -3.17, -3.8]), 0.5),
        (np.array([0.3]), 1.0),
    ]
    cases = []
    for logs, drop in curves:
        values = [round(float(v), 4) for v in logs]
        shown = values if len(values) <= 16 else [*values[:5], "...", *values[-2:]]
        text = ", ".join(str(v) for v in shown)
        cases.append((logs, drop, f"log_gradients of {len(logs)} distances [{text}] ({logs.dtype}) and drop={drop}"))
    return cases


def _last(within: np.ndarray) -> int | None:
    found = np.flatnonzero(within)
    return int(found.max()) if found.size else None


def _first(within: np.ndarray) -> int | None:
    found = np.flatnonzero(within)
    return int(found.min()) if found.size else None


_REACH_MESSAGES = {
    "wrong end": "you measured from the wrong end of the array: log_gradients is indexed by distance, so "
                 "log_gradients[0] is the gradient of the last input (distance 0) and log_gradients[-1] that of the "
                 "first; the reach starts at log_gradients[0] and runs to larger indices.",
    "first dip": "you stopped at the first dip: the curve falls more than drop below log_gradients[0] and then comes "
                 "back within drop at a larger distance. It is not monotone; the reach is the largest distance k with "
                 "log_gradients[k] >= log_gradients[0] - drop, wherever it lies.",
    "first below": "you returned the first distance at which the gradient has fallen more than drop below "
                   "log_gradients[0]: the reach is the last distance at which it is still within drop, "
                   "log_gradients[k] >= log_gradients[0] - drop.",
    "counted": "you counted the distances within drop: the reach is the largest such distance k, not how many there "
               "are (where the curve dips below and comes back, the two differ).",
    "one too many": "your reach is one step too large: distance 0 is log_gradients[0], so the reach is the index k of "
                    "the last distance within drop itself, not k + 1 (the number of distances from 0 to k).",
    "one too few": "your reach is one step too small: it is the index k of the last distance within drop, "
                   "log_gradients[k] >= log_gradients[0] - drop, counting distance 0 as index 0.",
    "time order": "you returned T - 1 - k, the position of that input counted from the start of the sequence: return "
                  "the distance k itself, the index into log_gradients.",
    "divided": "you divided log_gradients[0] by 10 ** drop as if it were a norm: the values are already log10 of the "
               "norms, so a fall by drop orders of magnitude is a subtraction, log_gradients[0] - drop.",
    "norms": "you compared the norms 10 ** log_gradients with a threshold in log10, log_gradients[0] - drop: compare "
             "log10 with log10, log_gradients[k] >= log_gradients[0] - drop.",
    "log10 drop": "you took log10(drop): drop is already a number of orders of magnitude (a difference of log10 "
                  "values); subtract drop itself, log_gradients[0] - drop.",
    "from the top": "you measured the fall from the largest value of the curve: the reach is measured from the "
                    "gradient at distance 0, log_gradients[0], even where the curve rises above it.",
    "strict": "you left out the distance whose gradient has fallen by exactly drop: it is still within drop, so "
              "compare with >= (log_gradients[k] >= log_gradients[0] - drop), not >.",
    "abs": "you also ended the reach where the gradient grows by more than drop: a gradient that rises above its value "
           "at distance 0 still reaches back; only a fall counts, log_gradients[k] >= log_gradients[0] - drop, "
           "without abs.",
}
"""What each plausible wrong answer to Exercise 4.4 gets told, in the order the guide lists them."""


def _reach_suspects(logs: np.ndarray, drop: float, expected: int) -> list[tuple[int | None, str]]:
    """What the plausible wrong answers return on this curve, each with its message."""
    logs = np.asarray(logs, dtype=float)
    T, threshold = len(logs), logs[0] - drop
    within = logs >= threshold
    first_below = _first(logs < threshold)
    from_far_end = _first(logs >= logs[-1] - drop)
    answers = [
        ("wrong end", _last(logs >= logs[-1] - drop)),                                 # measured from the far end
        ("wrong end", None if from_far_end is None else T - 1 - from_far_end),         # the array read in time order
        ("first dip", T - 1 if first_below is None else first_below - 1),
        ("first below", first_below),
        ("counted", int(within.sum())),
        ("counted", int(within.sum()) - 1),
        ("one too many", expected + 1),
        ("one too few", expected - 1),
        ("time order", T - 1 - expected),
        ("divided", _last(logs >= logs[0] / 10.0 ** drop)),
        ("norms", _last(10.0 ** logs >= threshold)),
        ("log10 drop", _last(logs >= logs[0] - np.log10(drop)) if drop > 0 else None),
        ("from the top", _last(logs >= logs.max() - drop)),
        ("strict", _last(logs > threshold)),
        ("abs", _last(np.abs(logs - logs[0]) <= drop)),
    ]
    return [(value, _REACH_MESSAGES[name]) for name, value in answers]


def _distance(result: Any, T: int, on: str) -> int:
    """The learner's result as one whole number, or a sentence saying why it is not one."""
    if result is None:
        raise Mistake("your function returned None: did you forget to `return` the distance?")
    if isinstance(result, (bool, np.bool_)):
        raise Mistake(f"you returned {result}, a truth value: return the distance k itself, a whole number from 0 "
                      f"to T - 1 = {T - 1} (on {on}).")
    number = as_array(result, "your reach")
    if number.size == 0:
        raise Mistake(f"you returned an empty array (on {on}): return one distance, a whole number. (Distance 0 is "
                      "always within drop of itself, so there is always at least one.)")
    if number.size > 1:
        raise Mistake(f"you returned {kind_of(result)}: return one distance, the largest k with log_gradients[k] >= "
                      f"log_gradients[0] - drop, not every distance or the whole mask (on {on}).")
    value = float(number.reshape(()))
    if not np.isfinite(value) or value != round(value):
        raise Mistake(f"you returned {value:g}, which is not a whole number: the reach is a distance, an index into "
                      f"log_gradients, not a log10 value (on {on}).")
    return int(round(value))


@checker("4.4", "how far back the gradient reaches")
def check_gradient_reach(answer: Callable[..., Any]) -> int:
    """The largest ``k`` with ``log_gradients[k] >= log_gradients[0] - drop``, on curves that tell the slips apart."""
    cases = _reach_cases()
    for logs, drop, on in cases:
        got = _distance(call(answer, logs.copy(), drop, on=on), len(logs), on)
        expected = gradient_reach(logs, drop)
        if got == expected:
            continue
        seen = f"(Seen on {on}: you returned {got}, expected {expected}.)"
        message = named_mistake(got, _reach_suspects(logs, drop, expected), lambda a, b: a == b)
        raise Mistake(f"{message} {seen}" if message else _other_reach_mistake(got, expected, len(logs), on))
    return len(cases)


def _other_reach_mistake(got: int, expected: int, T: int, on: str) -> str:
    """The message for a reach that no suspect explains."""
    if not 0 <= got < T:
        return f"your reach {got} is not a distance of this curve: distances run from 0 to T - 1 = {T - 1} (on {on})."
    return (f"your reach is {got} on {on}, expected {expected}: the reach is the largest distance k with "
            "log_gradients[k] >= log_gradients[0] - drop (log_gradients[0] is distance 0).")
