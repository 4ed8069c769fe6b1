"""Quality targets: what a target is, how it is checked, and each chapter's list.

:func:`utils.results.save` checks them at the chapter's end.

A target names a figure of the chapter's results, a comparison and a threshold (a number or
another figure), and says in words what it shows. Targets marked ``full_only=False`` check that
learning happens and hold in quick mode too; the others are the chapter's claims, checked in
full mode, where the notebook trains to its stated budget. Parity checks add their own targets
(see :class:`utils.checks.parity.ParityLog`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from utils.checks.parity import ParityLog

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class TargetMissed(AssertionError):
    """A chapter did not reach one of its stated targets."""


@dataclass(frozen=True)
class Target:
    """A quality target: ``metric op value``, where ``value`` is a number or another metric."""

    metric: str
    op: str
    value: float | str
    why: str
    full_only: bool = True

    def threshold(self, metrics: Mapping[str, float]) -> float:
        """The number the metric is compared with."""
        if isinstance(self.value, str):
            return float(metrics[self.value])
        return float(self.value)

    def met(self, metrics: Mapping[str, float]) -> bool:
        """Whether ``metrics`` reach this target."""
        if self.op not in _OPERATORS:
            raise ValueError(f"unknown comparison {self.op!r}; use one of {sorted(_OPERATORS)}.")
        for name in (self.metric, self.value):
            if isinstance(name, str) and name not in metrics:
                raise KeyError(f"target names metric {name!r}, which is not among {sorted(metrics)}.")
        return _OPERATORS[self.op](float(metrics[self.metric]), self.threshold(metrics))

    def describe(self) -> str:
        """The target in words."""
        return f"{self.metric} {self.op} {self.value}"


def check_targets(metrics: Mapping[str, float], targets: Sequence[Target], mode: str) -> list[dict[str, object]]:
    """Check the targets that apply in ``mode``; raise :class:`TargetMissed` listing every miss."""
    report: list[dict[str, object]] = []
    missed: list[str] = []
    for target in targets:
        if target.full_only and mode != "full":
            continue
        met = target.met(metrics)
        report.append({"target": target.describe(), "why": target.why, "met": met})
        if not met:
            missed.append(
                f"- {target.describe()} (got {float(metrics[target.metric]):.4g}, "
                f"threshold {target.threshold(metrics):.4g}): {target.why}"
            )
    if missed:
        raise TargetMissed(f"{len(missed)} target(s) missed in {mode} mode:\n" + "\n".join(missed))
    return report


def parity_targets(parity: ParityLog) -> list[Target]:
    """One target per recorded parity check: its difference stays within its tolerance."""
    return [Target(f"max difference: {name}", "<=", parity.tolerances[name],
                   "float32 agreement with the reference", full_only=False) for name in parity]


# A state that does not depend on an input moves by float32 rounding at most; a real
# dependence, even across 24 steps of an untrained network, is about a thousand times larger.
NO_DEPENDENCE = 1e-6


def chapter_1() -> list[Target]:
    """Chapter 1: feed-forward baselines on temperatures and text."""
    return [
        # Learning happens, in both modes.
        Target("time-delay MLP MAE, 24 h window (°C)", "<", "mean-forecast MAE, 6 h ahead (°C)",
               "a trained MLP must beat predicting the mean", full_only=False),
        Target("concatenation, L=4 (bits/char)", "<", "uniform guess (bits/char)",
               "a trained character model must beat a uniform guess", full_only=False),
        # The chapter's claims, in full mode.
        Target("time-delay MLP MAE, 24 h window (°C)", "<", "persistence MAE, 6 h ahead (°C)",
               "a window that reaches yesterday beats persistence"),
        Target("time-delay MLP MAE, 24 h window (°C)", "<", "time-delay MLP MAE, 6 h window (°C)",
               "the 6 h window cannot see the same hour yesterday"),
        Target("time-delay MLP MAE, 24 h window (°C)", "<", 0.5, "several-fold below persistence"),
        Target("n-gram, best order (bits/char)", "<", 2.4, "an n-gram model of order 3 or so"),
        Target("concatenation, L=4 (bits/char)", "<", "same network every step (bits/char)", "history helps"),
        Target("sum, L=16 (bits/char)", ">", "sum, L=4 (bits/char)", "summing more characters blurs the recent ones"),
    ]


def chapter_2() -> list[Target]:
    """Chapter 2: recurrent networks from scratch."""
    return [
        # Learning happens, in both modes.
        Target("char RNN training loss, last epoch (bits/char)", "<", "char RNN loss before training (bits/char)",
               "training lowers the loss", full_only=False),
        Target("char RNN test bits/char", "<", "uniform guess bits/char",
               "a trained character model beats a uniform guess", full_only=False),
        Target("JapaneseVowels test accuracy, bidirectional RNN", ">", "JapaneseVowels majority-class accuracy",
               "the speaker model beats always guessing the largest class", full_only=False),
        Target("largest change of s_t from a later input", "<=", NO_DEPENDENCE,
               "no state depends on a later input (float32 rounding at most)", full_only=False),
        Target("smallest change of s_t from an earlier input", ">", 100 * NO_DEPENDENCE,
               "every earlier input reaches s_t, far above rounding", full_only=False),
        Target("parameter count change from T=10 to T=1000", "<=", 0.0, "the same weights at every step",
               full_only=False),
        # The chapter's claims, in full mode.
        Target("JapaneseVowels test accuracy, bidirectional RNN", ">=", 0.95,
               "at least 95 % of the 370 official test recordings"),
        Target("JapaneseVowels test accuracy, bidirectional RNN", ">", "JapaneseVowels test accuracy, average frame",
               "reading the frames in order beats their average"),
        Target("char RNN test bits/char", "<", "chapter 1 concatenation L=4 bits/char (its results file)",
               "a recurrent state beats a fixed window of 4 characters"),
    ]


def chapter_3(shortest: str, longest: str, compare_length: int) -> list[Target]:
    """Chapter 3: training recurrent networks.

    ``shortest`` and ``longest`` name the adding-problem figures at the shortest and longest
    gap; ``compare_length`` is the length at which the three recurrent matrices are compared.
    """
    return [
        # Learning happens, in both modes.
        Target(shortest, "<", "adding problem, predicting the mean (MSE)",
               "on the shortest sequences the RNN must beat predicting the mean", full_only=False),
        Target("clipped SGD run: last-20 mean / first loss", "<", 1.0, "the clipped run's loss falls",
               full_only=False),
        Target("identity activation: largest |slope - log10 rho|", "<", 0.01,
               "with f' = 1 the measured slope is log10 of the spectral radius", full_only=False),
        # The chapter's claims, in full mode.
        Target("BPTT vs autodiff, largest relative difference", "<", 1e-5, "the NumPy BPTT equals autodiff"),
        Target("adding problem, MSE longest / shortest T", ">", 5.0, "the simple RNN's error grows with the gap"),
        Target(longest, ">", shortest, "the longest gap is the hardest"),
        Target("unclipped SGD run reached NaN (1 = yes)", ">=", 1.0, "without clipping the run explodes"),
        Target("clipped SGD run: last-20 mean / first loss", "<", 0.05, "with clipping the same run trains"),
        Target(f"adding problem T={compare_length}, identity W, ReLU (IRNN) (test MSE)", "<",
               f"adding problem T={compare_length}, random W, tanh (test MSE)",
               "the identity start with ReLU learns the long task better than a random start"),
    ]


def chapter_4(shortest: int, middle: int) -> list[Target]:
    """Chapter 4: LSTM and GRU; ``shortest`` and ``middle`` are adding-problem lengths."""
    gated = ("LSTM", "GRU")
    return [
        # Learning happens, in both modes.
        *[Target(f"adding problem T={shortest}, {kind} (test MSE)", "<", "adding problem, predicting the mean (MSE)",
                 f"the {kind} beats predicting the mean on the shortest sequences", full_only=False)
          for kind in gated],
        Target("adding problem, last validation MSE of the LSTM (shortest T)", "<",
               "adding problem, first validation MSE of the LSTM (shortest T)", "the LSTM's error falls",
               full_only=False),
        Target("copy task, best of the three models (test accuracy per symbol)", ">", "copy task, guessing (accuracy)",
               "some model beats guessing on the copy task", full_only=False),
        Target("parameter formulas vs count_params(), largest difference", "<=", 0.0,
               "the formulas give Keras's counts", full_only=False),
        # The chapter's claims, in full mode.
        *[Target(f"adding problem T={middle}, {kind} (test MSE)", "<", 0.01,
                 f"the {kind} solves the adding problem at T={middle}") for kind in gated],
        *[Target(f"adding problem T={middle}, SimpleRNN (test MSE)", ">", f"adding problem T={middle}, {kind} (test MSE)",
                 f"the {kind} beats the simple RNN at T={middle}") for kind in gated],
        Target("probe: autodiff vs NumPy Jacobian product, largest relative difference", "<", 1e-3,
               "the probe is chapter 3's Jacobian product"),
    ]


def chapter_5(majority_tag: str) -> list[Target]:
    """Chapter 5: forecasting, classification and labelling on real data.

    ``majority_tag`` is the name of the labelling baseline that never predicts a word start.
    """
    vowels = "vowels, bidirectional GRU, masked (mean of seeds) (test accuracy)"
    return [
        # Learning happens, in both modes.
        Target(vowels, ">", "vowels, most common test speaker (test accuracy)",
               "the classifier beats always answering the commonest speaker", full_only=False),
        Target("labelling, bidirectional GRU (validation loss after training)", "<",
               "labelling, bidirectional GRU (validation loss before training)", "the tagger's loss falls",
               full_only=False),
        Target("labelling, bidirectional GRU (accuracy)", ">", f"labelling, {majority_tag} (accuracy)",
               "the tagger beats never predicting a word start"),
        Target("forecast 24 h mean, best recurrent (test MAE °C)", "<", "forecast 24 h mean, seasonal naive (test MAE °C)",
               "a recurrent forecaster beats the same hour yesterday", full_only=False),
        # The chapter's claims, in full mode.
        Target("forecast 1 h, best recurrent (test MAE °C)", "<", "forecast 1 h, best baseline (test MAE °C)",
               "one hour ahead the best recurrent model beats every baseline (mean of three seeds)"),
        Target("forecast 24 h mean, best recurrent (test MAE °C)", "<", "forecast 24 h mean, persistence (test MAE °C)",
               "a day ahead the recurrent model beats persistence"),
        Target(vowels, ">=", 0.98, "JapaneseVowels: at least 0.98, mean of three seeds"),
        Target("vowels, longest training of one seed (s)", "<=", 120.0, "each seed trains within 2 minutes"),
        Target("vowels, masked model, test padded to 60 (test accuracy)", ">",
               "vowels, no mask model, test padded to 60 (test accuracy)",
               "the mask makes the classifier immune to unseen padding"),
        Target(vowels, ">", "vowels, logistic regression on the mean frame (test accuracy)",
               "order matters: the GRU beats the mean frame"),
        Target("motions, GRU (mean of seeds) (test accuracy)", ">=", 0.85,
               "BasicMotions: the GRU recognises the activities (chance is 0.25)"),
        Target("labelling, bidirectional GRU (f1)", ">", "labelling, GRU (f1)", "reading both ways finds more word starts"),
        Target("labelling, GRU (f1)", ">", 0.7, "the one-way tagger finds most word starts"),
    ]



def chapter_6() -> list[Target]:
    """Chapter 6: language models and generation."""
    return [
        # Learning happens, in both modes.
        Target("LSTM (best validation bits/char)", "<", "LSTM (first validation bits/char)",
               "the LSTM's validation score falls with training", full_only=False),
        Target("best recurrent (test bits/char)", "<", "uniform guess (test bits/char)",
               "a trained language model beats the uniform guess", full_only=False),
        Target("Kneser-Ney, order chosen on validation (test bits/char)", "<", "n-gram order 3, add-alpha (test bits/char)",
               "Kneser-Ney smoothing beats adding alpha to every count", full_only=False),
        Target("tunes: real test, rhythm validity", ">", "tunes: shuffled, rhythm validity",
               "rhythm validity tells real tunes from shuffled ones", full_only=False),
        # The chapter's claims, in full mode.
        Target("LSTM (test bits/char)", "<=", 1.85, "the LSTM reaches 1.85 bits per character or better"),
        Target("best recurrent (test bits/char)", "<", "n-gram order 3, add-alpha (test bits/char)",
               "a recurrent language model beats chapter 1's add-alpha n-gram"),
        Target("tunes: LSTM, T = 1.0, rhythm validity", ">", "tunes: shuffled, rhythm validity",
               "tunes drawn from the tune model's own distribution (temperature 1) keep the meter better than "
               "shuffled tunes: the model learned some of it"),
        Target("tunes: LSTM, T = 1.0, rhythm validity", ">", "tunes: Kneser-Ney, T = 1.0, rhythm validity",
               "at temperature 1 the LSTM's tunes keep the meter better than those of a Kneser-Ney model of the tunes"),
        Target("Kneser-Ney, counting the test text as it reads (test bits/char)", "<",
               "Kneser-Ney, order chosen on validation (test bits/char)",
               "the n-gram that keeps counting as it reads beats the same n-gram with fixed counts"),
        Target("re-reading the prefix (ms per character)", ">", "stateful generation (ms per character)",
               "carrying the state is cheaper than re-reading the prefix"),
        Target("mixture of the LSTM and Kneser-Ney (test bits/char)", "<", "LSTM (test bits/char)",
               "the mixture of the LSTM and Kneser-Ney beats the LSTM"),
        Target("mixture of the LSTM and Kneser-Ney (test bits/char)", "<",
               "Kneser-Ney, order chosen on validation (test bits/char)",
               "the mixture of the LSTM and Kneser-Ney beats Kneser-Ney"),
        Target("adaptive mixture (test bits/char)", "<", "mixture of the LSTM and Kneser-Ney (test bits/char)",
               "the mixture of the two models that learn as they read beats the mixture of the fixed ones"),
        Target("data-size curve, all: Kneser-Ney (test bits/char)", "<", "data-size curve, 1/8: Kneser-Ney (test bits/char)",
               "the data-size curve is recorded, and Kneser-Ney gains from eight times the training text"),
        Target("data-size curve, all: LSTM(64) (test bits/char)", "<", "data-size curve, 1/8: LSTM(64) (test bits/char)",
               "the data-size curve is recorded, and the small LSTM gains from eight times the training text"),
        Target("repeat length 64-255: Kneser-Ney (test bits/char)", "<", "repeat length 0-3: Kneser-Ney (test bits/char)",
               "the repeat-length figure is recorded, and counting is cheaper where the context repeated a long stretch"),
    ]


def chapter_7() -> list[Target]:
    """Chapter 7: encoder-decoders on the number-translation task."""
    return [
        # Learning happens, in both modes; beam search with one beam is greedy decoding.
        Target("Cho GRU (best validation loss)", "<", "Cho GRU (first training loss)",
               "the GRU encoder-decoder learns", full_only=False),
        Target("best model, teacher-forced character accuracy", ">", "most frequent target token (share)",
               "the decoder beats always writing the most frequent token", full_only=False),
        Target("beam width 1 outputs differ from greedy's (inputs)", "<=", 0.0,
               "beam search with one beam is greedy decoding, on every input", full_only=False),
        # What the chapter teaches about measuring, in both modes.
        Target("best model, greedy exact match against all teacher-forced argmaxes right (pairs that disagree, share)",
               "<=", 0.01, "greedy decoding is exact when, and only when, every teacher-forced argmax is right: "
               "per-character accuracy and exact match differ by compounding (float32 near-ties may flip 1 %)",
               full_only=False),
        Target("length split: held-out structures seen in training (share)", ">=", 1.0,
               "the length split tests length only: every held-out number's structure occurs in training",
               full_only=False),
        Target("length split: shortest held-out source minus longest training source (characters)", ">=", 1.0,
               "the held-out sources are longer than every training source", full_only=False),
        Target("swapped pairs (share of test pairs)", ">=", 0.5,
               "the exposure-bias measurement swaps a word in at least half of the test pairs", full_only=False),
        # The chapter's claims, in full mode.
        Target("best model, exact match, shortest bin", ">=", 0.90,
               "at least 90 % of the shortest inputs translated exactly (at 5 epochs the GRU is still improving: "
               "0.91-0.99 across backends)"),
        Target("best model, drop from the shortest to the longest bin", ">=", 0.10,
               "at the chapter's budget the fixed-size summary loses long inputs: at least 10 points fewer exact on "
               "the longest bin"),
        Target("best model, exact match: shortest bin's lower end minus longest bin's upper end", ">", 0.0,
               "the drop with length is beyond the noise: the two bins' 95 % intervals do not overlap"),
        Target("beams of width 2-8 that score below greedy (share of inputs)", "<=", 0.01,
               "beam search finds an output the model scores at least as high as greedy's, on 99 % of inputs "
               "or more (it is not an exact search)"),
        Target("reversed minus reading-order source, Sutskever LSTM test exact match (lower end)", ">", 0.0,
               "reversing the source helps Sutskever's model at the same budget, beyond the noise (paired bootstrap)"),
    ]


def chapter_8() -> list[Target]:
    """Chapter 8: attention on chapter 7's number-translation task."""
    return [
        # Learning happens and the mask holds, in both modes.
        Target("attention model (best validation loss)", "<", "attention model (first training loss)",
               "the attention model learns", full_only=False),
        Target("attention weight on padding, with the mask", "<=", 0.0,
               "masked keys get weight exactly 0", full_only=False),
        # The chapter's claims, in full mode.
        Target("longest bin, exact match: attention's lower end minus chapter 7's best's upper end", ">", 0.0,
               "attention beats chapter 7's best model on the longest inputs beyond the noise: the two 95 % "
               "intervals do not overlap"),
        Target("attention minus chapter 7's best, exact match, shortest bin", ">=", -0.01,
               "attention is no worse on the shortest inputs (within 1 point, 2 of 200 pairs)"),
        Target("alignment: weight on the right word over uniform attention's", ">=", 2.0,
               "the attention on the source word being translated is at least twice the chance level"),
        Target("alignment: pairs whose tens word attends right of the units word (share)", ">=", 0.9,
               "the attention crosses over where German swaps the units and the tens, in 90 % of the pairs or more"),
        # The ablation credits attention, not the bidirectional encoder.
        Target("ablation, longest bin, exact match gained by attention (95 % interval, low)", ">", 0.0,
               "with the bidirectional encoder kept, attention beats a fixed summary on the longest inputs beyond noise"),
        Target("ablation, one-way encoder, attention, exact match, length bin 4 of 4", ">=", 0.95,
               "attention works without the backward direction: a one-way encoder with attention translates at "
               "least 95 % of the longest bin"),
    ]


def chapter_9() -> list[Target]:
    """Chapter 9: transformers, on chapter 7's task and chapter 6's text."""
    return [
        # The pieces work and learning happens, in both modes.
        Target("largest masked change (causal and padding perturbations)", "<=", 1e-6,
               "changing what a mask hides changes no output (float32: at most 1e-6)", full_only=False),
        Target("smallest unmasked change (causal perturbation)", ">=", 1e-3,
               "the perturbation reaches the positions that may see it", full_only=False),
        Target("permutation: outputs shuffled along, no positions", "<=", 1e-5,
               "without positions, self-attention is permutation-equivariant", full_only=False),
        Target("permutation: outputs shuffled along, sinusoidal positions", ">=", 1e-2,
               "positions break the symmetry", full_only=False),
        Target("transformer (best validation loss)", "<", "transformer (first validation loss)",
               "the transformer learns", full_only=False),
        Target("transformer, learned positions (best validation loss)", "<",
               "transformer, learned positions (first validation loss)",
               "the transformer with learned positions learns", full_only=False),
        Target("GPT (best validation bits/char)", "<", "unigram model (validation bits/char)",
               "the GPT learns more than the character frequencies it starts from", full_only=False),
        # The chapter's claims, in full mode.
        # Issue 15 asked for "at least as good as chapter 8 in every bin, or say honestly where not"; issue 28 for
        # matching chapter 8 within the intervals at no more wall time. The notebook says per bin, with intervals,
        # whether it does at the chapter's budget (8 epochs); this target is over the four bins inside the
        # training lengths only (the length split holds the longest spellings out: nothing is asserted about them).
        Target("transformer, exact match, worst bin", ">=", 0.85,
               "the transformer translates at least 85 % of every length bin exactly"),
        Target("GPT (test bits/char, sliding windows)", "<=", 1.94,
               "the GPT reaches at most 1.94 bits per character on chapter 6's test text"),
    ]


def chapter_10() -> list[Target]:
    """Chapter 10: transformers in practice (subword tokens, an encoder classifier, the key-value cache,
    the training recipe, data-parallel training)."""
    return [
        # The pieces work and learning happens, in both modes.
        Target("cached step vs re-reading the prefix (largest logit difference)", "<=", 1e-4,
               "the cached decoder step gives the logits of re-reading the prefix (float32: logits of a few "
               "units agree to 1e-4)", full_only=False),
        Target("data-parallel minus single-device loss (largest)", "<=", 1e-5,
               "data-parallel training gives the single-device loss after every step (float32)", full_only=False),
        Target("GPT on tokens (best validation bits/char)", "<", "unigram model on tokens (validation bits/char)",
               "the GPT on tokens learns more than the token frequencies it starts from", full_only=False),
        Target("vowels, encoder with positions (test accuracy, mean of seeds)", ">", 0.3,
               "the encoder classifier beats chance (1/9) by far", full_only=False),
        Target("translator, largest difference of summed log-probabilities (identical outputs)", "<=", 1e-3,
               "chapter 9's translator decodes with the cache as it does re-reading the prefix (float32: summed "
               "log-probabilities of a few dozen steps agree to 1e-3)", full_only=False),
        # The chapter's claims, in full mode.
        # Measured in full mode on the 2-core CPU (full-size GPT, batch of 8, position 127): 2.0-6.1 on TensorFlow and
        # PyTorch; on JAX 2.4 under load, then 1.49, 1.50 and 2.16 in three idle runs in a row. A median of 7 eager steps
        # moves that much from run to run, so the target claims the sign, not a margin.
        Target("cache speed-up at the longest position", ">", 1.0,
               "the cached step is faster per token than re-reading the prefix at the longest position"),
        Target("translator, identical test translations with and without the cache (share)", ">=", 0.99,
               "with the cache, chapter 9's translator writes the same test translations as re-reading the prefix "
               "(all but a near tie in a hundred)"),
        Target("vowels, encoder with positions (test accuracy, mean of seeds)", ">=", 0.95,
               "the encoder-only transformer recognises at least 95 % of the test speakers (mean of three seeds)"),
    ]
