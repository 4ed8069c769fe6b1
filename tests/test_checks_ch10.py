"""utils.checks.ch10: each checker passes right answers, tolerates a stub and names each mistake.

The wrong answers are written the way a learner would write them, independently of the checker's own
list of suspects; each test asserts on the phrase of the diagnostic that names that mistake.
"""

from __future__ import annotations

import numpy as np
import pytest
from keras import ops
from checkerfailures import assert_named, failure
from references import merge_left_to_right

from utils.checks.ch10 import check_cached_attention_step, check_masked_mean, check_merge_pair
from utils.data import bpe
from utils.models import kvcache
from utils.models.encoders import MaskedMeanPooling


def _stub(*args):
    raise NotImplementedError("Exercise: replace this line with your code.")


def test_stubs_are_not_attempted(capsys):
    for check in (check_merge_pair, check_masked_mean, check_cached_attention_step):
        check(_stub)
    assert capsys.readouterr().out.count("not attempted yet") == 3


# 10.1 ============================================================================================


def merge_every_match(ids, pair, new_id):          # replaces at each match, overlapping
    out, skip = [], False
    for i, token in enumerate(ids):
        if skip:
            skip = False
            if not (i + 1 < len(ids) and (token, ids[i + 1]) == tuple(pair)):
                continue
        if i + 1 < len(ids) and (token, ids[i + 1]) == tuple(pair):
            out.append(new_id)
            skip = True
        else:
            out.append(token)
    return out


def merge_from_the_right(ids, pair, new_id):
    out, i = [], len(ids) - 1
    while i >= 0:
        if i > 0 and ids[i - 1] == pair[0] and ids[i] == pair[1]:
            out.append(new_id)
            i -= 2
        else:
            out.append(ids[i])
            i -= 1
    return out[::-1]


def merge_first_only(ids, pair, new_id):
    for i in range(len(ids) - 1):
        if (ids[i], ids[i + 1]) == tuple(pair):
            return ids[:i] + [new_id] + ids[i + 2:]
    return ids


def merge_without_deleting(ids, pair, new_id):
    out = list(ids)
    i = 0
    while i < len(out) - 1:
        if (out[i], out[i + 1]) == tuple(pair):
            out[i] = out[i + 1] = new_id
            i += 2
        else:
            i += 1
    return out


def test_merge_pair_passes_right_answers(capsys):
    for answer in (merge_left_to_right, lambda ids, pair, new_id: bpe.merge_pair(ids, pair, new_id)):
        check_merge_pair(answer)
    assert capsys.readouterr().out.count("passed all 6 checks") == 2


@pytest.mark.parametrize("answer, phrase", [
    (merge_every_match, "overlapping occurrences"),
    (merge_from_the_right, "merged from the right"),
    (merge_first_only, "only the first occurrence"),
    (merge_without_deleting, "in place of both ids"),
    (lambda ids, pair, new_id: merge_left_to_right(ids, pair[::-1], new_id), "in the other order"),
    (lambda ids, pair, new_id: None, "returned None"),
])
def test_merge_pair_names_mistakes(answer, phrase):
    assert_named(check_merge_pair, answer, "Exercise 10.1", [phrase])


# 10.2 ============================================================================================


def _weights(mask):
    return ops.expand_dims(ops.cast(mask, "float32"), -1)


def pool(states, mask):
    return ops.sum(states * _weights(mask), axis=1) / ops.sum(_weights(mask), axis=1)


def test_masked_mean_passes_right_answers(capsys):
    def where_pool(states, mask):
        real = ops.cast(mask, "bool")[..., None]
        return ops.sum(ops.where(real, states, 0.0), axis=1) / ops.sum(ops.cast(real, "float32"), axis=1)
    for answer in (pool, where_pool, lambda s, m: MaskedMeanPooling()(s, m)):
        check_masked_mean(answer)
    assert capsys.readouterr().out.count("passed all 2 checks") == 3


@pytest.mark.parametrize("answer, phrase", [
    (lambda s, m: ops.mean(s, axis=1), "padding included"),
    (lambda s, m: ops.sum(s * _weights(m), axis=1), "without dividing"),
    (lambda s, m: ops.sum(s * _weights(m), axis=1) / s.shape[1], "padded length T"),
    (lambda s, m: ops.mean(s * _weights(m), axis=-1), "averaged over the depth"),
    (lambda s, m: pool(s, 1 - ops.cast(m, "float32")), "inverted"),
])
def test_masked_mean_names_mistakes(answer, phrase):
    assert_named(check_masked_mean, answer, "Exercise 10.2", [phrase])


# 10.3 ============================================================================================


def step(layer, x_t, keys, values, position, *, slot_shift=0, strict=False, masked=True, write_values=True):
    slot = position + slot_shift
    keys = ops.slice_update(keys, (0, 0, slot, 0), kvcache.project(layer, x_t, "key"))
    if write_values:
        values = ops.slice_update(values, (0, 0, slot, 0), kvcache.project(layer, x_t, "value"))
    size = keys.shape[2]
    limit = position - 1 if strict else position
    mask = ops.reshape(ops.arange(size) <= limit, (1, 1, 1, size)) if masked else None
    return kvcache.attend_output(layer, kvcache.project(layer, x_t, "query"), keys, values, mask), keys, values


def test_cached_step_passes_right_answers(capsys):
    check_cached_attention_step(step)
    check_cached_attention_step(kvcache.cached_self_attention)
    assert capsys.readouterr().out.count("passed all 4 checks") == 2


@pytest.mark.parametrize("answer, phrase", [
    (lambda *a: step(*a, masked=False), "attended over every slot"),
    (lambda *a: step(*a, write_values=False), "not the value"),
    (lambda l, x, k, v, p: (step(l, x, k, v, p)[0], k, v), "buffers never change"),
    (lambda l, x, k, v, p: step(l, x, k, v, p)[0], "return three things"),
])
def test_cached_step_names_mistakes(answer, phrase):
    assert_named(check_cached_attention_step, answer, "Exercise 10.3", [phrase])


def test_a_mask_that_hides_the_position_itself_is_named():
    def strict(layer, x_t, keys, values, position):
        if position == 0:
            return step(layer, x_t, keys, values, position)
        return step(layer, x_t, keys, values, position, strict=True)
    assert "(<=, not <)" in failure(check_cached_attention_step, strict)


def test_a_slot_written_late_is_named():
    def late(layer, x_t, keys, values, position):
        if position + 1 >= keys.shape[2]:
            return step(layer, x_t, keys, values, position)
        return step(layer, x_t, keys, values, position, slot_shift=1)
    message = failure(check_cached_attention_step, late)
    assert "one slot late" in message


def test_the_query_written_as_the_key_is_named():
    def query_as_key(layer, x_t, keys, values, position):
        keys = ops.slice_update(keys, (0, 0, position, 0), kvcache.project(layer, x_t, "query"))
        values = ops.slice_update(values, (0, 0, position, 0), kvcache.project(layer, x_t, "value"))
        mask = ops.reshape(ops.arange(keys.shape[2]) <= position, (1, 1, 1, keys.shape[2]))
        return kvcache.attend_output(layer, kvcache.project(layer, x_t, "query"), keys, values, mask), keys, values
    assert "query's projection into the key buffer" in failure(check_cached_attention_step, query_as_key)


# 10.4 ============================================================================================

import keras  # noqa: E402

from utils.checks.ch10 import check_warmup_cosine  # noqa: E402


def right_schedule(peak, total, warmup):
    if warmup == 0:
        return keras.optimizers.schedules.CosineDecay(peak, total)
    return keras.optimizers.schedules.CosineDecay(0.0, total - warmup, warmup_target=peak, warmup_steps=warmup)


def by_hand(peak, total, warmup):
    def rate(step):
        step = float(step)
        if step < warmup:
            return peak * step / warmup
        return peak * 0.5 * (1 + np.cos(np.pi * min((step - warmup) / (total - warmup), 1.0)))
    return rate


def test_warmup_cosine_passes_right_answers(capsys):
    for answer in (right_schedule, by_hand):
        check_warmup_cosine(answer)
    assert capsys.readouterr().out.count("passed all 3 checks") == 2


@pytest.mark.parametrize("answer, phrase", [
    (lambda p, t, w: keras.optimizers.schedules.CosineDecay(0.0, t, warmup_target=p, warmup_steps=w) if w else
     keras.optimizers.schedules.CosineDecay(p, t), "decay has total_steps - w steps"),
    (lambda p, t, w: keras.optimizers.schedules.CosineDecay(p, t - w), "there is no warm-up"),
    (lambda p, t, w: keras.optimizers.schedules.CosineDecay(p, t), "there is no warm-up"),
    (lambda p, t, w: 0.001, "return a schedule"),
    (lambda p, t, w: None, "returned None"),
    (lambda p, t, w: keras.optimizers.schedules.PolynomialDecay(p, t), "a warm-up starts from 0"),
])
def test_warmup_cosine_names_mistakes(answer, phrase):
    assert_named(check_warmup_cosine, answer, "Exercise 10.4", [phrase])


def test_the_stub_of_10_4_is_not_attempted(capsys):
    check_warmup_cosine(_stub)
    assert "not attempted yet" in capsys.readouterr().out


def test_the_library_schedule_passes_and_refuses_bad_settings():
    from utils.training.schedules import warmup_cosine
    check_warmup_cosine(warmup_cosine)
    for total, warmup in ((0, 0), (10, 10), (10, -1)):
        with pytest.raises(ValueError, match="must be"):
            warmup_cosine(1e-3, total, warmup)
    with pytest.raises(ValueError, match="positive"):
        warmup_cosine(0.0, 10, 1)
