"""utils.checks.ch07, Exercise 7.3: a GRU decoder's training model and its step model, on every backend.

The answers are written the way a learner would write them: the right one in two forms, and one
plausible slip each, each test asserting on the phrase of the diagnostic that names it.
"""

from __future__ import annotations

import keras
import pytest
from checkerfailures import assert_named
from keras import layers

from utils.checks.ch07 import check_build_decoder

TITLE = "Exercise 7.3 (a decoder's training and step models): "


def build_decoder(target_size, embedding, units, *, slip=None, reset_after=True):
    """A learner's (training, step), with one option per plausible slip."""
    embed = layers.Embedding(target_size, embedding)
    if slip == "LSTM":
        recurrent = layers.LSTM(units, return_sequences=True, return_state=True)
    elif slip == "SimpleRNN":
        recurrent = layers.SimpleRNN(units, return_sequences=True, return_state=True)
    else:
        recurrent = layers.GRU(units, return_sequences=slip != "last step only", return_state=True,
                               reset_after=reset_after)
    output = layers.Dense(target_size, activation="softmax" if slip == "softmax" else None)

    def run(ids, state, *, use_state=True):
        results = recurrent(embed(ids), initial_state=state if use_state else None)
        return results[0], results[1]

    decoder_input, state = keras.Input((None,), dtype="int32"), keras.Input((units,))
    sequence, last = run(decoder_input, state, use_state=slip != "no state in training")
    training_outputs = [output(sequence), last] if slip == "training returns the state" else output(sequence)
    training = keras.Model([decoder_input, state], training_outputs)

    token, given = keras.Input((1,), dtype="int32"), keras.Input((units,))
    if slip == "own step layers":
        return training, keras.Model(*_own_step(target_size, embedding, units))
    step_sequence, new_state = run(token, given, use_state=slip != "no state in step")
    step_outputs = {"old state returned": [output(step_sequence), given],
                    "logits only": output(step_sequence),
                    "state first": [new_state, output(step_sequence)],
                    "sequence as state": [output(step_sequence), step_sequence]}.get(
        slip, [output(step_sequence), new_state])
    return training, keras.Model([token, given], step_outputs)


def _own_step(target_size, embedding, units):
    """The inputs and outputs of a step model with layers of its own (none shared with the training model)."""
    token, given = keras.Input((1,), dtype="int32"), keras.Input((units,))
    sequence, new_state = layers.GRU(units, return_sequences=True, return_state=True)(
        layers.Embedding(target_size, embedding)(token), initial_state=given)
    return [token, given], [layers.Dense(target_size)(sequence), new_state]


def test_right_answers_pass(capsys):
    check_build_decoder(build_decoder)
    check_build_decoder(lambda *sizes: build_decoder(*sizes, reset_after=False))
    assert capsys.readouterr().out.count("passed all 4 checks") == 2


def test_a_stub_is_not_attempted(capsys):
    def stub(target_size, embedding, units):
        raise NotImplementedError

    check_build_decoder(stub)
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("slip", "phrases"),
    [
        ("own step layers", ["step model has layers of its own", "same three layer objects"]),
        ("no state in training", ["training model ignores the initial state", "initial_state=state"]),
        ("no state in step", ["step model ignores the state it is given"]),
        ("old state returned", ["returns the state it was given, not the new one", "step 0 of teacher forcing"]),
        ("softmax", ["returns probabilities (a softmax)", "from_logits=True"]),
        ("LSTM", ["recurrent layer is an LSTM", "layers.GRU(units"]),
        ("SimpleRNN", ["recurrent layer is a SimpleRNN"]),
        ("last step only", ["one logit vector per sequence, shape (3, 7)", "return_sequences=True"]),
        ("training returns the state", ["training model returns 2 outputs", "the logits alone"]),
        ("logits only", ["step model returns 1 output", "[logits (B, 1, target_size), new_state"]),
        ("state first", ["returns [new_state, logits]: the logits come first"]),
        ("sequence as state", ["returns the GRU's output sequence, shape (3, 1, 5), as its state"]),
    ],
)
def test_slips_are_named(slip, phrases):
    assert_named(check_build_decoder, lambda *sizes: build_decoder(*sizes, slip=slip), TITLE, phrases)


def test_what_comes_back_is_named():
    assert_named(check_build_decoder, lambda *sizes: None, TITLE, ["forget to `return` (training, step)"])
    assert_named(check_build_decoder, lambda *sizes: build_decoder(*sizes)[0], TITLE,
                 ["return the tuple (training, step)"])
    assert_named(check_build_decoder, lambda *sizes: (layers.GRU(4), layers.GRU(4)), TITLE,
                 ["your training model should be a Keras model", "you returned GRU"])


def test_sizes_written_into_the_answer_are_caught():
    assert_named(check_build_decoder, lambda *sizes: build_decoder(7, 3, 5), TITLE,
                 ["the Embedding's input_dim is 7, expected target_size = 5", "target_size=5, embedding=4, units=2"])


def test_an_extra_layer_is_named():
    def with_extra_dense(target_size, embedding, units):
        training, step = build_decoder(target_size, embedding, units)
        hidden = layers.Dense(units)
        inputs = keras.Input((None,), dtype="int32"), keras.Input((units,))
        return keras.Model(list(inputs), training([inputs[0], hidden(inputs[1])])), step

    assert_named(check_build_decoder, with_extra_dense, TITLE,
                 ["layers with weights are ['Dense', 'Embedding', 'GRU', 'Dense']"])
