"""Checkers for chapter 10: transformers in practice.

Exercise 10.1 (warm-up) writes one merge of byte-pair encoding, 10.2 (core) the masked mean pooling of
the encoder classifier, 10.3 (stretch) the key-value cache update of a Keras attention layer.

Each checker computes what the plausible wrong answers return on its inputs and names the one the
learner's answer matches, when the input tells it apart from the others:

- 10.1: every occurrence replaced even where occurrences overlap (``a a a`` gives two merges), the
  scan from the right (``a a a`` -> ``a aa``), only the first occurrence merged, the pair replaced by
  the new id without removing its second element, the reversed pair merged, a Python list or array
  of another length. The cases hold the pair in the middle and at both ends, runs of a repeated id
  of lengths 2, 3 and 4 and a sequence without the pair, with ids that differ from their positions.
- 10.2 (given tensors of the backend, as inside a Keras layer): the mean over every position (padding included), the sum without the division, the division
  by the padded length, the mean over the depth instead of the time axis, the mask inverted; with a
  boolean mask and a 0/1 float mask, rows of 1, 3 and all real positions, and padding frames that are
  not zero (so that a mean that counts them moves).
- 10.3: by behaviour, on a course ``MultiHeadAttention`` with random weights: the learner's step is run
  position after position on its own buffers and compared with causal attention over the whole prefix
  (float32 tolerance); the buffers must hold the projected keys and values at the positions written
  and zeros after them. Named: the future slots not masked, the mask off by one (``<`` for ``<=``),
  the key and value written one slot late, the values never written, the buffers returned unchanged,
  the query written as the key. The first case leaves slots empty after the last position, so that
  the unmasked future and a late write show; the second fills its cache.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from keras import ops

from utils.checks.framework import Mistake, call, checker, expect_array, kind_of, named_mistake
from utils.models import kvcache
from utils.models.transformer import MultiHeadAttention

_ATOL = 1e-5   # float32: the same numbers in another order


def _close(got: np.ndarray, wanted: np.ndarray | None) -> bool:
    """Same shape and values within float32 rounding, NaN equal to NaN (a wrong answer may divide 0 by 0 where
    a suspect does too)."""
    return wanted is not None and got.shape == np.shape(wanted) and bool(
        np.allclose(got, wanted, atol=_ATOL, rtol=0, equal_nan=True))


# Exercise 10.1: one merge of byte-pair encoding ====================================================


def _merge(ids: list[int], pair: tuple[int, int], new_id: int, *, how: str = "right") -> list[int]:
    """The merge and its plausible wrong versions (``how``)."""
    a, b = pair
    if how == "reversed pair":
        a, b = b, a
    if how == "from the right":
        reversed_ids = _merge(ids[::-1], (b, a), new_id)
        return reversed_ids[::-1]
    out, i, done = [], 0, False
    while i < len(ids):
        match = i + 1 < len(ids) and ids[i] == a and ids[i + 1] == b and not done
        if how == "overlapping":   # every start of the pair merged, each id after a start dropped
            after_match = i > 0 and ids[i - 1] == a and ids[i] == b
            if match:
                out.append(new_id)
            elif not after_match:
                out.append(ids[i])
            i += 1
            continue
        if match:
            out.append(new_id)
            if how == "kept second":
                out.append(new_id)
            i += 2
            done = how == "first only"
        else:
            out.append(ids[i])
            i += 1
    return out


def _numpy_overlapping(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Every start of the pair set to the new id and every id after a start deleted, overlaps included."""
    array = np.asarray(ids)
    starts = np.flatnonzero((array[:-1] == pair[0]) & (array[1:] == pair[1])) if len(array) > 1 else np.array([], int)
    array = array.copy()
    array[starts] = new_id
    return np.delete(array, starts + 1).tolist()


def _merge_cases() -> list[tuple[list[int], tuple[int, int], int, str]]:
    return [
        ([4, 7, 2, 4, 7, 9, 4, 7], (4, 7), 11, "the pair (4, 7) in the middle and at both ends"),
        ([3, 5, 5, 5, 8, 5, 5], (5, 5), 12, "runs of the repeated id 5 (three, then two)"),
        ([6, 6, 6, 6], (6, 6), 10, "a run of four 6s"),
        ([9, 2, 9, 2], (2, 9), 13, "the pair (2, 9) once, in the middle, and its reverse (9, 2) twice"),
        ([8, 1, 3], (1, 8), 20, "a sequence without the pair (1, 8)"),
        ([5], (5, 5), 7, "a sequence of one id"),
    ]


@checker("10.1", "one merge of byte-pair encoding")
def check_merge_pair(answer: Callable[..., Any]) -> int:
    """``merge_pair(ids, pair, new_id)``: the pair replaced left to right, without overlaps."""
    cases = _merge_cases()
    for ids, pair, new_id, on in cases:
        result = call(answer, list(ids), pair, new_id, on=on)
        if result is None:
            raise Mistake(f"your function returned None (on {on}): did you forget to `return` the merged sequence?")
        try:
            got = [int(i) for i in np.asarray(result).ravel()]
        except (TypeError, ValueError):
            raise Mistake(f"your function returned a {kind_of(result)} that is not a sequence of ids (on {on}).") from None
        expected = _merge(ids, pair, new_id)
        if got == expected:
            continue
        seen = f"(On {on}: {ids} merged {pair} -> {new_id}; you returned {got}, expected {expected}.)"
        suspects = [
            (_numpy_overlapping(ids, pair, new_id),
             "you merged overlapping occurrences: in a run like 5 5 5, once the first two 5s are merged the second 5 is "
             "used up, so scan left to right and jump past a merged pair (i += 2)."),
            (_merge(ids, pair, new_id, how="overlapping"),
             "you merged overlapping occurrences: in a run like 5 5 5, once the first two 5s are merged the second 5 is "
             "used up, so scan left to right and jump past a merged pair (i += 2)."),
            (_merge(ids, pair, new_id, how="from the right"),
             "you merged from the right: in a run like 5 5 5 the first pair from the left is merged, 5 5 5 -> 12 5."),
            (_merge(ids, pair, new_id, how="first only"),
             "you merged only the first occurrence of the pair: a merge replaces every occurrence."),
            (_merge(ids, pair, new_id, how="kept second"),
             "you wrote the new id in place of both ids of the pair: the pair becomes one token, so the sequence "
             "gets shorter by one for every merge."),
            (_merge(ids, pair, new_id, how="reversed pair"),
             "you merged the pair in the other order: (a, b) means a followed by b."),
        ]
        message = named_mistake(got, [(s, m) for s, m in suspects if s != expected], lambda x, y: x == y)
        if message:
            raise Mistake(f"{message} {seen}")
        if len(got) != len(expected):
            raise Mistake(f"your result has {len(got)} ids, expected {len(expected)}: each merge makes the sequence one "
                          f"id shorter. {seen}")
        raise Mistake(f"your merged sequence is wrong. {seen}")
    return len(cases)


# Exercise 10.2: masked mean pooling ===============================================================


def _pool_cases() -> list[tuple[np.ndarray, np.ndarray, str]]:
    rng = np.random.default_rng(10)
    states = rng.normal(size=(3, 5, 4)).astype("float32") + 2.0    # padding frames are not zero
    mask = np.array([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)
    other = rng.normal(size=(2, 6, 3)).astype("float32") - 1.0
    other_mask = np.array([[1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0]], dtype="float32")
    return [(states, mask, "3 sequences of 5 positions with 3, 1 and 5 real ones, a boolean mask"),
            (other, other_mask, "2 sequences of 6 positions with 2 and 4 real ones, a 0/1 float mask")]


@checker("10.2", "masked mean pooling")
def check_masked_mean(answer: Callable[..., Any]) -> int:
    """``masked_mean(states, mask)``: (B, T, d), (B, T) -> (B, d), the mean over the real positions."""
    cases = _pool_cases()
    for states, mask, on in cases:
        result = call(answer, ops.convert_to_tensor(states), ops.convert_to_tensor(mask), on=on, unchanged=False)
        if result is None:
            raise Mistake(f"your function returned None (on {on}): did you forget to `return` the pooled (batch, depth) array?")
        got = expect_array(ops.convert_to_numpy(result) if not isinstance(result, np.ndarray) else result,
                           "your result", hint=f"(on {on})")
        weights = mask.astype("float64")[..., None]
        expected = (states * weights).sum(1) / weights.sum(1)
        if got.shape != expected.shape:
            hint = (" You averaged over the depth (axis -1): the mean runs over the time axis (axis 1)."
                    if got.shape == states.shape[:2] else
                    " Sum over the time axis (axis 1) only.")
            raise Mistake(f"your result has shape {got.shape}, expected (batch, depth) = {expected.shape} (on {on}).{hint}")
        if _close(got, expected):
            continue
        suspects = [
            (states.mean(1), "you averaged over every position, padding included: weight each state by the mask and "
                             "divide by the number of real positions."),
            ((states * weights).sum(1), "you summed the real states without dividing by their number."),
            ((states * weights).sum(1) / states.shape[1],
             "you divided by the padded length T instead of the number of real positions (mask.sum(axis=1))."),
            ((states * (1 - weights)).sum(1) / (1 - weights).sum(1),
             "your mask is inverted: True (or 1) marks the real positions, the ones to average."),
        ]
        message = named_mistake(got, suspects, _close)
        seen = f"(On {on}: largest difference {float(np.abs(got - expected).max()):.3g}.)"
        if message:
            raise Mistake(f"{message} {seen}")
        raise Mistake(f"your pooled vectors are wrong. {seen} Each row is sum_t mask[b, t] states[b, t] / sum_t mask[b, t].")
    return len(cases)


# Exercise 10.3: the key-value cache update ========================================================


def _reference_step(layer: MultiHeadAttention, x_t: Any, keys: Any, values: Any, position: int, *,
                    how: str = "right") -> tuple[Any, Any, Any]:
    """The cached step, or with the mask left out (``how="no mask"``) or hiding the slot being written
    (``how="strict"``, from position 1 on)."""
    size = keys.shape[2]
    keys = kvcache.write(keys, kvcache.project(layer, x_t, "key"), position)
    values = kvcache.write(values, kvcache.project(layer, x_t, "value"), position)
    limit = position - 1 if how == "strict" and position > 0 else position
    mask = None if how == "no mask" else ops.reshape(ops.less_equal(ops.arange(size), limit), (1, 1, 1, size))
    return kvcache.attend_output(layer, kvcache.project(layer, x_t, "query"), keys, values, mask), keys, values


def _check_buffers(keys: np.ndarray, values: np.ndarray, projected: dict[str, np.ndarray], length: int,
                   on: str) -> None:
    """Names what went wrong with the buffers: never written, values left out, a slot off by one, the query
    written as the key, something after the last position written."""
    def holds(buffer: np.ndarray, which: str, shift: int = 0) -> bool:
        if length + shift > buffer.shape[2]:
            return False
        part = buffer[:, :, shift:length + shift].astype("float64")
        return part.shape == projected[which].shape and _close(part, projected[which])

    where = f"(on {on}, after positions 0 .. {length - 1})"
    if keys.shape[:2] != projected["key"].shape[:2] or keys.ndim != 4:
        raise Mistake(f"your key buffer has shape {keys.shape}; it must keep the shape it was given, (batch, heads, slots, "
                      f"head depth) {where}.")
    if not np.any(keys) and not np.any(values):
        raise Mistake(f"your buffers never change {where}: write the new key and value with ops.slice_update and return "
                      "the updated buffers.")
    if holds(keys, "key") and not np.any(values):
        raise Mistake(f"you wrote the key but not the value into its buffer {where}.")
    if holds(keys, "query") and not holds(keys, "key"):
        raise Mistake(f"you wrote the query's projection into the key buffer {where}: keys come from the key kernel "
                      "(project(layer, x_t, 'key')).")
    if not holds(keys, "key"):
        if holds(keys, "key", 1) and length < keys.shape[2]:
            raise Mistake(f"you wrote the new key and value one slot late {where}: they belong at slot `position`.")
        raise Mistake(f"your key buffer does not hold the projected keys of positions 0 .. {length - 1} {where}: slot t "
                      "must hold project(layer, x_t, 'key') of position t.")
    if not holds(values, "value"):
        raise Mistake(f"your value buffer does not hold the projected values of positions 0 .. {length - 1} {where}: slot "
                      "t must hold project(layer, x_t, 'value') of position t.")
    if np.any(keys[:, :, length:]) or np.any(values[:, :, length:]):
        raise Mistake(f"your buffers hold something after the last position written {where}: only slot `position` "
                      "changes at each step.")


def _run(step: Callable[..., Any], layer: MultiHeadAttention, x: np.ndarray, size: int, *, learner: bool,
         on: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    batch, length, _ = x.shape
    keys = ops.zeros((batch, layer.heads, size, layer.key_dim))
    values = ops.zeros((batch, layer.heads, size, layer.value_dim))
    outputs = []
    for t in range(length):
        x_t = ops.convert_to_tensor(x[:, t:t + 1])
        if learner:
            result = call(step, layer, x_t, keys, values, t, on=f"{on}, position {t}", unchanged=False)
            if result is None:
                raise Mistake(f"your function returned None (on {on}, position {t}): did you forget to `return` "
                              "(output, keys, values)?")
            if not isinstance(result, (tuple, list)) or len(result) != 3:
                raise Mistake(f"your function returned a {kind_of(result)} (on {on}, position {t}): return three things, "
                              "(output, keys, values), the output (B, 1, d) and both buffers with the new slot written.")
            output, keys, values = result
        else:
            output, keys, values = step(layer, x_t, keys, values, t)
        outputs.append(np.asarray(ops.convert_to_numpy(output), dtype="float64"))
        if outputs[-1].shape != (batch, 1, x.shape[-1]):
            raise Mistake(f"your output has shape {outputs[-1].shape}, expected (batch, 1, depth) = "
                          f"{(batch, 1, x.shape[-1])} (on {on}, position {t}).")
    return np.concatenate(outputs, 1), ops.convert_to_numpy(keys), ops.convert_to_numpy(values)


@checker("10.3", "the key-value cache update")
def check_cached_attention_step(answer: Callable[..., Any]) -> int:
    """``cached_attention_step(layer, x_t, keys, values, position)`` -> ``(output, keys, values)``."""
    rng = np.random.default_rng(11)
    cases = [(2, 5, 8, 2, "2 sequences, 5 positions in a cache of 8 slots, 2 heads"),
             (3, 4, 4, 4, "3 sequences filling a cache of 4 slots, 4 heads")]
    keras.utils.set_random_seed(11)
    checks = 0
    for batch, length, size, heads, on in cases:
        layer = MultiHeadAttention(heads, 8 // heads)
        x = rng.normal(size=(batch, length, 8)).astype("float32")
        layer(x, x)
        layer.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32") for w in layer.get_weights()])
        got, got_keys, got_values = _run(answer, layer, x, size, learner=True, on=on)
        expected = ops.convert_to_numpy(layer(x, x, use_causal_mask=True))
        tensor = ops.convert_to_tensor(x)
        projected = {which: ops.convert_to_numpy(kvcache.project(layer, tensor, which)).astype("float64")
                     for which in ("query", "key", "value")}
        _check_buffers(got_keys, got_values, projected, length, on)
        checks += 1
        if not _close(got, expected):
            suspects = []
            for how, message in (
                    ("no mask", "you attended over every slot of the buffer: the slots after the position are still zero "
                                "(or stale) and must be hidden with a mask, True for slots 0 .. position."),
                    ("strict", "your mask hides the slot being written: a position attends to itself too, slots "
                               "0 .. position inclusive (<=, not <)."),
            ):
                wrong, _, _ = _run(lambda *a, how=how: _reference_step(*a, how=how), layer, x, size,
                                   learner=False, on=on)
                suspects.append((wrong, message))
            seen = f"(On {on}: largest difference {float(np.abs(got - expected).max()):.3g} from causal attention over the prefix.)"
            message = named_mistake(got, suspects, _close)
            if message:
                raise Mistake(f"{message} {seen}")
            raise Mistake(f"your outputs differ from causal self-attention over the whole prefix. {seen} Write the key and "
                          "value of x_t at slot `position`, then attend from its query over slots 0 .. position.")
        checks += 1
    return checks


# Exercise 10.4: a learning rate that warms up, then decays ========================================


def _rate(peak: float, total: int, warmup: int, step: float, *, decay_over: str = "rest", warm: bool = True) -> float:
    """The schedule's rate at ``step``, and its plausible wrong versions."""
    if warm and warmup and step < warmup:
        return peak * step / warmup
    span = total - warmup if decay_over == "rest" else total
    start = warmup if warm else 0
    progress = min(max(step - start, 0) / span, 1.0)
    return peak * 0.5 * (1 + np.cos(np.pi * progress))


def _schedule_cases() -> list[tuple[float, int, int, str]]:
    return [(3e-3, 200, 20, "a peak of 3e-3 over 200 steps, 20 of them warm-up"),
            (1e-3, 90, 30, "a peak of 1e-3 over 90 steps, 30 of them warm-up"),
            (2e-3, 50, 0, "a peak of 2e-3 over 50 steps without warm-up")]


@checker("10.4", "a learning rate that warms up, then decays")
def check_warmup_cosine(answer: Callable[..., Any]) -> int:
    """``warmup_cosine(peak, total_steps, warmup_steps)``: a schedule rising linearly from 0 to the peak over
    the warm-up, then down to 0 along a cosine over the remaining steps."""
    cases = _schedule_cases()
    for peak, total, warmup, on in cases:
        schedule = call(answer, peak, total, warmup, on=on)
        if schedule is None:
            raise Mistake(f"your function returned None (on {on}): did you forget to `return` the schedule (for "
                          "example a keras.optimizers.schedules.CosineDecay)?")
        if not callable(schedule):
            raise Mistake(f"your function returned a {kind_of(schedule)} (on {on}): return a schedule, something the "
                          "optimizer can call with the step number, such as a keras.optimizers.schedules.CosineDecay.")
        steps = sorted({0, warmup // 2, warmup, warmup + (total - warmup) // 3, (warmup + total) // 2, total - 1, total})
        try:
            got = np.array([float(ops.convert_to_numpy(schedule(step))) for step in steps])
        except Exception as error:  # noqa: BLE001 - the learner's schedule may raise anything
            raise Mistake(f"calling your schedule with a step number raised {type(error).__name__}: {error} (on {on}).") from None
        expected = np.array([_rate(peak, total, warmup, s) for s in steps])
        if np.allclose(got, expected, rtol=1e-4, atol=peak * 1e-4):
            continue
        seen = (f"(On {on}: at steps {steps} you gave {[float(f'{g:.3g}') for g in got]}, expected "
                f"{[float(f'{e:.3g}') for e in expected]}.)")
        same = lambda a, b: bool(np.allclose(a, b, rtol=1e-4, atol=peak * 1e-4))  # noqa: E731
        suspects = []
        if warmup:
            suspects = [
                (np.array([_rate(peak, total, warmup, s, decay_over="total") for s in steps]),
                 "your cosine runs over all the steps after the warm-up ends, so the rate is still above 0 at the last "
                 "step: after a warm-up of w steps the decay has total_steps - w steps (CosineDecay's decay_steps)."),
                (np.array([_rate(peak, total, warmup, s, warm=False) for s in steps]),
                 "your rate starts at the peak: there is no warm-up. It must rise from 0 to the peak over warmup_steps "
                 "(CosineDecay(0.0, ..., warmup_target=peak, warmup_steps=warmup_steps))."),
                (np.array([_rate(peak, total, warmup, s, decay_over="total", warm=False) for s in steps]),
                 "your rate starts at the peak: there is no warm-up. It must rise from 0 to the peak over warmup_steps."),
            ]
        message = named_mistake(got, suspects, same)
        if message:
            raise Mistake(f"{message} {seen}")
        if got[0] > peak * 1e-3 and warmup:
            raise Mistake(f"your rate at step 0 is {got[0]:.3g}: a warm-up starts from 0. {seen}")
        if abs(got[-1]) > peak * 1e-3:
            raise Mistake(f"your rate at the last step is {got[-1]:.3g}, not 0: the cosine must reach 0 at total_steps. {seen}")
        raise Mistake(f"your schedule differs from a linear warm-up followed by a cosine decay to 0. {seen}")
    return len(cases)
