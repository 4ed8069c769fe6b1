"""utils.checks.ch07: each checker passes right answers, tolerates a stub and names each mistake.

The wrong answers are written the way a learner would write them, independently of the
checker's own list of suspects; each test asserts on the phrase of the diagnostic that names
that mistake.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from checkerfailures import assert_named, failure

from utils.checks.ch07 import check_beam_step, check_choose_alpha, check_decoder_io, check_edit_distance

START, END, PAD = 1, 2, 0


# ================================================================================================
# Exercise 7.1: teacher forcing
# ================================================================================================


def io_with(target_ids, *, given="shifted", target="whole"):
    """A learner's (decoder_input, decoder_target), with one option per plausible slip."""
    ids = list(target_ids)
    inputs = {
        "shifted": [START] + ids[:-1],
        "unshifted": ids,
        "no start": ids[:-1],
        "last kept": [START] + ids,
        "padding first": [PAD] + ids[:-1],
        "rolled": list(np.roll(ids, 1)),
        "start over first": [START] + ids[1:],
        "left": ids[1:] + [END],
        "left by roll": list(np.roll(ids, -1)),
        "dropped first": ids[1:],
    }[given]
    targets = {"whole": ids, "no end": ids[:-1], "next": ids[1:], "with start": [START] + ids,
               "the input": inputs}[target]
    return np.array(inputs), np.array(targets)


def io_by_concatenate(target_ids):
    target = np.asarray(target_ids)
    return np.concatenate([[START], target[:-1]]), target


def io_by_insert_as_lists(target_ids):
    return np.insert(target_ids[:-1], 0, START).tolist(), list(target_ids)


def io_as_floats(target_ids):
    decoder_input = np.full(len(target_ids), float(START))
    decoder_input[1:] = target_ids[:-1]
    return decoder_input, np.asarray(target_ids, dtype=float)


def test_decoder_io_alternative_correct_answers_pass(capsys):
    for answer in (io_with, io_by_concatenate, io_by_insert_as_lists, io_as_floats):
        check_decoder_io(answer)
    assert capsys.readouterr().out.count("passed all 4 checks") == 4


_TITLE_71 = "Exercise 7.1 (decoder input and target for teacher forcing): "


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (lambda t: io_with(t, given="unshifted"), ["decoder input is the target itself, not shifted",
                                                   "on the target [7, 4, 9, 5, 2]"]),
        (lambda t: io_with(t, given="no start"), ["has no start token", "it has 4 tokens, the target 5"]),
        (lambda t: io_with(t, given="last kept"), ["keeps the target's last token", "6 tokens"]),
        (lambda t: io_with(t, given="padding first"), ["starts with padding (0)", "START = 1"]),
        (lambda t: io_with(t, given="rolled"), ["rolled the target", "wrapped around"]),
        (lambda t: io_with(t, given="start over first"), ["writes START over the target's first token"]),
        (lambda t: io_with(t, given="left"), ["shifted the wrong way"]),
        (lambda t: io_with(t, given="left by roll"), ["shifted the wrong way"]),
        (lambda t: io_with(t, given="dropped first"), ["shifted the wrong way"]),
        (lambda t: io_with(t, given="no start", target="next"), ["chapter 6's language model", "[START]"]),
        (lambda t: io_with(t, target="no end"), ["lost its end token"]),
        (lambda t: io_with(t, target="with start"), ["starts with the start token"]),
        (lambda t: io_with(t, target="the input"), ["decoder target is the decoder input"]),
        (lambda t: io_with(t)[::-1], ["wrong order", "the input first"]),
        (lambda t: (*io_with(t), len(t)), ["return the tuple (decoder_input, decoder_target)", "tuple of 3 items"]),
        (lambda t: np.stack(io_with(t)), ["one ndarray of shape (2, 5)", "separately"]),
        (lambda t: io_with(t)[0], ["return the tuple", "ndarray of shape (5,)"]),
        (lambda t: {"input": io_with(t)[0], "target": t}, ["return the tuple", "you returned dict"]),
        (lambda t: (io_with(t)[0][None, :], t), ["your decoder_input should be a 1-D array", "2-D, shape (1, 5)"]),
        (lambda t: ("<start>", t), ["your decoder_input could not be read as an array of numbers"]),
        (lambda t: (io_with(t)[0] / 2, t), ["not all whole numbers", "token ids"]),
        (lambda t: (None, t), ["your decoder_input is None"]),
        (lambda t: None, ["returned None", "forget to `return` (decoder_input, decoder_target)"]),
    ],
    ids=["not shifted", "no start", "last token kept", "padding first", "np.roll", "start over first",
         "wrong way", "wrong way by roll", "first dropped", "chapter 6 shift", "end dropped from target",
         "start in target", "input twice", "swapped", "three things", "stacked", "one array", "dict",
         "batch axis", "string", "not whole", "None inside", "None"],
)
def test_decoder_io_mistakes_are_named(answer, phrases):
    assert_named(check_decoder_io, answer, _TITLE_71, phrases)


def test_decoder_io_lengths_that_differ_are_said():
    def end_appended(target_ids):  # no name fits: the generic message says the lengths differ
        ids = list(target_ids)
        return np.array([START] + ids[:-1] + [END, END]), np.array(ids)

    message = failure(check_decoder_io, end_appended)
    assert "your decoder_input has 7 tokens, expected 5, as many as the target" in message


def test_decoder_io_changed_target_is_named():
    def in_place(target_ids):
        decoder_target = target_ids.copy()
        target_ids[1:] = target_ids[:-1].copy()  # the caller's array
        target_ids[0] = START
        return target_ids, decoder_target

    assert "changed its input `target_ids` in place" in failure(check_decoder_io, in_place)


def test_decoder_io_unfinished_edge_case_is_named():
    def only_long_targets(target_ids):
        if len(target_ids) == 1:
            raise NotImplementedError("a target of the end token alone: later")
        return io_with(target_ids)

    message = failure(check_decoder_io, only_long_targets)
    assert "unfinished" in message and "on the target [2]" in message and "the 3 earlier cases passed" in message


# ================================================================================================
# Exercise 7.2: edit distance
# ================================================================================================


def distance_with(a, b, *, substitution=1, match=0, first_row=True, first_column=True, returns="corner"):
    """A learner's table of edit distances, filled row by row, with one option per plausible slip."""
    table = np.zeros((len(a) + 1, len(b) + 1), dtype=int)
    if first_column:
        table[:, 0] = np.arange(len(a) + 1)
    if first_row:
        table[0, :] = np.arange(len(b) + 1)
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            diagonal = table[i - 1, j - 1] + (match if a[i - 1] == b[j - 1] else substitution)
            table[i, j] = min(table[i - 1, j] + 1, table[i, j - 1] + 1, diagonal)
    distance = table[-1, -1]
    longer = max(len(a), len(b))
    return {
        "corner": distance, "table": table, "last row": table[-1], "float": float(distance),
        "similarity": longer - distance, "normalised": distance / max(len(b), 1),
        "one minus": 1 - distance / max(longer, 1), "list": [distance], "string": str(distance),
    }[returns]


def distance_by_recursion(a, b):
    @functools.lru_cache(maxsize=None)
    def d(i, j):
        if i == 0 or j == 0:
            return i + j
        return min(d(i - 1, j) + 1, d(i, j - 1) + 1, d(i - 1, j - 1) + (a[i - 1] != b[j - 1]))

    return d(len(a), len(b))


def hamming_plus_lengths(a, b):
    return sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b))


def longest_common_subsequence(a, b):
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a, 1):
        for j, y in enumerate(b, 1):
            table[i][j] = table[i - 1][j - 1] + 1 if x == y else max(table[i - 1][j], table[i][j - 1])
    return table[-1][-1]


def test_edit_distance_alternative_correct_answers_pass(capsys):
    for answer in (distance_with, distance_by_recursion, lambda a, b: distance_with(a, b, returns="float"),
                   lambda a, b: np.int64(distance_with(a, b))):
        check_edit_distance(answer)
    assert capsys.readouterr().out.count("passed all 15 checks") == 4


_TITLE_72 = "Exercise 7.2 (edit distance): "


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (lambda a, b: distance_with(a, b, substitution=2), ["substitution as 2 edits", "on a='kitten', b='sitting'",
                                                            ": you returned 5, expected 3"]),
        (lambda a, b: distance_with(a, b, first_row=False, first_column=False),
         ["first row and column of your table are not 0, 1, 2", "table[i][0] = i"]),
        (lambda a, b: distance_with(a, b, first_row=False), ["first row and column of your table are not 0, 1, 2"]),
        (lambda a, b: distance_with(a, b, first_column=False), ["first row and column of your table are not 0, 1, 2"]),
        (hamming_plus_lengths, ["position by position", "Hamming"]),
        (lambda a, b: abs(len(a) - len(b)), ["only the difference of the lengths"]),
        (lambda a, b: distance_with(a, b, match=1), ["length of the longer string", "a match costs 1"]),
        (lambda a, b: max(len(a), len(b)), ["length of the longer string"]),
        (lambda a, b: distance_with(a, b, returns="similarity"), ["you returned a similarity"]),
        (longest_common_subsequence, ["you returned a similarity", "longest common subsequence"]),
        (lambda a, b: distance_with(a, b, returns="table"), ["the whole table", "ndarray of shape (7, 8)",
                                                             "table[len(a)][len(b)]"]),
        (lambda a, b: distance_with(a, b, returns="last row"), ["a row of the table", "ndarray of shape (8,)"]),
        (lambda a, b: distance_with(a, b, returns="normalised"), ["divided the distance by a length",
                                                                  "a whole number"]),
        (lambda a, b: distance_with(a, b, returns="one minus"), ["1 - distance / length"]),
        (lambda a, b: distance_with(a, b) + 0.5, ["you returned 3.5 on a='kitten', b='sitting'", "a whole number"]),
        (lambda a, b: distance_with(a, b, returns="list"), ["return one whole number", "list of 1 item"]),
        (lambda a, b: distance_with(a, b, returns="string"), ["return one whole number", "you returned str"]),
        (lambda a, b: distance_with(a, b) == 0, ["return one whole number", "you returned bool"]),
        (lambda a, b: float("nan"), ["you returned nan on a='kitten', b='sitting'", "a whole number"]),
        (lambda a, b: None, ["returned None", "forget to `return` the distance"]),
    ],
    ids=["indel", "first row and column at 0", "first row at 0", "first column at 0", "Hamming", "length difference",
         "a match costs 1", "longer length", "similarity", "longest common subsequence", "table", "last row",
         "normalised", "one minus normalised", "half", "list", "string", "bool", "NaN", "None"],
)
def test_edit_distance_mistakes_are_named(answer, phrases):
    assert_named(check_edit_distance, answer, _TITLE_72, phrases)


def test_edit_distance_unknown_mistake_gets_the_rule():
    message = failure(check_edit_distance, lambda a, b: distance_with(a, b) + 1)
    assert "On a='kitten', b='sitting': you returned 4, expected 3. The edit distance is the fewest" in message


def test_edit_distance_empty_string_crash_is_named():
    def recursion_without_base_case(a, b):
        if a[0] == b[0]:  # IndexError on an empty string
            return recursion_without_base_case(a[1:], b[1:]) if len(a) > 1 and len(b) > 1 else abs(len(a) - len(b))
        return distance_with(a, b)

    message = failure(check_edit_distance, recursion_without_base_case)
    assert "raised IndexError" in message and "on a='', b='abc'" in message


def test_edit_distance_mistake_is_named_when_later_pairs_crash():
    def indel_that_crashes_on_empty(a, b):
        if not a or not b:
            raise ValueError("empty string")
        return distance_with(a, b, substitution=2)

    assert "substitution as 2 edits" in failure(check_edit_distance, indel_that_crashes_on_empty)


# ================================================================================================
# Exercise 7.4: one step of beam search
# ================================================================================================


def beam_with(scores, log_probs, finished, beam_width, *, combine="add", finished_rule="itself", rank="all",
              order="best first", returns="split", new_scores="candidates"):
    """A learner's beam step on flattened candidates, with one option per plausible slip."""
    k, vocabulary = log_probs.shape
    with np.errstate(invalid="ignore"):
        extended = scores[:, None] * log_probs if combine == "multiply" else (
            log_probs if combine == "log_probs only" else scores[:, None] + log_probs)
    candidates = extended.copy()
    if finished_rule in ("itself", "dropped"):
        candidates[finished] = -np.inf
        if finished_rule == "itself":
            candidates[finished, PAD] = scores[finished]
    elif finished_rule == "every token":
        candidates[finished] = scores[finished][:, None]
    if rank == "own best":
        tokens = np.argmax(candidates, axis=1)
        new = candidates[np.arange(k), tokens]
        best = np.argsort(-new)[:beam_width]
        return new[best], best, tokens[best]
    flat = candidates.reshape(-1)
    if order == "lowest first":
        best = np.argsort(flat)[:beam_width]
    elif order == "unsorted":
        best = np.sort(np.argpartition(-flat, beam_width)[:beam_width])
    else:
        best = np.argsort(-flat)[:beam_width]
    parents, tokens = best // vocabulary, best % vocabulary
    new = flat[best]
    if new_scores == "probabilities":
        new = np.exp(new)
    elif new_scores == "log_probs only":
        new = np.where(finished[parents], scores[parents], log_probs[parents, tokens])
    return {
        "split": (new, parents, tokens), "flat": (new, best, tokens), "flat pair": (new, best),
        "swapped": (new, tokens, parents), "by k": (new, best // k, best % k),
        "true division": (new, best / vocabulary, tokens), "stacked": np.stack([new, parents, tokens]),
        "lists": (new.tolist(), parents.tolist(), tokens.tolist()),
    }[returns]


def beam_by_sorting_tuples(scores, log_probs, finished, beam_width):
    candidates = []
    for j, (score, row) in enumerate(zip(scores, log_probs, strict=True)):
        if finished[j]:
            candidates.append((score, j, PAD))
        else:
            candidates += [(score + p, j, v) for v, p in enumerate(row)]
    best = sorted(candidates, key=lambda c: -c[0])[:beam_width]
    return tuple(np.array(column) for column in zip(*best, strict=True))


def test_beam_step_alternative_correct_answers_pass(capsys):
    for answer in (beam_with, beam_by_sorting_tuples, lambda *a: beam_with(*a, returns="lists")):
        check_beam_step(answer)
    assert capsys.readouterr().out.count("passed all 7 checks") == 3


_TITLE_74 = "Exercise 7.4 (one step of beam search): "


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (lambda *a: beam_with(*a, combine="log_probs only"), ["ignore the beams' scores", "scores[j] + log_probs"]),
        (lambda *a: beam_with(*a, new_scores="log_probs only"), ["ignore the beams' scores"]),
        (lambda *a: beam_with(*a, combine="multiply"), ["multiplied the beams' scores by the log-probabilities"]),
        (lambda *a: beam_with(*a, new_scores="probabilities"), ["your new scores are probabilities"]),
        (lambda *a: beam_with(*a, finished_rule="extended"), ["extended the finished beam like the others",
                                                              "beam 1 finished"]),
        (lambda *a: beam_with(*a, finished_rule="dropped"), ["finished beam is missing from the kept candidates"]),
        (lambda *a: beam_with(*a, finished_rule="every token"), ["finished beam 1 appears 3 times",
                                                                 "exactly one candidate"]),
        (lambda *a: beam_with(*a, rank="own best"), ["each beam by its own best token only", "all beams together"]),
        (lambda *a: beam_with(*a, order="lowest first"), ["lowest-scoring candidates", "higher is better"]),
        (lambda *a: beam_with(*a, order="unsorted"), ["right candidates but not best first"]),
        (lambda *a: beam_with(*a, returns="flat"), ["flat indices into the k * V candidates", "index // V"]),
        (lambda *a: beam_with(*a, returns="flat pair"), ["you returned two things", "index // V"]),
        (lambda *a: beam_with(*a, returns="swapped"), ["parents and tokens are swapped"]),
        (lambda *a: beam_with(*a, returns="by k"), ["split the flat index by the number of beams (3)"]),
        (lambda *a: beam_with(*a, returns="true division"),
         ["the values of your parents, [1.1667, 1.6667, 0.5], are not all whole numbers", "integer division"]),
        (lambda *a: beam_with(*a, returns="stacked"), ["one ndarray of shape (3, 3)", "separately"]),
        (lambda *a: beam_with(*a)[0], ["return the tuple (new_scores, parents, tokens)", "ndarray of shape (3,)"]),
        (lambda s, lp, f, w: beam_with(s, lp, f, len(s)), ["your new_scores has 3 values, one per beam",
                                                           "beam_width=2"]),
        (lambda s, lp, f, w: beam_with(s, lp, f, lp.size), ["your new_scores has 18 values, one per candidate"]),
        (lambda s, lp, f, w: (s, np.arange(len(s)), np.zeros((len(s), 2))), ["your tokens should be a 1-D array"]),
        (lambda *a: None, ["returned None", "forget to `return` (new_scores, parents, tokens)"]),
    ],
    ids=["log-probabilities only", "log-probability returned", "multiplied", "probabilities", "finished extended",
         "finished dropped", "finished for every token", "own best", "lowest first", "unsorted", "flat index",
         "flat index only", "swapped", "divided by k", "true division", "stacked", "one array", "k beams",
         "every candidate", "2-D tokens", "None"],
)
def test_beam_step_mistakes_are_named(answer, phrases):
    assert_named(check_beam_step, answer, _TITLE_74, phrases)


def test_beam_step_unknown_mistake_gets_the_rule():
    def token_off_by_one(*args):
        new, parents, tokens = beam_with(*args)
        return new, parents, tokens + 1

    message = failure(check_beam_step, token_off_by_one)
    assert "your beam step is wrong on 3 beams with scores [-1.2, -0.7, -2.3]" in message
    assert "rank all of them together" in message


def test_beam_step_changed_log_probs_are_named():
    def in_place(scores, log_probs, finished, beam_width):
        log_probs[finished] = -np.inf  # the caller's array
        log_probs[finished, PAD] = 0.0
        return beam_with(scores, log_probs, np.zeros_like(finished), beam_width)

    assert "changed its input `log_probs` in place" in failure(check_beam_step, in_place)


def test_beam_step_unfinished_finished_beams_are_named():
    def no_finished_beams_yet(scores, log_probs, finished, beam_width):
        if finished.any():
            raise NotImplementedError("finished beams: later")
        return beam_with(scores, log_probs, finished, beam_width)

    message = failure(check_beam_step, no_finished_beams_yet)
    assert "unfinished" in message and "beam 1 finished" in message and "the 4 earlier cases passed" in message


# ================================================================================================
# Exercise 7.5: choosing alpha on validation pairs
# ================================================================================================

TITLE_75 = "Exercise 7.5 (choosing the length normalisation on validation pairs)"


def choose_by_loop(decode, sources, references, alphas, *, pick="best", score="share", keys="alphas",
                   what="sources"):
    """A learner's choice of alpha, with one option per plausible slip."""
    scores = {}
    for i, alpha in enumerate(alphas):
        outputs = decode(sources if what == "sources" else references, alpha)
        right = sum(o == r for o, r in zip(outputs, references))
        value = {"share": right / len(references), "count": right, "percent": 100 * right / len(references),
                 "wrong": 1 - right / len(references)}[score]
        scores[i if keys == "positions" else float(alpha)] = value
    ranked = sorted(scores, key=lambda a: scores[a])
    if pick == "best":
        best = max(scores, key=lambda a: (scores[a], -a))
    elif pick == "lowest":
        best = min(scores, key=lambda a: (scores[a], a))
    elif pick == "tie to larger":
        best = ranked[-1] if scores[ranked[-1]] > scores[ranked[-2]] else max(a for a in scores
                                                                             if scores[a] == scores[ranked[-1]])
    elif pick == "max of keys":
        best = max(scores)
    elif pick == "argmax":
        best = int(np.argmax(list(scores.values())))
    elif pick == "score":
        best = max(scores.values())
    return best, scores


def choose_with_cer(decode, sources, references, alphas):
    from utils.decoding.seqmetrics import character_error_rate
    scores = {a: character_error_rate(decode(sources, a), references) for a in alphas}
    return max(scores, key=scores.get), scores


def choose_without_alpha(decode, sources, references, alphas):
    outputs = decode(sources)
    return alphas[0], {a: np.mean([o == r for o, r in zip(outputs, references)]) for a in alphas}


def choose_by_position(decode, sources, references, alphas):
    scores = {i: np.mean([o == r for o, r in zip(decode(sources, i), references)]) for i in range(len(alphas))}
    return max(scores, key=scores.get), scores


def choose_from_one_decoding(decode, sources, references, alphas):
    outputs = decode(sources, alphas[0])
    scores = {a: np.mean([o == r for o, r in zip(outputs, references)]) for a in alphas}
    return alphas[0], scores


def choose_with_numpy(decode, sources, references, alphas):
    alphas = np.asarray(alphas)
    matches = np.array([np.mean(np.array(decode(sources, a)) == np.array(references)) for a in alphas])
    best = alphas[np.flatnonzero(matches == matches.max())].min()
    return best, dict(zip(alphas.tolist(), matches.tolist()))


def test_choose_alpha_correct_answers_pass(capsys):
    check_choose_alpha(choose_by_loop)
    check_choose_alpha(choose_with_numpy)
    assert capsys.readouterr().out.count("passed all 2 checks") == 2


@pytest.mark.parametrize("answer, phrases", [
    (functools.partial(choose_by_loop, pick="lowest"), ["lowest exact match", "you returned 0.3, expected 0.6"]),
    (functools.partial(choose_by_loop, pick="tie to larger"), ["on a tie you picked the larger alpha"]),
    (functools.partial(choose_by_loop, pick="max of keys"), ["max(scores) compares the keys"]),
    (functools.partial(choose_by_loop, pick="argmax"), ["position of the best alpha"]),
    (functools.partial(choose_by_loop, pick="score"), ["best exact match instead of the alpha"]),
    (functools.partial(choose_by_loop, score="count"), ["counts of exact matches"]),
    (functools.partial(choose_by_loop, score="percent"), ["percentages"]),
    (functools.partial(choose_by_loop, score="wrong"), ["share of wrong outputs"]),
    (functools.partial(choose_by_loop, keys="positions"), ["keys of your scores are positions"]),
    (functools.partial(choose_by_loop, what="references"), ["you decoded the references"]),
    (choose_with_cer, ["character error rates"]),
    (choose_without_alpha, ["without an alpha"]),
    (choose_by_position, ["not one of the alphas given", "not over their positions"]),
    (choose_from_one_decoding, ["you never decoded with alpha = 0.3"]),
])
def test_choose_alpha_names_the_mistake(answer, phrases):
    assert_named(check_choose_alpha, answer, TITLE_75, phrases)


def test_choose_alpha_stub_and_shapes():
    def stub(decode, sources, references, alphas):
        raise NotImplementedError

    check_choose_alpha(stub)
    assert_named(check_choose_alpha, lambda d, s, r, a: None, TITLE_75, ["returned None"])
    assert_named(check_choose_alpha, lambda d, s, r, a: (0.6, [0.5] * 5), TITLE_75, ["should be a dict"])
    def as_text(decode, sources, references, alphas):
        best, scores = choose_by_loop(decode, sources, references, alphas)
        return str(best), scores

    assert_named(check_choose_alpha, as_text, TITLE_75, ["best alpha should be a number"])


# ================================================================================================
# Issue 31: mistakes the earlier inputs let through or named as another, and float32 answers
# ================================================================================================


def distance_by_matcher_opcodes(a, b):
    """Edits counted on difflib's alignment, which takes the longest common block first."""
    import difflib
    opcodes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in opcodes if tag != "equal")


def distance_by_matched_characters(a, b):
    import difflib
    matched = sum(block.size for block in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())
    return max(len(a), len(b)) - matched


@pytest.mark.parametrize("answer", [distance_by_matcher_opcodes, distance_by_matched_characters])
def test_edit_distance_counted_on_difflibs_alignment_is_named(answer):
    assert_named(check_edit_distance, answer, _TITLE_72, ["difflib.SequenceMatcher's alignment",
                                                          "longest common block first"])


def beam_with_end_kept(scores, log_probs, finished, beam_width):
    candidates = scores[:, None] + log_probs
    candidates[finished] = -np.inf
    candidates[finished, END] = scores[finished]  # the finished beam kept, with the end token again
    flat = candidates.reshape(-1)
    best = np.argsort(-flat)[:beam_width]
    return flat[best], best // log_probs.shape[1], best % log_probs.shape[1]


def beam_with_pad_probability(scores, log_probs, finished, beam_width):
    candidates = scores[:, None] + log_probs
    candidates[finished] = -np.inf
    candidates[finished, PAD] = scores[finished] + log_probs[finished, PAD]  # extended by PAD's log-probability
    flat = candidates.reshape(-1)
    best = np.argsort(-flat)[:beam_width]
    return flat[best], best // log_probs.shape[1], best % log_probs.shape[1]


def beam_in_float32(scores, log_probs, finished, beam_width):
    new, parents, tokens = beam_with(scores.astype(np.float32), log_probs.astype(np.float32), finished, beam_width)
    return new.astype(np.float32), parents, tokens


def test_beam_step_in_float32_passes(capsys):
    check_beam_step(beam_in_float32)
    assert "passed all 7 checks" in capsys.readouterr().out


def test_beam_step_finished_beam_with_the_end_token_is_not_called_extended():
    message = failure(check_beam_step, beam_with_end_kept)
    assert "your finished beam 1 kept its score but carries the end token" in message
    assert "extended" not in message


def test_beam_step_finished_beam_lowered_out_of_the_beam_is_not_only_called_dropped():
    message = failure(check_beam_step, beam_with_pad_probability)
    assert "finished beam is missing from the kept candidates" in message
    assert "not lowered by a log-probability" in message


def choose_first_of_the_tied(decode, sources, references, alphas):
    scores = {float(a): np.mean([o == r for o, r in zip(decode(sources, a), references)]) for a in alphas}
    return max(scores, key=scores.get), scores  # the first of the tied, in the order given


def choose_in_float32(decode, sources, references, alphas):
    alphas = np.asarray(alphas, dtype=np.float32)
    scores = {a: np.float32(np.mean([o == r for o, r in zip(decode(sources, float(a)), references)]))
              for a in alphas.tolist()}
    return max(scores, key=lambda a: (scores[a], -a)), scores


def test_choose_alpha_tie_broken_by_list_order_is_named():
    assert_named(check_choose_alpha, choose_first_of_the_tied, TITLE_75,
                 ["the first of the tied alphas in the order given", "you returned 0.75, expected 0.5"])


def test_choose_alpha_in_float32_passes(capsys):
    check_choose_alpha(choose_in_float32)
    assert "passed all 2 checks" in capsys.readouterr().out
