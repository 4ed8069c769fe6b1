"""utils.checks.ch08, Exercise 8.3: the attention decoder as a Keras layer, on every backend.

The learner's class keeps the notebook's ``__init__`` and writes ``call``; each answer below is the
right call or one plausible slip in it, and each test asserts on the phrase that names the slip.
"""

from __future__ import annotations

import pytest
from checkerfailures import assert_named
from keras import layers, ops

from utils.checks.ch08 import check_attention_decoder
from utils.models import attention

TITLE = "Exercise 8.3 (the attention decoder as a layer): "


class AttentionDecoder(layers.Layer):
    """The notebook's layer with its worked call; ``slip`` switches one plausible mistake on."""

    slip = None

    def __init__(self, target_size, embedding, units, attention_units, **kwargs):
        super().__init__(**kwargs)
        self.target_embedding = layers.Embedding(target_size, embedding)
        self.decoder = layers.GRU(units, return_sequences=True, return_state=True)
        self.attention = attention.AdditiveAttention(attention_units)
        self.combine = layers.Dense(units, activation="tanh")
        self.output_layer = layers.Dense(target_size)

    def call(self, token_ids, state, keys, key_mask):
        slip = self.slip
        embedded = self.target_embedding(token_ids)
        s, last = self.decoder(embedded, initial_state=None if slip == "no state" else state)
        query = embedded if slip == "embeddings" else s
        mask = {"no mask": None, "inverted": ops.equal(key_mask, 0)}.get(slip, key_mask)
        context, weights = self.attention(query, keys, keys, key_mask=mask)
        joined = {"swapped": [context, s], "context only": [context], "state only": [s]}.get(slip, [s, context])
        combined = ops.concatenate(joined, axis=-1)
        logits = self.output_layer(combined if slip == "no combine" else self.combine(combined))
        if slip == "softmax":
            logits = ops.softmax(logits, axis=-1)
        if slip == "every state":
            last = s
        outputs = {"order": (logits, weights, last), "context": (logits, last, context),
                   "two": (logits, last)}.get(slip, (logits, last, weights))
        return outputs


def with_slip(name):
    return type(f"AttentionDecoder_{name.replace(' ', '_')}", (AttentionDecoder,), {"slip": name})


class BahdanauOrder(AttentionDecoder):
    """Attends from the state before each step, s_{t-1}, as Bahdanau et al. did."""

    def call(self, token_ids, state, keys, key_mask):
        s, last = self.decoder(self.target_embedding(token_ids), initial_state=state)
        previous = ops.concatenate([ops.expand_dims(state, 1), s[:, :-1]], axis=1)
        context, weights = self.attention(previous, keys, keys, key_mask=key_mask)
        return self.output_layer(self.combine(ops.concatenate([s, context], axis=-1))), last, weights


class Unfinished(AttentionDecoder):
    def call(self, token_ids, state, keys, key_mask):
        raise NotImplementedError("Exercise: replace this line with your code.")


def test_the_right_call_passes(capsys):
    check_attention_decoder(AttentionDecoder)
    assert capsys.readouterr().out == "Exercise 8.3 (the attention decoder as a layer): passed all 4 checks.\n"


def test_the_notebooks_stub_is_not_attempted(capsys):
    check_attention_decoder(Unfinished)
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("slip", "phrases"),
    [
        ("no mask", ["your decoder reads the padding", "changing the encoder states at the padded positions",
                     "key_mask=key_mask"]),
        ("inverted", ["your key mask is the wrong way round"]),
        ("embeddings", ["queries are the token embeddings", "s_t"]),
        ("swapped", ["you concatenated [c_t; s_t]"]),
        ("no state", ["your GRU ignores the initial state"]),
        ("softmax", ["your logits are probabilities (a softmax)"]),
        ("no combine", ["your output layer reads [s_t; c_t] directly", "W_o tanh(W_c [s_t; c_t])"]),
        ("context only", ["your combine layer reads the context c_t alone"]),
        ("state only", ["your combine layer reads the decoder state s_t alone"]),
        ("every state", ["your last_state has shape (3, 4, 4), the GRU's states at every step"]),
        ("order", ["the right arrays in another order"]),
        ("context", ["your weights have shape (3, 4, 6), the context's"]),
        ("two", ["should return the tuple (logits, last_state, weights)", "tuple of 2 items"]),
    ],
)
def test_slips_are_named(slip, phrases):
    assert_named(check_attention_decoder, with_slip(slip), TITLE, phrases)


def test_bahdanaus_order_is_named():
    assert_named(check_attention_decoder, BahdanauOrder, TITLE, ["states before each step, s_{t-1}"])


def test_a_changed_init_is_named():
    class Renamed(AttentionDecoder):
        def __init__(self, *sizes):
            super().__init__(*sizes)
            self.gru = self.decoder
            del self.decoder

    assert_named(check_attention_decoder, Renamed, TITLE, ["your layer has no decoder", "keep the __init__"])
    assert_named(check_attention_decoder, lambda *sizes: "a layer", TITLE, ["pass your layer class"])
