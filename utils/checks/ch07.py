"""Checkers for chapter 7: sequence-to-sequence models.

Exercise 7.1 builds the decoder's input and target for teacher forcing, 7.2 computes the edit
distance between two strings, 7.3 builds a GRU decoder's teacher-forced training model and its step
model from shared layers (in Keras), 7.4 takes one step of beam search for one input, and 7.5 (an
experiment) chooses the length-normalisation exponent of beam search on validation pairs.

Each checker computes what the plausible wrong answers return on its inputs (the target not
shifted or shifted the wrong way, a substitution counted as two edits, a table whose first row
was left at 0, the beams' scores not added, a finished beam extended like the others...) and
names the one the learner's answer matches, when the input tells it apart from the others. The
token ids of 7.1 differ from their positions and the log-probabilities of 7.4 are random and
distinct, so that every wrong answer gives its own result. An edit distance is one small number
that many mistakes can hit by chance on one pair of strings, so 7.2 names a mistake from the
learner's answers on every pair at once.

7.3 is checked by behaviour: the checker gives the learner's three layers random weights, compares
the training model's logits with a GRU decoder written in NumPy on those weights (within float32
rounding), and feeds the step model the true previous tokens and the states it returns, one step
at a time, which must give the training model's logits and the reference's states at every step.
A step model with layers of its own, a state ignored or not passed on, a softmax, another kind of
recurrent layer and sizes written into the function are named.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
from keras import layers, ops

from utils.checks.framework import Mistake, call, checker, expect_array, kind_of, named_mistake
from utils.decoding.search import beam_step, choose_alpha
from utils.tasks.seq2seq import log_softmax
from utils.decoding.seqmetrics import character_error_rate, edit_distance
from utils.data.tokens import END, PAD, START, teacher_forcing
from utils.models.gated import gru_step

# Shared: what the learner returned ===============================================================


def _parts(result: Any, names: Sequence[str], on: str) -> tuple[Any, ...]:
    """The parts of a tuple the exercise asks for, or a :class:`Mistake` saying what came back instead."""
    wanted = f"({', '.join(names)})"
    if result is None:
        raise Mistake(f"your function returned None: did you forget to `return` {wanted}?")
    if isinstance(result, np.ndarray) and result.ndim > 1 and len(result) == len(names):
        raise Mistake(f"you returned one {kind_of(result)}: return the {len(names)} arrays separately, as the "
                      f"tuple {wanted} ({on}).")
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        raise Mistake(f"return the tuple {wanted}; you returned {kind_of(result)} ({on}).")
    return tuple(result)


def _whole_numbers(value: Any, what: str, on: str, hint: str = "") -> np.ndarray:
    """A 1-D array of whole numbers (ints, or floats equal to ints) as int64."""
    array = expect_array(value, what, ndim=1, hint=f"({on})")
    if not np.all(np.isfinite(array)) or not np.array_equal(array, np.round(array)):
        raise Mistake(f"the values of {what}, {_listed(array)}, are not all whole numbers ({on}). {hint}".strip())
    return array.astype(np.int64)


def _same(got: np.ndarray, wanted: np.ndarray) -> bool:
    return got.shape == np.shape(wanted) and bool(np.array_equal(got, wanted))


def _listed(values: np.ndarray) -> list:
    return np.round(values, 4).tolist() if values.dtype.kind == "f" else values.tolist()


# Exercise 7.1: teacher forcing ===================================================================

# Ids that differ from their positions and from each other's neighbours, a repeated id, the shortest
# targets (one character, and the end token alone), one of them int64 rather than encode's int32.
_FORCING_TARGETS = [
    np.array([7, 4, 9, 5, END], dtype=np.int32),
    np.array([12, 3, 3, 8, 15, 6, 10, END], dtype=np.int64),
    np.array([5, END], dtype=np.int32),
    np.array([END], dtype=np.int32),
]

_FORCING_RULE = ("the decoder target is the target itself, and the decoder input is START (1) followed by the "
                 "target without its last token: at step t the decoder reads token t - 1 and predicts token t")


def _with(first: int, ids: np.ndarray) -> np.ndarray:
    return np.concatenate([[first], ids]).astype(np.int64)


def _forcing_pairs(target: np.ndarray) -> list[tuple[tuple[np.ndarray, np.ndarray], str]]:
    expected_input, expected_target = teacher_forcing(target)
    return [
        ((expected_target, expected_input),
         "you returned the pair in the wrong order: return (decoder_input, decoder_target), the input first."),
        ((target[:-1], target[1:]),
         "you shifted the target as chapter 6's language model shifts its text (input target[:-1], target "
         "target[1:]). Here the decoder must also predict the first token, from START alone: the decoder input "
         "is [START] + target[:-1] and the decoder target is the whole target, end token included."),
    ]


def _target_suspects(target: np.ndarray) -> list[tuple[np.ndarray, str]]:
    return [
        (target[:-1], "your decoder target has lost its end token: the decoder must learn to predict END (2), "
                      "or it never stops, so the decoder target is the whole target, end token included."),
        (_with(START, target), "your decoder target starts with the start token: START is only ever read, never "
                               "predicted, so the decoder target is the target itself."),
        (_with(START, target[:-1]), "your decoder target is the decoder input: the decoder target is the target "
                                    "itself, the input is the target shifted behind START."),
    ]


def _input_suspects(target: np.ndarray) -> list[tuple[np.ndarray, str]]:
    wrong_way = ("your decoder input is shifted the wrong way: it holds the tokens after each step (the input at "
                 "step t is token t + 1), so the decoder reads the answer it must predict. Shift right, behind "
                 "the start token: [START] + target[:-1].")
    return [
        (target, "your decoder input is the target itself, not shifted: the decoder would read the token it must "
                 "predict (a copy task). Shift it right by one, behind the start token: [START] + target[:-1]."),
        (target[:-1], f"your decoder input has no start token: it has {len(target) - 1} tokens, the target "
                      f"{len(target)}. Put START (1) in front of the target without its last token: "
                      "[START] + target[:-1]."),
        (_with(START, target), f"your decoder input keeps the target's last token, the end token: it has "
                               f"{len(target) + 1} tokens, the target {len(target)}. Drop the last token: "
                               "[START] + target[:-1] (the decoder never reads END, it only predicts it)."),
        (_with(PAD, target[:-1]), "your decoder input starts with padding (0): the first token the decoder reads "
                                  "is the start token, START = 1."),
        (np.roll(target, 1), "you rolled the target (np.roll): the end token wrapped around to the front of the "
                             "decoder input. Put the start token there: [START] + target[:-1]."),
        (_with(START, target[1:])[:len(target)],
         "your decoder input writes START over the target's first token instead of shifting the target: "
         "[START] + target[:-1] keeps every token but the last."),
        (target[1:], wrong_way),
        (np.concatenate([target[1:], [END]]), wrong_way),
        (np.concatenate([target[1:], [PAD]]), wrong_way),
        (np.roll(target, -1), wrong_way),
    ]


def _wrong_ids(got: np.ndarray, expected: np.ndarray, what: str, on: str) -> Mistake:
    seen = f"you returned {got.tolist()}, expected {expected.tolist()}"
    if len(got) != len(expected):
        return Mistake(f"your {what} has {len(got)} tokens, expected {len(expected)}, as many as the target (on "
                       f"{on}: {seen}). {_FORCING_RULE[0].upper()}{_FORCING_RULE[1:]}.")
    return Mistake(f"your {what} is wrong on {on} ({seen}): {_FORCING_RULE}.")


def _check_forcing(got_input: np.ndarray, got_target: np.ndarray, target: np.ndarray, on: str) -> None:
    expected_input, expected_target = teacher_forcing(target)
    seen = f"(Seen on {on}: you returned {got_input.tolist()} and {got_target.tolist()}.)"
    message = named_mistake((got_input, got_target), _forcing_pairs(target),
                            lambda a, b: _same(a[0], b[0]) and _same(a[1], b[1]))
    if message:
        raise Mistake(f"{message} {seen}")
    for got, expected, name, suspects in ((got_target, expected_target, "decoder_target", _target_suspects),
                                          (got_input, expected_input, "decoder_input", _input_suspects)):
        if _same(got, expected):
            continue
        message = named_mistake(got, suspects(target), _same)
        if message:
            raise Mistake(f"{message} {seen}")
        raise _wrong_ids(got, expected, name, on)


@checker("7.1", "decoder input and target for teacher forcing")
def check_decoder_io(answer: Callable[..., Any]) -> int:
    """``(decoder_input, decoder_target)``: ``[START] + target[:-1]`` and the target, on several targets."""
    for target in _FORCING_TARGETS:
        on = f"the target {target.tolist()}"
        parts = _parts(call(answer, target.copy(), on=on), ("decoder_input", "decoder_target"), f"on {on}")
        got_input, got_target = (_whole_numbers(part, f"your {name}", f"on {on}", "Return token ids, ints.")
                                 for part, name in zip(parts, ("decoder_input", "decoder_target"), strict=True))
        _check_forcing(got_input, got_target, target, on)
    return len(_FORCING_TARGETS)


# Exercise 7.2: edit distance =====================================================================

_EDIT_PAIRS = [
    ("kitten", "sitting"),
    ("a", "b"),
    ("", "abc"),
    ("abcd", ""),
    ("", ""),
    ("ab", "ba"),
    ("abc", "abcde"),
    ("cde", "abcde"),
    ("flaw", "lawn"),
    ("sunday", "saturday"),
    ("forty-two", "forty-two"),
    ("forty-two", "forty-three"),
    ("thirty", "thirteen"),
    ("thirty", "eighty"),      # the longest common block, "ty", is not on the cheapest alignment: difflib's
    ("fourteen", "hundred"),   # matcher (which takes it first) counts 5 and 7 edits where 4 and 6 suffice
]


def _table_corner(a: str, b: str, *, substitution: int = 1, match: int = 0, first_row: bool = True,
                  first_column: bool = True) -> int:
    """The last entry of an edit-distance table built with the given costs and first row and column."""
    previous = [j if first_row else 0 for j in range(len(b) + 1)]
    for i, x in enumerate(a, start=1):
        current = [i if first_column else 0]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (substitution if x != y else match)))
        previous = current
    return previous[-1]


def _common_subsequence(a: str, b: str) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def _matcher_blocks(a: str, b: str) -> tuple[int, int]:
    """(characters matched, edits counted from the opcodes) of difflib's SequenceMatcher alignment."""
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    edits = sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal")
    return matched, edits


def _distance_suspects(a: str, b: str) -> list[tuple[int, str]]:
    longer = max(len(a), len(b))
    matched, edits = _matcher_blocks(a, b)
    matcher = ("you counted edits on difflib.SequenceMatcher's alignment: it matches the longest common block first, "
               "which need not lie on the cheapest alignment ('thirty' and 'eighty' share 'ty', yet 4 substitutions "
               "of 't', 'h', 'i', 'r' are cheaper than what that alignment costs). Fill the table, each entry the "
               "cheapest of a deletion, an insertion and a substitution (or match).")
    first_row = ("the first row and column of your table are not 0, 1, 2, ...: turning a prefix of i characters "
                 "into the empty string takes i deletions (and the empty string into j characters j insertions), "
                 "so table[i][0] = i and table[0][j] = j. Left at 0 they make the distance too small, 0 when "
                 "one string is empty.")
    similarity = ("you returned a similarity, how much the two strings have in common (their longest common "
                  "subsequence, or the longer length minus the distance), not the distance: the fewest "
                  "insertions, deletions and substitutions that turn one into the other.")
    return [
        (_table_corner(a, b, substitution=2),
         "you counted a substitution as 2 edits (a deletion plus an insertion): replacing one character by "
         "another costs 1, table[i - 1][j - 1] + (a[i - 1] != b[j - 1])."),
        (_table_corner(a, b, first_row=False), first_row),
        (_table_corner(a, b, first_column=False), first_row),
        (_table_corner(a, b, first_row=False, first_column=False), first_row),
        (sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b)),
         "you compared the strings position by position (the Hamming distance plus the length difference), "
         "which cannot insert or delete a character inside a string: 'cde' and 'abcde' differ at every "
         "position but are 2 insertions apart. Fill the table, each entry the cheapest of a deletion, an "
         "insertion and a substitution (or match)."),
        (abs(len(a) - len(b)), "you returned only the difference of the lengths: strings of the same length can "
                               "still differ ('a' and 'b' are one substitution apart)."),
        (longer, "you returned the length of the longer string, which is what the table gives when a match costs "
                 "1 as well: equal characters cost 0, table[i - 1][j - 1] + (a[i - 1] != b[j - 1])."),
        (longer - edit_distance(a, b), similarity),
        (_common_subsequence(a, b), similarity),
        (edits, matcher),
        (longer - matched, matcher),
    ]


def _fractions(a: str, b: str, distance: int) -> list[tuple[float, str]]:
    """The non-whole numbers a plausible wrong answer returns: the distance divided by a length."""
    longer = max(len(a), len(b))
    normalised = ("you divided the distance by a length (a normalised distance, as an error rate is): return the "
                  "number of edits itself, a whole number.")
    return [
        *[(distance / n, normalised) for n in (len(a), len(b), longer) if n],
        *[(1 - distance / n, "you returned a similarity, 1 - distance / length: return the number of edits "
                             "itself, a whole number.") for n in (len(a), len(b), longer) if n],
    ]


def _one_distance(result: Any, a: str, b: str, on: str) -> int:
    """The learner's distance as an int, or a :class:`Mistake` naming what came back instead."""
    if result is None:
        raise Mistake("your function returned None: did you forget to `return` the distance?")
    if isinstance(result, (list, tuple, np.ndarray)):
        try:
            array = np.asarray(result, dtype=float)
        except (TypeError, ValueError):
            array = None
        if array is not None and array.ndim == 0:
            result = array.item()
        elif array is not None and array.shape in ((len(a) + 1, len(b) + 1), (len(b) + 1, len(a) + 1)):
            raise Mistake(f"you returned the whole table ({kind_of(result)}): the distance is its last entry, "
                          f"table[len(a)][len(b)] (on {on}).")
        elif array is not None and array.shape in ((len(a) + 1,), (len(b) + 1,)):
            raise Mistake(f"you returned a row of the table ({kind_of(result)}): the distance is the last entry of "
                          f"the last row (on {on}).")
        else:
            raise Mistake(f"return one whole number, the distance; you returned {kind_of(result)} (on {on}).")
    if isinstance(result, (bool, np.bool_)) or not isinstance(result, (int, float, np.integer, np.floating)):
        raise Mistake(f"return one whole number, the distance; you returned {kind_of(result)} (on {on}).")
    if math.isfinite(float(result)) and float(result) == round(float(result)):
        return int(result)
    message = named_mistake(float(result), _fractions(a, b, edit_distance(a, b)),
                            lambda x, y: abs(x - y) <= 1e-6)
    raise Mistake(f"{message} (Seen on {on}: you returned {result:.6g}.)" if message else
                  f"you returned {float(result):.6g} on {on}: the distance is a whole number, the fewest edits.")


@checker("7.2", "edit distance")
def check_edit_distance(answer: Callable[..., Any]) -> int:
    """The Levenshtein distance on pairs with empty strings, prefixes, suffixes and swaps.

    At the first wrong distance the learner's function is still called on the remaining pairs, so
    that the mistake is named from all its answers: one number, on one pair, fits several mistakes.
    """
    answers: list[int | None] = []
    failed: tuple[str, int, int] | None = None  # the first pair with a wrong distance, its answer, the right one
    for a, b in _EDIT_PAIRS:
        on = f"a={a!r}, b={b!r}"
        try:
            got = _one_distance(call(answer, a, b, on=on), a, b, on)
        except Mistake:
            if failed is None:
                raise
            answers.append(None)  # a later pair says nothing about the mistake
            continue
        answers.append(got)
        expected = edit_distance(a, b)
        if got != expected and failed is None:
            failed = (on, got, expected)
    if failed is None:
        return len(_EDIT_PAIRS)
    on, got, expected = failed
    answered = [k for k, value in enumerate(answers) if value is not None]
    by_pair = [_distance_suspects(a, b) for a, b in _EDIT_PAIRS]
    suspects = [(tuple(by_pair[k][s][0] for k in answered), message)
                for s, (_, message) in enumerate(by_pair[0])]
    message = named_mistake(tuple(answers[k] for k in answered), suspects, lambda x, y: x == y)
    seen = f"on {on}: you returned {got}, expected {expected}"
    if message:
        raise Mistake(f"{message} (Seen {seen}.)")
    raise Mistake(f"{seen[0].upper()}{seen[1:]}. The edit distance is the fewest insertions, deletions and "
                  "substitutions (each costing 1) that turn a into b. Fill the table with table[i][0] = i, "
                  "table[0][j] = j and each entry the cheapest of table[i - 1][j] + 1, table[i][j - 1] + 1 and "
                  "table[i - 1][j - 1] + (a[i - 1] != b[j - 1]).")


# Exercise 7.3: a GRU decoder's training model and its step model ==================================

_DECODER_SIZES = ((7, 3, 5), (5, 4, 2))  # (target_size, embedding, units): each differs from the others
_DECODER_BATCH, _DECODER_STEPS = 3, 5
_MODEL_TOLERANCE = 1e-4  # float32 logits of a few steps agree to about 1e-6; a wrong model misses by 1e-2 or more
_RECURRENT_KINDS = ("LSTM", "SimpleRNN", "Bidirectional", "RNN")


def _model_parts(result: Any, on: str) -> tuple[Any, Any]:
    """(training, step) as Keras models, or a :class:`Mistake` saying what came back instead."""
    training, step = _parts(result, ("training", "step"), on)
    for model, name in ((training, "training"), (step, "step")):
        if not isinstance(model, keras.Model):
            raise Mistake(f"your {name} model should be a Keras model, keras.Model(inputs, outputs); you returned "
                          f"{kind_of(model)} ({on}).")
    return training, step


def _layers(model: Any) -> list[Any]:
    """Every layer of a model, those of nested models included, in order."""
    found = []
    for layer in model.layers:
        found += _layers(layer) if isinstance(layer, keras.Model) else [layer]
    return found


def _decoder_layers(training: Any, on: str) -> tuple[Any, Any, Any]:
    """The Embedding, GRU and Dense of the training model, or a :class:`Mistake` naming what is there instead."""
    held = [layer for layer in _layers(training) if layer.weights]
    names = [type(layer).__name__ for layer in held]
    recurrent = [layer for layer in held if isinstance(layer, layers.RNN) or type(layer).__name__ in _RECURRENT_KINDS]
    grus = [layer for layer in recurrent if isinstance(layer, layers.GRU)]
    if recurrent and not grus:
        kind = type(recurrent[0]).__name__
        raise Mistake(f"your decoder's recurrent layer is {'an' if kind[0] in 'AEIOUL' else 'a'} {kind}: the exercise "
                      "builds it with a GRU, layers.GRU(units, return_sequences=True, return_state=True), whose one "
                      f"state is the (B, units) array the step model carries ({on}).")
    embeddings = [layer for layer in held if isinstance(layer, layers.Embedding)]
    denses = [layer for layer in held if isinstance(layer, layers.Dense)]
    if len(grus) != 1 or len(embeddings) != 1 or len(denses) != 1 or len(held) != 3:
        raise Mistake(f"your training model's layers with weights are {names or 'none'}: build it from one "
                      "Embedding, one GRU and one Dense layer, and the step model from the same three objects "
                      f"({on}).")
    return embeddings[0], grus[0], denses[0]


def _sized(parts: tuple[Any, Any, Any], size: int, embedding_size: int, units: int, on: str) -> None:
    """The layers must have the sizes the function was given."""
    embedding, gru, dense = parts
    found = {"the Embedding's input_dim": (embedding.input_dim, "target_size", size),
             "the Embedding's output_dim": (embedding.output_dim, "embedding", embedding_size),
             "the GRU's units": (gru.units, "units", units), "the Dense layer's units": (dense.units, "target_size", size)}
    for what, (got, name, wanted) in found.items():
        if got != wanted:
            raise Mistake(f"{what} is {got}, expected {name} = {wanted}: build the layers from the function's "
                          f"arguments, not from sizes written into it ({on}).")


def _randomise(*layers_: Any, seed: int) -> None:
    """New random weights (biases included) for each layer, so that no weight is left at 0 or 1."""
    rng = np.random.default_rng(seed)
    for layer in layers_:
        layer.set_weights([rng.normal(0.0, 0.6, np.shape(w)).astype(np.float32) for w in layer.get_weights()])


def _gru_decoder(embedding: Any, gru: Any, dense: Any, ids: np.ndarray, state: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The reference, in NumPy on the layers' weights: logits (B, T, V) and the states after each step (B, T, d)."""
    table = np.asarray(embedding.get_weights()[0], dtype=np.float64)
    kernel, recurrent, bias = (np.asarray(w, dtype=np.float64) for w in gru.get_weights())
    output, output_bias = (np.asarray(w, dtype=np.float64) for w in dense.get_weights())
    states, s = [], np.asarray(state, dtype=np.float64)
    for t in range(ids.shape[1]):
        s = gru_step(table[ids[:, t]], s, kernel.T, recurrent.T, bias, reset_after=gru.reset_after)
        states.append(s)
    states_ = np.stack(states, axis=1)
    return states_ @ output + output_bias, states_


def _reason(error: Exception) -> str:
    """The line of an exception that says what went wrong, without the frames Keras wraps it in."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    lines = [line.strip() for line in text.splitlines()]
    kept = [line for line in lines if line and not line.startswith(("Exception encountered when calling",
                                                                     "Arguments received by", "•"))]
    return kept[0] if kept else ""


def _run_model(model: Any, inputs: list[np.ndarray], name: str, described: str) -> list[np.ndarray]:
    """The model's outputs on ``inputs`` as float64 arrays, or a :class:`Mistake` naming what went wrong."""
    try:
        outputs = model(inputs)
    except Exception as error:  # the learner's model may raise anything
        raise Mistake(f"calling your {name} model on {described} raised {type(error).__name__}: "
                      f"{_reason(error)}") from None
    if isinstance(outputs, dict):
        raise Mistake(f"your {name} model returns a dict: give its outputs as a list, keras.Model(inputs, "
                      f"[...]) ({described}).")
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    return [np.asarray(ops.convert_to_numpy(o), dtype=np.float64) for o in outputs]


def _close_models(got: np.ndarray, wanted: np.ndarray) -> bool:
    return got.shape == wanted.shape and bool(np.allclose(got, wanted, atol=_MODEL_TOLERANCE, rtol=_MODEL_TOLERANCE))


def _training_logits(training: Any, ids: np.ndarray, state: np.ndarray, reference: np.ndarray,
                     parts: tuple[Any, Any, Any], on: str) -> None:
    """The training model must give the reference's logits for every step."""
    described = f"[decoder_input {ids.shape} ids, state {state.shape}] ({on})"
    outputs = _run_model(training, [ids, state], "training", described)
    b, t, v = reference.shape
    if len(outputs) != 1:
        shapes = [o.shape for o in outputs]
        raise Mistake(f"your training model returns {len(outputs)} outputs, of shapes {shapes}: it returns the "
                      f"logits alone, (B, T, target_size) = {reference.shape} (the loss compares them with the "
                      f"decoder target) ({on}).")
    got = outputs[0]
    if got.shape == (b, v):
        raise Mistake(f"your training model returns one logit vector per sequence, shape {got.shape}: it needs one "
                      f"per step, (B, T, target_size) = {reference.shape}. Give the GRU return_sequences=True ({on}).")
    if got.shape != reference.shape:
        raise Mistake(f"your training model's logits have shape {got.shape}, expected (B, T, target_size) = "
                      f"{reference.shape} ({on}).")
    if _close_models(got, reference):
        return
    embedding, gru, dense = parts
    with np.errstate(over="ignore"):
        softmax = np.exp(reference - reference.max(axis=-1, keepdims=True))
    suspects = [
        (softmax / softmax.sum(axis=-1, keepdims=True),
         "your training model returns probabilities (a softmax): return the logits, Dense(target_size) without an "
         "activation. The loss takes logits (from_logits=True), and decoding takes their log-softmax."),
        (_gru_decoder(embedding, gru, dense, ids, np.zeros_like(state))[0],
         "your training model ignores the initial state: its logits are those of a GRU started from zeros. Pass "
         "the state to the GRU, gru(embedded, initial_state=state): it is how the source reaches the decoder."),
    ]
    message = named_mistake(got, suspects, _close_models)
    where = np.unravel_index(int(np.argmax(np.abs(got - reference))), got.shape)
    raise Mistake(message + f" ({on}.)" if message else
                  f"your training model's logits differ from a GRU decoder's on the same weights ({on}): the largest "
                  f"difference is {float(np.abs(got - reference)[where]):.3g}, at (sequence, step, token) = "
                  f"{tuple(int(i) for i in where)}. The logits are Dense(GRU(Embedding(decoder_input), "
                  "initial_state=state)), one vector per step.")


def _step_outputs(step: Any, token: np.ndarray, state: np.ndarray, size: int, on: str) -> tuple[np.ndarray, np.ndarray]:
    described = f"[token {token.shape} ids, state {state.shape}] ({on})"
    outputs = _run_model(step, [token, state], "step", described)
    b, d = state.shape
    if len(outputs) != 2:
        raise Mistake(f"your step model returns {len(outputs)} output{'s' if len(outputs) != 1 else ''}, of shapes "
                      f"{[o.shape for o in outputs]}: it returns two, [logits (B, 1, target_size), new_state "
                      f"(B, units)], so that decoding can feed the new state to the next step ({on}).")
    logits, new_state = outputs
    if logits.shape == (b, d) and new_state.shape in ((b, 1, size), (b, size)):
        raise Mistake(f"your step model returns [new_state, logits]: the logits come first, [logits, new_state] "
                      f"({on}).")
    if logits.shape != (b, 1, size):
        raise Mistake(f"your step model's logits have shape {logits.shape}, expected (B, 1, target_size) = "
                      f"{(b, 1, size)}: one token in, the logits of the next one out ({on}).")
    if new_state.shape == (b, 1, d):
        raise Mistake(f"your step model returns the GRU's output sequence, shape {new_state.shape}, as its state: "
                      f"return the GRU's final state (return_state=True), shape (B, units) = {(b, d)} ({on}).")
    if new_state.shape != (b, d):
        raise Mistake(f"your step model's new state has shape {new_state.shape}, expected (B, units) = {(b, d)} "
                      f"({on}).")
    return logits[:, 0], new_state


def _step_by_step(step: Any, training: Any, ids: np.ndarray, state: np.ndarray, reference: np.ndarray,
                  states: np.ndarray, parts: tuple[Any, Any, Any], on: str) -> None:
    """Fed the true previous tokens one at a time, the step model must give the training model's logits."""
    embedding, gru, dense = parts
    shared = {id(w) for w in training.weights}
    s = state
    for t in range(ids.shape[1]):
        logits, new_state = _step_outputs(step, ids[:, t:t + 1], s, reference.shape[-1], on)
        at = f"step {t} of teacher forcing, {on}"
        if _close_models(logits, reference[:, t]) and _close_models(new_state, states[:, t]):
            s = new_state
            continue
        if not {id(w) for w in step.weights} & shared:
            raise Mistake("your step model has layers of its own: its logits differ from the training model's on the "
                          "same tokens, and its weights are other objects. Build both models from the same three "
                          "layer objects (call the same Embedding, GRU and Dense in both), so that training one "
                          f"trains the other ({at}).")
        if t == 0 and _close_models(logits, _gru_decoder(embedding, gru, dense, ids[:, :1], np.zeros_like(s))[0][:, 0]):
            raise Mistake("your step model ignores the state it is given: its logits are those of a GRU started "
                          "from zeros. Pass it to the GRU, gru(embedded, initial_state=state): it carries everything "
                          f"read so far from one step to the next ({at}).")
        if _close_models(logits, reference[:, t]) and _close_models(new_state, s):
            raise Mistake("your step model returns the state it was given, not the new one: return the GRU's final "
                          "state (its second output with return_state=True), so that the next step starts where this "
                          f"one ended ({at}).")
        if _close_models(logits, reference[:, t]):
            raise Mistake(f"your step model's logits are right but its new state is not ({at}): return the GRU's "
                          "final state, its second output with return_state=True.")
        raise Mistake(f"your step model's logits differ from the training model's at {at}: the largest difference "
                      f"is {float(np.abs(logits - reference[:, t]).max()):.3g}. Fed the true previous token and the "
                      "state, it computes what the training model computes at that step: Dense(GRU(Embedding(token), "
                      "initial_state=state)).")


@checker("7.3", "a decoder's training and step models")
def check_build_decoder(answer: Callable[..., Any]) -> int:
    """``(training, step)`` built from one Embedding, GRU and Dense, checked against a NumPy GRU on their weights.

    The layers get random weights (biases included); the training model must give the reference's
    logits for every step from the given state, and the step model, fed the true previous tokens and
    the states it returns, the same logits and states, one step at a time.
    """
    rng = np.random.default_rng(73)
    for number, (size, embedding_size, units) in enumerate(_DECODER_SIZES):
        on = f"target_size={size}, embedding={embedding_size}, units={units}"
        result = call(answer, size, embedding_size, units, on=on)
        if result is None:
            raise Mistake("your function returned None: did you forget to `return` (training, step)?")
        training, step = _model_parts(result, on)
        parts = _decoder_layers(training, on)
        _sized(parts, size, embedding_size, units, on)
        _randomise(*parts, seed=730 + number)
        ids = rng.integers(1, size, (_DECODER_BATCH, _DECODER_STEPS)).astype(np.int32)
        state = rng.uniform(-0.9, 0.9, (_DECODER_BATCH, units)).astype(np.float32)
        reference, states = _gru_decoder(*parts, ids, state)
        _training_logits(training, ids, state, reference, parts, on)
        _step_by_step(step, training, ids, state, reference, states, parts, on)
    return 2 * len(_DECODER_SIZES)


# Exercise 7.4: one step of beam search ===========================================================

_Step = tuple[np.ndarray, np.ndarray, np.ndarray]  # new scores, parents, tokens
_SCORE_RTOL, _SCORE_ATOL = 1e-5, 1e-6  # float32-grounded: the suspects differ by 1e-2 or more


def _beam_cases() -> list[tuple[np.ndarray, np.ndarray, np.ndarray, int, str]]:
    """Scores, log-probabilities, finished flags, beam width and what the case tests, in words.

    The seeds were chosen so that no two of the best candidates are within 0.02 of each other, a
    strong beam gives several of them, and each mistake of :func:`_beam_suspects` changes the result.
    """

    def case(seed: int, scores: list[float], vocabulary: int, width: int, finished: Sequence[int] = (),
             described: str = "") -> tuple[np.ndarray, np.ndarray, np.ndarray, int, str]:
        k = len(scores)
        flags = np.zeros(k, dtype=bool)
        flags[list(finished)] = True
        log_probs = log_softmax(np.random.default_rng(seed).normal(0.0, 1.5, (k, vocabulary)))
        shown = "[" + ", ".join(f"{s:g}" for s in scores) + "]"
        ended = f", beam{'s' if len(finished) > 1 else ''} {', '.join(map(str, finished))} finished" if finished else ""
        words = f"{k} beams with scores {shown}{ended}, {vocabulary} tokens, beam_width={width}"
        return np.array(scores, dtype=float), log_probs, flags, width, f"{words}{described}"

    return [
        case(700, [-1.2, -0.7, -2.3], 6, 3),
        case(710, [0.0, -np.inf, -np.inf], 5, 3, described=" (the first step: one live beam)"),
        case(748, [-1.9, -1.1, -1.4], 5, 2),
        case(730, [-0.8, -1.6, -1.0], 7, 4),
        case(744, [-2.1, -0.6, -1.7], 6, 3, [1], " (the finished beam is the best hypothesis)"),
        case(764, [-0.5, -1.3, -1.6], 6, 3, [1],
             " (the finished beam stays, although extending it would push it out)"),
        case(792, [-1.5, -4.2, -0.9, -1.1], 5, 3, [0, 1], " (a finished beam too weak to stay)"),
    ]


def _candidates(scores: np.ndarray, log_probs: np.ndarray, finished: np.ndarray, *,
                combine: Callable[[np.ndarray, np.ndarray], np.ndarray] = np.add, finished_rule: str = "itself"
                ) -> np.ndarray:
    """The (k, V) candidate scores; ``finished_rule`` says what a finished beam gets: "itself" (one
    candidate, PAD at its score), "extended" (like the others), "dropped" or "every token" (its
    score for each token)."""
    itself = np.full(log_probs.shape[-1], -np.inf)
    itself[PAD] = 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        extended = combine(scores[:, None], log_probs)
        kept = {"itself": scores[:, None] + itself, "extended": extended,
                "dropped": np.full_like(log_probs, -np.inf), "every token": scores[:, None] + 0.0 * log_probs}
    return np.where(finished[:, None], kept[finished_rule], extended)


def _ranked(candidates: np.ndarray, width: int, *, lowest_first: bool = False) -> _Step:
    flat = candidates.reshape(-1)
    order = np.argsort(flat if lowest_first else -flat, kind="stable")[:width]
    return flat[order], order // candidates.shape[1], order % candidates.shape[1]


def _own_best(candidates: np.ndarray, width: int, *, sort: bool) -> _Step:
    """Each beam's best candidate alone, in beam order or best first, cut to ``width``."""
    tokens = np.argmax(candidates, axis=1)
    scores, parents = candidates[np.arange(len(candidates)), tokens], np.arange(len(candidates))
    order = np.argsort(-scores, kind="stable") if sort else parents
    return scores[order][:width], parents[order][:width], tokens[order][:width]


def _beam_suspects(scores: np.ndarray, log_probs: np.ndarray, finished: np.ndarray, width: int
                   ) -> list[tuple[_Step, str]]:
    k, vocabulary = log_probs.shape
    right = _candidates(scores, log_probs, finished)
    new, parents, tokens = _ranked(right, width)
    flat = parents * vocabulary + tokens
    no_score = ("your new scores ignore the beams' scores: a hypothesis's score is the sum of the log-probabilities "
                "of all its tokens, so each candidate scores scores[j] + log_probs[j, v].")
    own_best = ("you extended each beam by its own best token only: rank all k * V candidates of all beams together "
                "(a strong beam may give several of the best, a weak one none), and keep the beam_width best.")
    flat_index = ("you returned flat indices into the k * V candidates (j * V + v): split each into its beam, "
                  "index // V, and its token, index % V (np.divmod).")
    with np.errstate(invalid="ignore", over="ignore"):
        alone = np.where(finished[parents], new, new - scores[parents])
        return [
            (_ranked(_candidates(np.zeros_like(scores), log_probs, finished), width), no_score),
            ((alone, parents, tokens), no_score),
            (_ranked(_candidates(scores, log_probs, finished, combine=np.multiply), width),
             "you multiplied the beams' scores by the log-probabilities: log-probabilities add (probabilities "
             "multiply), so each candidate scores scores[j] + log_probs[j, v]."),
            ((np.exp(new), parents, tokens),
             "your new scores are probabilities: keep them as summed log-probabilities, scores[j] + log_probs[j, v] "
             "(products of probabilities underflow to 0 on long outputs)."),
            (_ranked(_candidates(scores, log_probs, finished, finished_rule="extended"), width),
             "you extended the finished beam like the others: a beam that produced the end token has one "
             "candidate only, itself, with token PAD (0) and its score unchanged."),
            (_ranked(_candidates(scores, log_probs, finished, finished_rule="dropped"), width),
             "your finished beam is missing from the kept candidates: it stays a candidate, itself with token PAD "
             "(0) and its score unchanged (not dropped, and not lowered by a log-probability), ranked with the "
             "others; here its score is good enough to keep it."),
            (_own_best(right, width, sort=False), own_best),
            (_own_best(right, width, sort=True), own_best),
            (_ranked(right, width, lowest_first=True),
             "you kept the lowest-scoring candidates: scores are log-probabilities, higher is better, so keep the "
             "beam_width highest, best first (np.argsort(-candidates))."),
            ((new, flat, tokens), flat_index),
            ((new, parents, flat), flat_index),
            ((new, flat, flat), flat_index),
            ((new, tokens, parents),
             "your parents and tokens are swapped: the parent is the beam a candidate extends, index // V, the "
             "token the one it adds, index % V."),
            ((new, flat // k, flat % k),
             f"you split the flat index by the number of beams ({k}): the candidates are laid out beam by beam, "
             f"V = {vocabulary} per beam, so the parent is index // V and the token index % V."),
        ]


def _three_arrays(result: Any, k: int, vocabulary: int, width: int, on: str) -> _Step:
    names = ("new_scores", "parents", "tokens")
    if isinstance(result, (tuple, list)) and len(result) == 2:
        raise Mistake(f"you returned two things: return three, (new_scores, parents, tokens). If the second one "
                      f"holds flat indices into the k * V candidates, split each into its beam, index // V, and "
                      f"its token, index % V ({on}).")
    parts = _parts(result, names, on)
    got_scores = expect_array(parts[0], "your new_scores", ndim=1, hint=f"({on})")
    got_parents = _whole_numbers(parts[1], "your parents", on, "A parent is the index of a beam, index // V "
                                 "(integer division) for a flat index into the k * V candidates.")
    got_tokens = _whole_numbers(parts[2], "your tokens", on, "A token is an id, index % V for a flat index.")
    for array, name in ((got_scores, "new_scores"), (got_parents, "parents"), (got_tokens, "tokens")):
        if len(array) == width:
            continue
        if len(array) == k:
            raise Mistake(f"your {name} has {k} values, one per beam, but beam_width={width}: rank the candidates "
                          f"of all beams together and keep the {width} best ({on}).")
        if len(array) == k * vocabulary:
            raise Mistake(f"your {name} has {len(array)} values, one per candidate: keep only the beam_width = "
                          f"{width} best ({on}).")
        raise Mistake(f"your {name} has {len(array)} values, expected beam_width = {width} ({on}).")
    return got_scores, got_parents, got_tokens


def _same_score(a: Any, b: Any) -> bool:
    """Scores equal within float32 rounding (a float32 answer adds log-probabilities to about 1e-7)."""
    return bool(np.allclose(a, b, rtol=_SCORE_RTOL, atol=_SCORE_ATOL))


def _finished_kept_wrong(got: _Step, scores: np.ndarray, log_probs: np.ndarray, finished: np.ndarray) -> str | None:
    """What the answer did to a finished beam, when it did not keep it once, as itself: what its token and its
    score say, each on its own."""
    new, parents, tokens = got
    for j in np.flatnonzero(finished):
        chosen = parents == j
        if chosen.sum() > 1:
            return (f"your finished beam {j} appears {int(chosen.sum())} times: a finished beam has exactly one "
                    "candidate, itself with token PAD (0); give its other tokens the score -inf.")
        if not chosen.any():
            continue
        token, score = int(tokens[chosen][0]), float(new[chosen][0])
        kept_score = _same_score(score, scores[j])
        if token == PAD and kept_score:
            continue
        if token != PAD and kept_score:
            named = "the end token" if token == END else f"token {token}"
            return (f"your finished beam {j} kept its score but carries {named}: its one candidate is itself with "
                    "token PAD (0), which decoding reads as nothing written.")
        if token == PAD and _same_score(score, scores[j] + log_probs[j, PAD]):
            return (f"you added log_probs[{j}, PAD] to the finished beam {j}'s score: a finished beam is not extended, "
                    "so its one candidate (token PAD) keeps its score unchanged.")
        if token == PAD:
            return (f"your finished beam {j} has token PAD but a changed score ({score:.6g} for {scores[j]:.6g}): a "
                    "finished beam keeps its score unchanged.")
        return (f"you extended the finished beam {j}: a beam that produced the end token has one candidate, "
                "itself, with token PAD (0) and its score unchanged.")
    return None


def _check_step(got: _Step, expected: _Step, scores: np.ndarray, log_probs: np.ndarray, finished: np.ndarray,
                width: int, on: str) -> None:
    def same(a: _Step, b: _Step) -> bool:
        return a[0].shape == b[0].shape and _same_score(a[0], b[0]) and _same(a[1], b[1]) and _same(a[2], b[2])

    if same(got, expected):
        return
    shown, right = (", ".join(f"{name} {_listed(value)}" for name, value in zip(("scores", "parents", "tokens"),
                                                                                   step, strict=True))
                    for step in (got, expected))
    seen = f"(Seen {on}: you returned {shown}; expected {right}.)"
    message = named_mistake(got, _beam_suspects(scores, log_probs, finished, width), same)
    k = len(scores)
    if message is None and np.all((got[1] >= 0) & (got[1] < k)):
        message = _finished_kept_wrong(got, scores, log_probs, finished)
    if message is None:
        order = np.lexsort((expected[2], expected[1]))
        mine = np.lexsort((got[2], got[1]))
        if _same(got[1][mine], expected[1][order]) and _same(got[2][mine], expected[2][order]):
            message = ("you kept the right candidates but not best first: sort them by score, highest first, "
                       "so that beam 0 is the best hypothesis.")
    if message:
        raise Mistake(f"{message} {seen}")
    raise Mistake(f"your beam step is wrong {on}: you returned {shown}; expected {right}. Each unfinished beam "
                  "j offers scores[j] + log_probs[j, v] for every token v, a finished beam only itself (token PAD, "
                  "score unchanged); rank all of them together, best first, and return the beam_width best: their "
                  "scores, beams and tokens.")


@checker("7.4", "one step of beam search")
def check_beam_step(answer: Callable[..., Any]) -> int:
    """``(new_scores, parents, tokens)``: the ``beam_width`` best candidates of all beams, best first."""
    cases = _beam_cases()
    for scores, log_probs, finished, width, described in cases:
        on = f"on {described}"
        result = call(answer, scores.copy(), log_probs.copy(), finished.copy(), width, on=described)
        got = _three_arrays(result, len(scores), log_probs.shape[1], width, on)
        _check_step(got, beam_step(scores, log_probs, finished, width), scores, log_probs, finished, width, on)
    return len(cases)


# Exercise 7.5: choosing alpha on validation pairs ================================================

_SHARE_ATOL = 1e-6  # float32 shares and alphas are within 1e-7 of the float64 ones; the cases differ by 0.1 or more


def _same_alpha(a: Any, b: Any) -> bool:
    """Two alphas (or exact matches) equal within float32 rounding: np.float32(0.3) is 0.300000012."""
    return math.isclose(float(a), float(b), abs_tol=_SHARE_ATOL)



class _Decoder:
    """A stand-in for beam search: fixed outputs for each alpha, and a record of how it was called."""

    def __init__(self, sources: list[str], references: list[str], outputs: dict[float, list[str]]):
        self.sources, self.references, self.outputs = sources, references, outputs
        self.decoded: list[float] = []
        self.problem: str | None = None

    def __call__(self, sources: Any = None, alpha: Any = None) -> list[str]:
        first = next(iter(self.outputs.values()))
        if self.problem is not None:
            return first
        if alpha is None:
            self.problem = "you called decode(sources) without an alpha: call decode(sources, alpha) for each alpha."
        elif isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, (int, float, np.integer, np.floating)):
            self.problem = f"you called decode with alpha = {alpha!r} ({kind_of(alpha)}): pass one alpha at a time."
        elif not any(_same_alpha(alpha, key) for key in self.outputs):
            self.problem = (f"you called decode with alpha = {alpha!r}, which is not one of the alphas given "
                            f"({list(self.outputs)}): loop over the values in `alphas`, not over their positions.")
        elif sources is not None and list(sources) == self.references and self.references != self.sources:
            self.problem = "you decoded the references: decode the sources, then compare the outputs with the references."
        elif sources is None or list(sources) != self.sources:
            self.problem = "call decode with the sources you were given, unchanged: decode(sources, alpha)."
        if self.problem is not None:
            return first
        key = next(key for key in self.outputs if _same_alpha(alpha, key))
        self.decoded.append(key)
        return list(self.outputs[key])


def _alpha_cases() -> list[tuple[Any, list[str], list[str], dict[float, list[str]], str]]:
    """(alphas as given, sources, references, outputs per alpha, description): exact matches chosen so that
    every plausible way of picking gives its own alpha (no alpha equals a position or a score). Both cases
    have a tie for the best; in the second the alphas come unsorted, so that the first of the tied alphas
    in the order given (what max(scores, key=scores.get) keeps) is neither the smallest nor the largest."""
    rng = np.random.default_rng(7)
    cases = []
    for alphas, matches, n, form in (([0.0, 0.3, 0.6, 1.2, 2.5], [4, 1, 6, 6, 2], 8, "a list"),
                                     (np.array([0.75, 1.5, 0.25, 0.5]), [3, 3, 1, 3], 5, "an unsorted NumPy array")):
        numbers = rng.choice(np.arange(10, 999), size=n, replace=False)
        sources = [f"source {number}" for number in numbers]
        references = [f"target {number}" for number in numbers]
        outputs = {}
        for alpha, m in zip(np.asarray(alphas, dtype=float).tolist(), matches, strict=True):
            right = set(rng.choice(n, size=m, replace=False).tolist())
            outputs[alpha] = [r if i in right else r + " and" * int(rng.integers(1, 3))
                              for i, r in enumerate(references)]
        cases.append((alphas, sources, references, outputs,
                      f"{len(outputs)} alphas given as {form} and {n} validation pairs"))
    return cases


def _alpha_suspects(alphas: list[float], scores: dict[float, float]) -> list[tuple[float, str]]:
    """What the plausible wrong ways of picking the best alpha return, each with its message."""
    best = max(alphas, key=lambda a: (scores[a], -a))
    top = max(scores.values())
    position = ("you returned the position of the best alpha in `alphas` (what np.argmax gives), not the alpha "
                "itself: alphas[i].")
    return [
        (min(alphas, key=lambda a: (scores[a], a)),
         "you picked the alpha with the lowest exact match: a higher exact match is better."),
        (max(alphas, key=lambda a: (scores[a], a)),
         "on a tie you picked the larger alpha: take the smallest of the alphas with the best exact match "
         "(key=lambda a: (scores[a], -a))."),
        (next(a for a in alphas if _same_alpha(scores[a], top)),
         "on a tie you picked the first of the tied alphas in the order given (max(scores, key=scores.get) keeps the "
         "first it meets): take the smallest of them, max(scores, key=lambda a: (scores[a], -a))."),
        (min(alphas), "you returned the smallest alpha: min(scores) compares the keys of the dict (the alphas), "
                      "not their exact matches. Use max(scores, key=...) on the scores."),
        (max(alphas), "you returned the largest alpha: max(scores) compares the keys of the dict (the alphas), "
                      "not their exact matches. Use max(scores, key=...) on the scores."),
        (float(alphas.index(best)), position),
        (float(alphas.index(best) + 1), position),
        (scores[best], "you returned the best exact match instead of the alpha that reached it."),
    ]


def _score_suspects(references: list[str], outputs: dict[float, list[str]]) -> list[tuple[list[float], str]]:
    n = len(references)
    right = [sum(o == r for o, r in zip(out, references)) for out in outputs.values()]
    cer = [character_error_rate(out, references) for out in outputs.values()]
    return [
        ([float(k) for k in right], "your scores are counts of exact matches: divide by the number of pairs, "
                                    "so that the exact match is a share between 0 and 1."),
        ([100 * k / n for k in right], "your scores are percentages: give the exact match as a share between 0 and 1."),
        ([1 - k / n for k in right], "your scores are the share of wrong outputs (1 - exact match): score by the "
                                     "share of outputs equal to their reference."),
        (cer, "your scores are character error rates: score by exact match, the share of outputs equal to their "
              "reference (seqmetrics.exact_match)."),
        ([1 - c for c in cer], "your scores are character accuracies (1 - CER): score by exact match, the share "
                               "of outputs equal to their reference (seqmetrics.exact_match)."),
    ]


def _scores_by_alpha(scores: Any, alphas: list[float], on: str) -> dict[float, float]:
    if not isinstance(scores, dict):
        raise Mistake(f"the second item should be a dict {{alpha: exact match}}; you returned {kind_of(scores)} ({on}).")
    keys = list(scores)
    if all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in keys) \
            and sorted(keys) == list(range(len(alphas))) and sorted(keys) != sorted(alphas):
        raise Mistake(f"the keys of your scores are positions {sorted(keys)}: key the dict by the alphas "
                      f"themselves ({alphas}, {on}).")
    got = {}
    for alpha in alphas:
        match = [k for k in keys if isinstance(k, (int, float, np.integer, np.floating))
                 and not isinstance(k, bool) and _same_alpha(k, alpha)]
        if not match:
            raise Mistake(f"your scores have no entry for alpha = {alpha}: give one for every alpha in `alphas` "
                          f"(you gave {keys}, {on}).")
        value = scores[match[0]]
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise Mistake(f"the score of alpha = {alpha} should be a number; it is {kind_of(value)} ({on}).")
        got[alpha] = float(value)
    if len(keys) != len(alphas):
        raise Mistake(f"your scores have {len(keys)} entries for {len(alphas)} alphas ({on}): one per alpha.")
    return got


@checker("7.5", "choosing the length normalisation on validation pairs")
def check_choose_alpha(answer: Callable[..., Any]) -> int:
    """``(best alpha, {alpha: exact match})`` with stand-in decoders whose outputs for each alpha are fixed."""
    n_checks = 0
    for given, sources, references, outputs, described in _alpha_cases():
        on = f"on {described}"
        alphas = list(outputs)
        decode = _Decoder(sources, references, outputs)
        expected_best, expected = choose_alpha(lambda s, a: outputs[a], sources, references, alphas)
        passed = given.copy() if isinstance(given, np.ndarray) else list(given)
        try:
            result = call(answer, decode, list(sources), list(references), passed, on=described)
        except Mistake:
            if decode.problem:
                raise Mistake(f"{decode.problem} ({on[0].upper()}{on[1:]}.)") from None
            raise
        if decode.problem:
            raise Mistake(f"{decode.problem} ({on[0].upper()}{on[1:]}.)")
        best, scores = _parts(result, ("best_alpha", "scores"), on)
        missed = [a for a in alphas if a not in decode.decoded]
        got = _scores_by_alpha(scores, alphas, on)
        values = [got[a] for a in alphas]
        if not np.allclose(values, [expected[a] for a in alphas], atol=_SHARE_ATOL, rtol=0):
            if missed:
                raise Mistake(f"you never decoded with alpha = {missed[0]}: call decode(sources, alpha) for every "
                              f"alpha and score its own outputs ({on}).")
            message = named_mistake(values, _score_suspects(references, outputs),
                                    lambda a, b: bool(np.allclose(a, b, atol=_SHARE_ATOL, rtol=0)))
            if message:
                raise Mistake(f"{message} ({on[0].upper()}{on[1:]}.)")
            wrong = next(a for a in alphas if not math.isclose(got[a], expected[a], abs_tol=_SHARE_ATOL))
            raise Mistake(f"your score for alpha = {wrong} is {got[wrong]:.6g}, expected {expected[wrong]:.6g} {on}: "
                          "the share of decode(sources, alpha)'s outputs equal to their reference.")
        if isinstance(best, (bool, np.bool_)) or not isinstance(best, (int, float, np.integer, np.floating)):
            raise Mistake(f"the best alpha should be a number, one of {alphas}; you returned {kind_of(best)} ({on}).")
        if not _same_alpha(best, expected_best):
            message = named_mistake(float(best), _alpha_suspects(alphas, expected), _same_alpha)
            if message:
                raise Mistake(f"{message} ({on[0].upper()}{on[1:]}: you returned {best}, expected {expected_best}.)")
            raise Mistake(f"your best alpha is {best} {on}, expected {expected_best}: the alpha with the highest exact "
                          f"match, the smallest on a tie (the scores: { {a: round(expected[a], 4) for a in alphas} }).")
        n_checks += 1
    return n_checks
