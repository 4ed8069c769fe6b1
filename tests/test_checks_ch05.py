"""utils.checks.ch05: each checker passes right answers, tolerates a stub and names each mistake.

The wrong answers are written the way a learner would write them, independently of the
checker's own list of suspects; each test asserts on the phrase of the diagnostic that names
that mistake.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from checkerfailures import failure

from utils.checks.ch05 import check_precision_recall_f1, check_word_start_labels
from utils.checks.ch05 import check_forecast_windows, check_normalise_splits


# ================================================================================================
# Exercises 5.3 and 5.4: sequence labelling
# ================================================================================================

# Exercise 5.3: word-start labels ----------------------------------------------------------------


def starts_by_loop(text, whitespace=str.isspace, first_is_start=True, mark="start"):
    """Walk the text once, as a learner might, remembering whether whitespace came just before."""
    chars, labels, after_gap = [], [], first_is_start
    for char in text:
        if whitespace(char):
            after_gap = True
            continue
        chars.append(char)
        labels.append(1 if after_gap else 0)
        after_gap = False
    if mark == "end":  # a word ends where the next character starts a word, or at the very end
        labels = labels[1:] + [1]
    return "".join(chars), labels


def starts_by_regex(text):
    words = re.findall(r"\S+", text)
    labels = np.concatenate([np.eye(1, len(word), dtype=bool)[0] for word in words])
    return list("".join(words)), labels  # a list of characters and booleans are fine too


def starts_split_on_space(text):
    labels = []
    for word in text.split(" "):
        labels += [1] + [0] * (len(word) - 1)
    return text.replace(" ", ""), labels


def starts_split_on_space_without_empty_words(text):
    labels = []
    for word in text.split(" "):
        if word:
            labels += [1] + [0] * (len(word) - 1)
    return text.replace(" ", ""), labels


def test_word_start_labels_alternative_correct_answers_pass(capsys):
    check_word_start_labels(starts_by_loop)
    check_word_start_labels(starts_by_regex)
    assert capsys.readouterr().out.count("passed all 5 checks") == 2


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (lambda text: starts_by_loop(text, mark="end"), ["last character of each word", "where a word starts"]),
        (lambda text: starts_by_loop(text, first_is_start=False),
         ["the first word has no start label", "very first character"]),
        (lambda text: (starts_by_loop(text)[0], [1 - v for v in starts_by_loop(text)[1]]),
         ["your labels are inverted"]),
        (lambda text: (starts_by_loop(text)[0], starts_by_loop(text)[1][1:] + [0]),
         ["shifted one step to the left"]),
        (lambda text: (starts_by_loop(text)[0], [0] + starts_by_loop(text)[1][:-1]),
         ["shifted one step to the right"]),
        (starts_split_on_space_without_empty_words,
         ["you removed only the spaces", "newlines and tabs", "text.split()"]),
        (lambda text: (text.split(), starts_by_loop(text)[1]), ["a list of strs that are words", "''.join(words)"]),
        (lambda text: (np.array(list(starts_by_loop(text)[0])), starts_by_loop(text)[1]),
         ["should be a str", "ndarray"]),
        (lambda text: (starts_by_loop(text)[0], [int(not c.isspace() and (i == 0 or text[i - 1].isspace()))
                                                 for i, c in enumerate(text)]),
         ["a label for every character of the original text", "whitespace included"]),
        (lambda text: starts_by_loop(text)[1], ["return the pair (characters, labels)"]),
        (lambda text: (starts_by_loop(text)[0], np.array(starts_by_loop(text)[1]) * 2),
         ["your labels for", "your values are 2 times the right ones", "first character of a word"]),
        (lambda text: (starts_by_loop(text)[0].upper(), starts_by_loop(text)[1]),
         ["your characters are 'ACATSAT'", "keep every character that is not whitespace"]),
    ],
)
def test_word_start_labels_mistakes_are_named(answer, phrases):
    message = failure(check_word_start_labels, answer)
    assert message.startswith("Exercise 5.3 (word-start labels from text): ")
    for phrase in phrases:
        assert phrase in message


def test_splitting_on_single_spaces_is_caught_at_the_double_space():
    # Without the newline problem (the first text has none), '' between two spaces still gets a label.
    def split_on_space_after_removing_newlines(text):
        chars, labels = starts_split_on_space(text.replace("\n", " ").replace("\t", " "))
        return chars, labels

    message = failure(check_word_start_labels, split_on_space_after_removing_newlines)
    assert "an empty word got a label" in message and "text.split()" in message


# Exercise 5.4: precision, recall and F1 of the rare class ---------------------------------------


def scores_by_counting(labels, predicted, mask=None, swap=False, positive=1, f1="harmonic", use_mask="both",
                       percent=False):
    """Count true positives by hand, as a learner might, with one thing changeable."""
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    mask = np.ones(labels.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if use_mask == "both":
        labels, predicted = labels[mask], predicted[mask]
    elif use_mask == "labels":
        labels, predicted = np.where(mask, labels, 0), predicted
    true_positive = np.sum((labels == positive) & (predicted == positive))
    precision = true_positive / max(np.sum(predicted == positive), 1)
    recall = true_positive / max(np.sum(labels == positive), 1)
    if swap:
        precision, recall = recall, precision
    if f1 == "harmonic":
        score = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    elif f1 == "mean":
        score = (precision + recall) / 2
    else:
        score = np.mean(labels == predicted)
    scale = 100 if percent else 1
    return float(scale * precision), float(scale * recall), float(scale * score)


def scores_with_plain_division(labels, predicted, mask=None):
    mask = np.ones(np.shape(labels), dtype=bool) if mask is None else np.asarray(mask)
    labels, predicted = np.asarray(labels)[mask].tolist(), np.asarray(predicted)[mask].tolist()
    hits = sum(1 for y, p in zip(labels, predicted) if y == p == 1)
    precision, recall = hits / sum(predicted), hits / sum(labels)
    return precision, recall, 2 * precision * recall / (precision + recall)


def scores_with_numpy_division(labels, predicted, mask=None):
    if mask is not None:
        labels, predicted = np.asarray(labels)[mask], np.asarray(predicted)[mask]
    hits = np.sum(labels * predicted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        precision, recall = hits / np.sum(predicted), hits / np.sum(labels)
        return [precision, recall, 2 * precision * recall / (precision + recall)]


def accuracy_three_times(labels, predicted, mask=None):
    keep = np.ones(np.shape(labels), bool) if mask is None else np.asarray(mask, bool)
    accuracy = float(np.mean(np.asarray(labels)[keep] == np.asarray(predicted)[keep]))
    return accuracy, accuracy, accuracy


def mask_as_integer_index(labels, predicted, mask=None):
    # Indexes with the mask's 0/1 values as positions (steps 0 and 1) instead of selecting with it.
    flat_labels, flat_predicted = np.ravel(labels), np.ravel(predicted)
    if mask is not None:
        where = np.ravel(mask).astype(int)
        flat_labels, flat_predicted = flat_labels[where], flat_predicted[where]
    hits = np.sum((flat_predicted == 1) & (flat_labels == 1))
    precision = hits / max(np.sum(flat_predicted == 1), 1)
    recall = hits / max(np.sum(flat_labels == 1), 1)
    return float(precision), float(recall), float(2 * precision * recall / (precision + recall) if hits else 0.0)


def test_unmasked_case_hint_does_not_mention_the_mask():
    message = failure(check_precision_recall_f1, lambda *a: (0.0, 0.0, 0.0))
    assert "every step real" in message and "mask is True" not in message


def test_precision_recall_f1_alternative_correct_answers_pass(capsys):
    check_precision_recall_f1(scores_by_counting)
    check_precision_recall_f1(lambda *args: list(scores_by_counting(*args)))
    assert capsys.readouterr().out.count("passed all 8 checks") == 2


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (lambda *a: scores_by_counting(*a, swap=True), ["precision and recall are swapped"]),
        (lambda *a: scores_by_counting(*a, positive=0), ["scores of the common class (label 0)"]),
        (lambda *a: scores_by_counting(*a, f1="accuracy"), ["your F1 is the per-step accuracy", "harmonic mean"]),
        (lambda *a: scores_by_counting(*a, f1="mean"), ["arithmetic mean of precision and recall"]),
        (lambda *a: scores_by_counting(*a, use_mask="none"), ["the mask is ignored", "padded steps were scored"]),
        (lambda *a: scores_by_counting(*a, use_mask="labels"),
         ["applied to the labels but not to the predictions", "false positive"]),
        (lambda *a: scores_by_counting(*a, percent=True), ["you returned percentages"]),
        (scores_with_plain_division, ["raised ZeroDivisionError", "precision is 0 by convention"]),
        (scores_with_numpy_division, ["nothing to count is 0", "no predicted 1: precision 0"]),
        (lambda *a: scores_by_counting(*a)[2], ["return three numbers (precision, recall, f1)", "float"]),
        (lambda *a: (scores_by_counting(*a)[0], scores_by_counting(*a)[1], 0.7),
         ["your F1 on", "Your precision and recall are right"]),
        (lambda *a: (0.0, 0.0, 0.0),
         ["your precision on", "largest difference", "Precision = hits / steps predicted 1"]),
        (accuracy_three_times, ["all three numbers are the per-step accuracy", "Precision = hits / steps predicted 1"]),
        (mask_as_integer_index, ["your precision on one row of 8 steps, every step real", "predicted 1"]),
    ],
)
def test_precision_recall_f1_mistakes_are_named(answer, phrases):
    message = failure(check_precision_recall_f1, answer)
    assert message.startswith("Exercise 5.4 (precision, recall and F1 of the rare class): ")
    for phrase in phrases:
        assert phrase in message


# ================================================================================================
# Exercises 5.1 and 5.2: forecasting (normalisation on train only; windows with a multi-step target)
# ================================================================================================

# Exercise 5.2: windows with a multi-step target -------------------------------------------------


def windows_by_loop(inputs, target, window, horizon, *, first=0, last_extra=1, check="separate", skip=True,
                    transpose=False, single=False, reverse=False, from_inputs=False):
    """Cut windows one by one, as a learner might; keyword arguments switch in one mistake each.

    ``first`` moves the first target (0 is right, -1 puts it inside the window); ``last_extra``
    0 drops the last window; ``check`` says where to look for NaN: "separate" (right), "rows"
    (every channel over inputs and targets) or "inputs" (the inputs only).
    """
    inputs, target = np.asarray(inputs, dtype=float), np.asarray(target, dtype=float)
    if inputs.ndim == 1:
        inputs = inputs[:, None]
    source = inputs[:, 0] if from_inputs else target
    xs, ys = [], []
    for i in range(len(target) - window - horizon + last_extra - max(first, 0)):
        x = inputs[i : i + window]
        begin = i + window + first
        y = source[begin : begin + horizon] if not single else source[i + window + horizon - 1]
        if skip:
            if check == "separate":
                bad = np.isnan(x).any() or np.isnan(target[i + window : i + window + horizon]).any()
            elif check == "rows":
                bad = np.isnan(inputs[i : i + window + horizon]).any() or np.isnan(target[i : i + window + horizon]).any()
            else:
                bad = np.isnan(x).any()
            if bad:
                continue
        xs.append(x.T if transpose else x)
        ys.append(y[::-1] if reverse else y)
    return np.array(xs), np.array(ys)


def windows_after_dropping_gaps(inputs, target, window, horizon):
    """Remove the missing rows first, then cut every window: the classic way to bridge a gap."""
    inputs = np.asarray(inputs)
    keep = ~np.isnan(inputs).any(axis=1) & ~np.isnan(target)
    return windows_by_loop(inputs[keep], np.asarray(target)[keep], window, horizon)


def windows_by_stride_tricks(inputs, target, window, horizon):
    """A right answer written with sliding_window_view and a validity mask."""
    inputs = np.asarray(inputs, dtype=float).reshape(len(target), -1)
    views = np.lib.stride_tricks.sliding_window_view(inputs, window, axis=0)  # (T - w + 1, C, w)
    futures = np.lib.stride_tricks.sliding_window_view(np.asarray(target, dtype=float), horizon)
    n = len(target) - window - horizon + 1
    X, Y = views[:n].transpose(0, 2, 1), futures[window : window + n]
    ok = ~np.isnan(X).any(axis=(1, 2)) & ~np.isnan(Y).any(axis=1)
    return X[ok], Y[ok]


def test_forecast_windows_alternative_correct_answers_pass(capsys):
    check_forecast_windows(windows_by_loop)
    check_forecast_windows(windows_by_stride_tricks)
    check_forecast_windows(lambda *args: list(windows_by_loop(*args)))
    assert capsys.readouterr().out.count("passed all 8 checks") == 3


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (lambda *a: windows_by_loop(*a, first=-1), ["the target is inside its window", "gives the model the answer"]),
        (lambda *a: windows_by_loop(*a, first=1), ["off by +1 step", "the first target is step 3, you gave step 4"]),
        (lambda *a: windows_by_loop(*a, first=2), ["off by +2 steps"]),
        (lambda i, t, w, h: windows_by_loop(i, t, w, h, first=h - 1), ["start horizon - 1 = 2 steps late", "chapter 1"]),
        (lambda *a: windows_by_loop(*a, single=True), ["one column per forecast step", "(n, 1)"]),
        (lambda i, t, w, h: windows_by_loop(i, t, w, h, single=h > 1),
         ["Y has one value per window, but horizon=3 asks for the next 3 steps"]),
        (lambda *a: windows_by_loop(*a, reverse=True), ["in reverse order"]),
        (lambda *a: windows_by_loop(*a, last_extra=0), ["the last window is missing", "final step 11"]),
        (lambda *a: windows_by_loop(*a, transpose=True), ["time first and channels last"]),
        (lambda *a: windows_by_loop(*a, skip=False), ["contain NaN", "must be skipped"]),
        (lambda *a: windows_by_loop(*a, check="inputs"), ["contain NaN"]),
        (windows_after_dropping_gaps, ["jumps over a gap", "reads steps [7, 8, 10]", "glues the hours"]),
        (lambda *a: windows_by_loop(*a, check="rows"),
         ["you skipped the window that starts at step 3", "have no missing value"]),
        (lambda *a: windows_by_loop(*a, from_inputs=True), ["Y holds values of the inputs, not of `target`"]),
        (lambda i, t, w, h: (windows_by_loop(i, t, w, h)[0][:, :, :1], windows_by_loop(i, t, w, h)[1]),
         ["every window keeps all the input channels"]),
        (lambda i, t, w, h: (*windows_by_loop(i, t, w, h), np.arange(3)), ["return the pair (X, Y)"]),
        (lambda i, t, w, h: tuple(part[::-1] for part in windows_by_loop(i, t, w, h)), ["not in time order"]),
        (lambda i, t, w, h: (windows_by_loop(i, t, w, h)[0], windows_by_loop(i, t, w, h)[1][:-1]),
         ["X holds 9 windows but Y 8 targets"]),
    ],
    ids=["target inside the window", "off by one", "off by two", "chapter 1's horizon", "1-D Y",
         "one value instead of horizon", "reversed steps", "last window missing", "transposed windows",
         "gaps kept", "missing targets kept", "gap bridged", "too many skipped", "target read from inputs",
         "channels dropped", "three results", "reverse time order", "Y shorter than X"],
)
def test_forecast_windows_mistakes_are_named(answer, phrases):
    message = failure(check_forecast_windows, answer)
    assert message.startswith("Exercise 5.2 (windows with a multi-step target): ")
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} not in {message!r}"


def test_forecast_windows_mistake_messages_say_which_case():
    message = failure(check_forecast_windows, windows_after_dropping_gaps)
    assert "missing hour at step 9" in message


# Exercise 5.1: normalisation fitted on train only -----------------------------------------------


def normalise_with(train, validation, test, *, fit_on="train", own=False, axis=0, nan_aware=True, ddof=0,
                   constant_guard=True, keepdims=False):
    """Fit mean and std and apply them, as a learner might; keyword arguments switch in one mistake."""
    mean_of, std_of = (np.nanmean, np.nanstd) if nan_aware else (np.mean, np.std)
    data = {"train": train, "all": np.vstack([train, validation, test]), "test": test,
            "train+validation": np.vstack([train, validation])}[fit_on]

    def stats(x):
        mean = mean_of(x, axis=axis, keepdims=keepdims)
        std = std_of(x, axis=axis, ddof=ddof, keepdims=keepdims)
        return mean, (np.where(std == 0, 1.0, std) if constant_guard else std)

    mean, std = stats(data)
    if axis == 1:
        return train, validation, test, mean, std  # never gets as far as scaling
    scaled = [(split - (stats(split)[0] if own else mean)) / (stats(split)[1] if own else std)
              for split in (train, validation, test)]
    return (*scaled, mean, std)


def normalise_then_change(change):
    """The right normalisation, with ``change(x, mean, std)`` applied to each split instead."""
    def answer(train, validation, test):
        _, _, _, mean, std = normalise_with(train, validation, test)
        return (*(change(split, mean, std) for split in (train, validation, test)), mean, std)

    return answer


def normalise_dropping_gaps(train, validation, test):
    train, validation, test = (split[~np.isnan(split).any(axis=1)] for split in (train, validation, test))
    return normalise_with(train, validation, test)


def test_normalise_splits_alternative_correct_answers_pass(capsys):
    check_normalise_splits(normalise_with)
    check_normalise_splits(lambda *splits: normalise_with(*splits, ddof=1))  # pandas' .std()
    check_normalise_splits(lambda *splits: normalise_with(*splits, keepdims=True))
    check_normalise_splits(lambda *splits: list(normalise_with(*splits)))
    assert capsys.readouterr().out.count("passed all 3 checks") == 4


@pytest.mark.parametrize(
    ("answer", "phrases"),
    [
        (lambda *s: normalise_with(*s, fit_on="all"), ["fitted on all the data", "leaks the future"]),
        (lambda *s: normalise_with(*s, fit_on="test"), ["fitted on the test split"]),
        (lambda *s: normalise_with(*s, fit_on="train+validation"), ["fitted on train and validation together"]),
        (lambda *s: normalise_with(*s, own=True), ["validation with its own mean and std", "training statistics"]),
        (lambda *s: normalise_with(*s, axis=1), ["one value per row (time step)", "axis=0"]),
        (lambda *s: normalise_with(*s, axis=None), ["one number for all channels", "one mean per channel"]),
        (lambda *s: normalise_with(*s, nan_aware=False), ["np.nanmean and np.nanstd"]),
        (lambda *s: normalise_with(*s, constant_guard=False), ["channel 1 is constant in training", "std of 1"]),
        (lambda t, v, s: normalise_with(t, v, s)[:3] + normalise_with(t, v, s)[:2:-1],
         ["you returned std before mean"]),
        (lambda t, v, s: normalise_with(t, v, s)[:4] + (normalise_with(t, v, s)[4] ** 2,), ["std is the variance"]),
        (normalise_then_change(lambda x, mean, std: x - mean / std), ["operator precedence", "(train - mean) / std"]),
        (normalise_then_change(lambda x, mean, std: x - mean), ["centred but not scaled"]),
        (normalise_then_change(lambda x, mean, std: x / std), ["scaled but not centred"]),
        (normalise_then_change(lambda x, mean, std: (x - mean) * std), ["you multiplied by std"]),
        (normalise_then_change(lambda x, mean, std: np.nan_to_num((x - mean) / std)), ["must stay NaN"]),
        (normalise_dropping_gaps, ["skips every row in which any channel is missing", "np.nanmean(train, axis=0)"]),
        (lambda t, v, s: [part[~np.isnan(part).any(axis=1)] for part in normalise_with(t, v, s)[:3]]
         + list(normalise_with(t, v, s)[3:]), ["you dropped the rows with missing values", "aligned"]),
        (lambda t, v, s: normalise_with(t, v, s, fit_on="all")[:3] + normalise_with(t, v, s)[3:],
         ["train_z was normalised with statistics fitted on all the data", "that you return"]),
        (lambda *s: normalise_with(*s)[:4], ["return five things", "tuple of 4"]),
    ],
    ids=["fitted on all", "fitted on test", "fitted on train+validation", "own statistics per split",
         "statistics per row", "one statistic for all channels", "NaN not skipped", "constant channel",
         "mean and std swapped", "variance", "precedence", "not scaled", "not centred", "multiplied",
         "NaN filled", "statistics without incomplete rows", "rows dropped", "returned other statistics",
         "four results"],
)
def test_normalise_splits_mistakes_are_named(answer, phrases):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # wrong answers divide by zero or take NaN means
        message = failure(check_normalise_splits, answer)
    assert message.startswith("Exercise 5.1 (normalisation fitted on train only): ")
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} not in {message!r}"


# ================================================================================================
# Every input form the exercises allow, inputs left alone, empty results, unfinished answers
# ================================================================================================


def windows_two_dimensional_only(inputs, target, window, horizon):
    if np.ndim(inputs) == 1:
        raise NotImplementedError("one channel: later")
    return windows_by_loop(inputs, target, window, horizon)


def windows_without_a_channel_axis(inputs, target, window, horizon):
    X, Y = windows_by_loop(inputs, target, window, horizon)
    return (X[:, :, 0] if np.ndim(inputs) == 1 else X), Y


def windows_reshape_the_callers_array(inputs, target, window, horizon):
    if inputs.ndim == 1:
        inputs.shape = (len(inputs), 1)  # changes the caller's array, unlike inputs.reshape(-1, 1)
    return windows_by_loop(inputs, target, window, horizon)


def windows_targets_as_step_numbers(inputs, target, window, horizon):
    X, Y = windows_by_stride_tricks(inputs, target, window, horizon)
    starts = complete_starts(inputs, target, window, horizon)
    return X, (starts[:, None] + window + np.arange(horizon)).astype(float)  # the indices, never looked up


def windows_positions_unless_values_are_positions(inputs, target, window, horizon, inputs_too=False):
    """Right on the series whose values are their step numbers; step numbers everywhere else."""
    X, Y = windows_by_stride_tricks(inputs, target, window, horizon)
    values = np.asarray(inputs)[~np.isnan(inputs)]
    if np.array_equal(values, np.round(values)):  # the cases whose values are step numbers
        return X, Y
    starts = complete_starts(inputs, target, window, horizon)
    if inputs_too:
        X = np.repeat((starts[:, None] + np.arange(window))[:, :, None], X.shape[2], axis=2).astype(float)
        return X, Y
    return X, (starts[:, None] + window + np.arange(horizon)).astype(float)


def complete_starts(inputs, target, window, horizon):
    inputs = np.asarray(inputs, dtype=float).reshape(len(target), -1)
    return np.array([i for i in range(len(target) - window - horizon + 1)
                     if not (np.isnan(inputs[i:i + window]).any() or np.isnan(target[i + window:i + window + horizon]).any())])


def windows_none_kept(inputs, target, window, horizon):
    channels = 1 if np.ndim(inputs) == 1 else np.shape(inputs)[1]
    return np.zeros((0, window, channels)), np.zeros((0, horizon))


def normalise_in_place(train, validation, test):
    mean = np.nanmean(train, axis=0)
    std = np.nanstd(train, axis=0)
    std[std == 0] = 1.0
    for split in (train, validation, test):
        split -= mean
        split /= std
    return train, validation, test, mean, std


def scores_for_mask_none_only(labels, predicted, mask=None):
    if mask is not None:
        raise NotImplementedError("padded batches: later")
    return scores_by_counting(labels, predicted)


def scores_with_inverted_mask(labels, predicted, mask=None):
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    if mask is not None:
        padding = np.asarray(mask, dtype=bool)  # read as "where the padding is"
        labels, predicted = labels[~padding], predicted[~padding]
    return scores_by_counting(labels, predicted)


def scores_with_inverted_mask_with_padding(labels, predicted, mask=None):
    # Inverted only where there is padding: an all-true mask is read the right way by chance.
    if mask is not None and not np.all(mask):
        return scores_with_inverted_mask(labels, predicted, mask)
    return scores_by_counting(labels, predicted, mask)


def scores_with_inverted_mask_everywhere(labels, predicted, mask=None):
    keep = np.ones(np.shape(labels), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    return scores_by_counting(np.asarray(labels)[~keep], np.asarray(predicted)[~keep])


def scores_mask_on_predictions_only(labels, predicted, mask=None):
    if mask is not None:
        predicted = np.where(mask, predicted, 0)
    return scores_by_counting(labels, predicted)


def scores_mask_required(labels, predicted, mask):
    return scores_by_counting(labels, predicted, mask)


def scores_mask_none_as_false(labels, predicted, mask=None):
    keep = np.asarray(mask, dtype=bool)  # None becomes False: no step is kept
    return scores_by_counting(np.asarray(labels)[keep], np.asarray(predicted)[keep])


@pytest.mark.parametrize(
    ("check", "answer", "phrases"),
    [
        (check_forecast_windows, windows_two_dimensional_only,
         ["unfinished", "NotImplementedError on 1-D inputs of shape (14,)", "the 6 earlier cases passed"]),
        (check_forecast_windows, windows_without_a_channel_axis,
         ["with 1-D inputs (one channel) each window still has its channels axis", "(n, 3, 1)"]),
        (check_forecast_windows, windows_reshape_the_callers_array, ["changed its input `inputs` in place"]),
        (check_forecast_windows, windows_targets_as_step_numbers,
         ["not of `target`", "step numbers that were never looked up in `target`"]),
        (check_forecast_windows, windows_positions_unless_values_are_positions,
         ["Y holds step numbers", "not the values of `target`", "random readings"]),
        (check_forecast_windows, lambda *a: windows_positions_unless_values_are_positions(*a, inputs_too=True),
         ["X holds step numbers", "not the readings", "random readings"]),
        (check_forecast_windows, windows_none_kept, ["returned no windows", "9 windows there touch no missing value"]),
        (check_normalise_splits, normalise_in_place, ["changed its input `train` in place"]),
        (check_precision_recall_f1, scores_for_mask_none_only,
         ["unfinished", "NotImplementedError on one row of 8 steps, every step real", "earlier case passed"]),
        (check_precision_recall_f1, scores_with_inverted_mask,
         ["one row of 8 steps, every step real", "an inverted mask (labels[~mask]) keeps nothing"]),
        (check_precision_recall_f1, scores_with_inverted_mask_with_padding,
         ["the mask is inverted", "labels[mask], not labels[~mask]", "a padded batch of 2 rows of 6 steps"]),
        (check_precision_recall_f1, scores_with_inverted_mask_everywhere,
         ["mask=None", "Without a mask every step counts; you counted none", "inverted"]),
        (check_precision_recall_f1, scores_mask_on_predictions_only,
         ["applied to the predictions but not to the labels"]),
        (check_precision_recall_f1, scores_mask_required,
         ["raised TypeError", "'mask'", "no mask argument"]),
        (check_precision_recall_f1, scores_mask_none_as_false,
         ["every step real (mask=None)", "you counted none"]),
    ],
)
def test_newly_caught_mistakes_are_named(check, answer, phrases):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        message = failure(check, answer)
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} not in {message!r}"


def test_labels_only_mask_is_not_named_an_inverted_mask():
    message = failure(check_precision_recall_f1, lambda *a: scores_by_counting(*a, use_mask="labels"))
    assert "applied to the labels but not to the predictions" in message and "inverted" not in message


# Issue 31: shares computed in float32 pass


def test_precision_recall_f1_in_float32_passes(capsys):
    check_precision_recall_f1(lambda *a: tuple(np.float32(v) for v in scores_by_counting(*a)))
    assert "passed" in capsys.readouterr().out
