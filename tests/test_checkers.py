"""The contract every exercise checker keeps, whatever its chapter.

Each checker passes the course's reference and prints one line saying so, treats the
notebook's untouched stub as "not attempted yet" without raising (so a fresh notebook runs
to the end), and names two slips that any exercise can suffer: passing a result instead of
the function, and forgetting ``return``. The mistakes particular to one exercise are tested
in ``test_checks_chNN.py``.
"""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pytest
from keras import ops
from checkerfailures import failure
from test_checks_ch07_models import build_decoder
from test_checks_ch08_models import AttentionDecoder

import utils.checks

from utils.training import bptt
from utils.models import gated
from utils.models.attention import additive_scores, masked_softmax, padding_share
from utils.models.cells import masked_final_state, rnn_parameter_count, rnn_step
from utils.checks import ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08, ch09, ch10
from utils.data import bpe
from utils.models import kvcache
from utils.models.encoders import MaskedMeanPooling
from utils.training.schedules import warmup_cosine
from utils.decoding.search import beam_step, choose_alpha
from utils.tasks.forecasting import normalise_splits
from utils.tasks.labelling import precision_recall_f1, word_start_labels
from utils.tasks.lm import bits_per_character, bits_with_context, dynamic_evaluation
from utils.models.ngram import next_char_distribution
from utils.decoding.sampling import sample_from_logits
from utils.decoding.seqmetrics import edit_distance
from utils.data.sequences import reverse_padded
from utils.models.smoothing import choose_order
from utils.data.text import bag_of_words
from utils.data.tokens import teacher_forcing
from utils.models.transformer import DecoderBlock, causal_mask, scaled_dot_product_attention, split_heads
from utils.data.windows import forecast_windows, make_windows


def _masked_softmax(scores, mask):
    """utils.models.attention.masked_softmax on one (Tq, Tk) or a batch of (B, Tq, Tk) scores, as a NumPy array."""
    scores = np.asarray(scores, dtype="float32")
    if scores.ndim == 2:
        return _masked_softmax(scores[None], np.asarray(mask)[None])[0]
    return ops.convert_to_numpy(masked_softmax(scores, mask))


def _attention(q, k, v, mask=None):
    """utils.models.transformer.scaled_dot_product_attention on NumPy arrays, as NumPy ``(output, weights)``.

    The arrays get a leading axis and the mask the scores' whole shape, since the reference reads a
    2-D mask as (B, Tk) key padding rather than as (Tq, Tk).
    """
    q, k, v = (np.asarray(x, dtype="float32")[None] for x in (q, k, v))
    if mask is not None:
        mask = np.broadcast_to(mask, (*q.shape[:-1], k.shape[-2]))
    return tuple(ops.convert_to_numpy(x)[0] for x in scaled_dot_product_attention(q, k, v, mask))


def _split_heads(x, heads):
    return ops.convert_to_numpy(split_heads(x, heads))


def _masked_mean(states, mask):
    """utils.models.encoders.MaskedMeanPooling as a function of (states, mask)."""
    return MaskedMeanPooling()(states, mask)


CHECKERS = [
    # checker, the course's reference answer, exercise number, number of checks it runs
    pytest.param(ch01.check_bag_of_words, bag_of_words, "1.1", 7, id="1.1"),
    pytest.param(ch01.check_make_windows, make_windows, "1.2", 6, id="1.2"),
    pytest.param(ch01.check_next_char_distribution, next_char_distribution, "1.3", 6, id="1.3"),
    pytest.param(ch02.check_rnn_step, rnn_step, "2.1", 7, id="2.1"),
    pytest.param(ch02.check_rnn_parameter_count, rnn_parameter_count, "2.2", 5, id="2.2"),
    pytest.param(ch02.check_masked_final_state, masked_final_state, "2.3", 4, id="2.3"),
    pytest.param(ch02.check_reverse_padded, reverse_padded, "2.4", 4, id="2.4"),
    pytest.param(ch03.check_backward_step, bptt.backward_step, "3.1", 3, id="3.1"),
    pytest.param(ch03.check_grad_W, bptt.grad_W, "3.2", 4, id="3.2"),
    pytest.param(ch03.check_clip_by_global_norm, bptt.clip_by_global_norm, "3.3", 6, id="3.3"),
    pytest.param(ch03.check_per_step_factor, bptt.per_step_factor, "3.4", 5, id="3.4"),
    pytest.param(ch04.check_lstm_step, gated.lstm_step, "4.1", 3, id="4.1"),
    pytest.param(ch04.check_gru_step, gated.gru_step, "4.2", 6, id="4.2"),
    pytest.param(ch04.check_parameter_count, gated.parameter_count, "4.3", 16, id="4.3"),
    pytest.param(ch04.check_gradient_reach, gated.gradient_reach, "4.4", 6, id="4.4"),
    pytest.param(ch05.check_normalise_splits, normalise_splits, "5.1", 3, id="5.1"),
    pytest.param(ch05.check_forecast_windows, forecast_windows, "5.2", 8, id="5.2"),
    pytest.param(ch05.check_word_start_labels, word_start_labels, "5.3", 5, id="5.3"),
    pytest.param(ch05.check_precision_recall_f1, precision_recall_f1, "5.4", 8, id="5.4"),
    pytest.param(ch06.check_bits_per_character, bits_per_character, "6.1", 5, id="6.1"),
    pytest.param(ch06.check_sample_from_logits, sample_from_logits, "6.3", 9, id="6.3"),
    pytest.param(ch06.check_choose_order, choose_order, "6.2", 3, id="6.2"),
    pytest.param(ch06.check_dynamic_evaluation, dynamic_evaluation, "6.4", 4, id="6.4"),
    pytest.param(ch07.check_decoder_io, teacher_forcing, "7.1", 4, id="7.1"),
    pytest.param(ch07.check_edit_distance, edit_distance, "7.2", 15, id="7.2"),
    pytest.param(ch07.check_build_decoder, build_decoder, "7.3", 4, id="7.3"),
    pytest.param(ch07.check_beam_step, beam_step, "7.4", 7, id="7.4"),
    pytest.param(ch07.check_choose_alpha, choose_alpha, "7.5", 2, id="7.5"),
    pytest.param(ch08.check_masked_softmax, _masked_softmax, "8.1", 5, id="8.1"),
    pytest.param(ch08.check_additive_scores, additive_scores, "8.2", 3, id="8.2"),
    pytest.param(ch08.check_attention_decoder, AttentionDecoder, "8.3", 4, id="8.3"),
    pytest.param(ch08.check_padding_share, padding_share, "8.4", 3, id="8.4"),
    pytest.param(ch09.check_scaled_dot_product_attention, _attention, "9.1", 5, id="9.1"),
    pytest.param(ch09.check_causal_mask, causal_mask, "9.2", 4, id="9.2"),
    pytest.param(ch09.check_split_heads, _split_heads, "9.3", 4, id="9.3"),
    pytest.param(ch09.check_decoder_block, DecoderBlock, "9.4", 5, id="9.4"),
    pytest.param(ch09.check_bits_with_context, bits_with_context, "9.5", 3, id="9.5"),
    pytest.param(ch10.check_merge_pair, bpe.merge_pair, "10.1", 6, id="10.1"),
    pytest.param(ch10.check_masked_mean, _masked_mean, "10.2", 2, id="10.2"),
    pytest.param(ch10.check_cached_attention_step, kvcache.cached_self_attention, "10.3", 4, id="10.3"),
    pytest.param(ch10.check_warmup_cosine, warmup_cosine, "10.4", 3, id="10.4"),
]
SIGNATURE = ("check", "reference", "number", "n_checks")


def _stub(*args):
    raise NotImplementedError("Exercise: replace this line with your code.")


@pytest.mark.parametrize(SIGNATURE, CHECKERS)
def test_reference_passes(capsys, check, reference, number, n_checks):
    check(reference)
    assert capsys.readouterr().out == f"Exercise {number} ({check.title}): passed all {n_checks} checks.\n"
    assert check.exercise == number


@pytest.mark.parametrize(SIGNATURE, CHECKERS)
def test_stub_is_not_attempted_and_does_not_raise(capsys, check, reference, number, n_checks):
    assert check(_stub) is None
    out = capsys.readouterr().out
    assert f"Exercise {number}" in out and "not attempted yet" in out and "passed" not in out


@pytest.mark.parametrize(SIGNATURE, CHECKERS)
def test_passing_the_result_instead_of_the_function(check, reference, number, n_checks):
    assert "pass your function itself" in failure(check, np.zeros(3))


@pytest.mark.parametrize(SIGNATURE, CHECKERS)
def test_forgotten_return(check, reference, number, n_checks):
    def computes_but_forgets_to_return(*args):
        result = reference(*args)  # noqa: F841 - computed, never returned

    assert "forget to `return`" in failure(check, computes_but_forgets_to_return)


def test_every_checker_is_in_the_table():
    listed = {param.values[0] for param in CHECKERS}
    chapters = [info for info in pkgutil.iter_modules(utils.checks.__path__) if info.name.startswith("ch")]
    assert len(chapters) >= 9
    for info in chapters:
        module = importlib.import_module(f"utils.checks.{info.name}")
        for name in dir(module):
            if name.startswith("check_"):
                assert getattr(module, name) in listed, f"{module.__name__}.{name} is missing from CHECKERS"
