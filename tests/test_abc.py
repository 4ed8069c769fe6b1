"""utils.data.abc: tunes, reduced headers, the tune split, bar validity, notes and the synthesiser."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from utils.data import abc

FILE = """% a comment before the first tune
X: 1
T: A Jig
M: 6/8
L: 1/8
R: jig
K: G
D | GAB cBA | G2E F>ED | (3ABc d2 z2 | [GB]3 {c}B2 "Em"A :|
W: words are dropped

X: 2
T: A Reel
M: C|
K: D
A2 A/B/c/d/ e4 | d3/2e/ f2 g4 :|
"""

GOOD = "M:3/4\nL:1/8\nK:C\nC | C2 D2 E2 | F4 G2 | A6 | B3/2c/ d2 e2 |: f2 g2 a2 :|1 b6 |2 c'6 || D2\n"


def test_split_and_reduce():
    tunes = abc.split_tunes(FILE)
    assert [t.number for t in tunes] == [1, 2]
    assert tunes[0].title == "A Jig" and tunes[0].meter == "6/8" and tunes[0].key == "G"
    assert "W:" not in tunes[0].body
    assert tunes[0].reduced().startswith("M:6/8\nL:1/8\nK:G\nD | GAB")
    assert tunes[1].reduced().startswith("M:C|\nL:1/8\nK:D\n")  # the default unit made explicit


def test_bar_durations_of_a_hand_made_tune():
    assert abc.bar_durations(GOOD) == [Fraction(1, 6)] + [Fraction(1)] * 7 + [Fraction(1, 3)]
    assert abc.valid_bar_share(GOOD) == 1.0


def test_note_lengths_broken_rhythm_tuplets_chords_and_grace_notes():
    tune = abc.split_tunes(FILE)[0].reduced()
    assert abc.bar_durations(tune) == [Fraction(1, 6), 1, 1, 1, 1]
    reel = abc.split_tunes(FILE)[1].reduced()
    assert abc.bar_durations(reel) == [1, 1]


def test_wrong_bars_lower_the_share():
    wrong = GOOD.replace("F4 G2", "F4 G").replace("A6", "A4")
    assert abc.valid_bar_share(wrong) == pytest.approx(5 / 7)
    assert abc.valid_bar_share("M:2/4\nK:C\nCD\n") == 0.0  # no bar to score


def test_shuffled_tunes_score_lower():
    rng = np.random.default_rng(0)
    shuffled = [abc.valid_bar_share(abc.shuffle_body(GOOD * 1, rng)) for _ in range(20)]
    assert np.mean(shuffled) < 0.5
    assert abc.shuffle_body(GOOD, 0).startswith("M:3/4\nL:1/8\nK:C\n")
    assert sorted(abc.shuffle_body(GOOD, 0)) == sorted(GOOD)


@pytest.mark.parametrize("tune", ["K:C\nCDEF|\n", "M:none\nK:C\nCDEF|\n", "X:1\nT:t\nK:C\nCD|\n"])
def test_a_tune_without_a_meter_is_an_error(tune):
    with pytest.raises(abc.AbcError, match="M:"):
        abc.valid_bar_share(tune)


def test_pitches_honour_the_key_and_accidentals_within_a_bar():
    notes = abc.parse_notes("M:4/4\nL:1/4\nK:G\nGABc | dF =F F | F ^c c,C,|\n")
    assert [n.pitch for n in notes] == [67, 69, 71, 72, 74, 66, 65, 65, 66, 73, 60, 48]
    assert [n.start for n in notes[:3]] == [0.0, 1.0, 2.0] and notes[0].duration == 1.0
    minor = abc.parse_notes("M:4/4\nL:1/8\nK:Dm\nB e F c\n")
    assert [n.pitch for n in minor] == [70, 76, 65, 72]  # D minor: B flat only


def test_key_signatures():
    assert abc.key_signature("D")["C"] == 1 and abc.key_signature("D")["F"] == 1
    assert abc.key_signature("Ador") == {**{letter: 0 for letter in "CDEGAB"}, "F": 1}  # the notes of G major
    assert abc.key_signature("Am") == {letter: 0 for letter in "CDEFGAB"}
    assert abc.key_signature("Bb")["E"] == -1
    assert abc.key_signature("Dmix")["C"] == 0 and abc.key_signature("Dmix")["F"] == 1


def test_ties_merge_and_chords_sound_together():
    notes = abc.parse_notes("M:4/4\nL:1/4\nK:C\nC2- C2 | [CEG]4 |\n")
    assert notes[0] == abc.Note(60, 0.0, 4.0)
    assert [(n.pitch, n.start) for n in notes[1:]] == [(60, 4.0), (64, 4.0), (67, 4.0)]


def test_piano_roll_and_synth():
    notes = abc.parse_notes(GOOD)
    roll, lowest = abc.piano_roll(notes, steps_per_beat=4)
    assert lowest == 60 and roll.shape[0] == 84 - 60 + 1
    end = max(n.start + n.duration for n in notes)
    wave = abc.synthesize(notes, sample_rate=16_000, bpm=120)
    assert wave.dtype == np.float32 and wave.shape == (round(end * 0.5 * 16_000),)
    assert np.isfinite(wave).all() and np.abs(wave).max() <= 1.0 and np.abs(wave).max() > 0.5


def test_split_by_tune_number_keeps_duplicates_together():
    record = "X:{n}\nM:2/4\nK:C\nCD|EF|\n"
    text = "".join(record.format(n=n) for n in [*range(1, 41), 5, 6, 7])
    tunes = abc.split_tunes(text)
    split = abc.split_by_tune_number(tunes, validation=0.1, test=0.2, seed=1)
    numbers = [{t.number for t in part} for part in (split.train, split.validation, split.test)]
    assert [len(n) for n in numbers] == [28, 4, 8]
    assert sum(len(p) for p in (split.train, split.validation, split.test)) == 43
    again = abc.split_by_tune_number(tunes, validation=0.1, test=0.2, seed=1)
    assert [t.number for t in again.test] == [t.number for t in split.test]


@pytest.mark.parametrize(
    ("call", "error", "phrase"),
    [
        (lambda: abc.split_tunes("no tunes here"), abc.AbcError, "no tune"),
        (lambda: abc.split_tunes(b"X:1"), TypeError, "str"),
        (lambda: abc.parse_tune("X: one\nK:C\n"), abc.AbcError, "not a tune number"),
        (lambda: abc.synthesize([]), ValueError, "empty"),
        (lambda: abc.synthesize(abc.parse_notes(GOOD), sample_rate=10), ValueError, "sample_rate"),
        (lambda: abc.piano_roll("CDE"), TypeError, "list of Note"),
        (lambda: abc.split_by_tune_number([], test=1.5), ValueError, "test must be a share"),
    ],
)
def test_errors_say_what_is_wrong(call, error, phrase):
    with pytest.raises(error, match=phrase):
        call()


def test_shuffling_pitches_within_bars_keeps_every_bar_and_moves_only_pitches():
    tune = abc.reduce_tune(abc.split_tunes(FILE)[0])
    for seed in range(5):
        shuffled = abc.shuffle_pitches_within_bars(tune, seed)
        assert abc.bar_durations(shuffled) == abc.bar_durations(tune)  # the rhythm measure cannot tell
        assert sorted(shuffled) == sorted(tune) and shuffled.split("\n")[:3] == tune.split("\n")[:3]
        assert '"Em"' in shuffled and "[GB]3" in shuffled and "{c}" in shuffled  # chords, graces, text stay
    bars = abc.body(abc.shuffle_pitches_within_bars("M:4/4\nK:C\nC2 D2 E2 F2 | G4 A4 |\n", 3)).split("|")
    assert sorted(bars[0].split()) == ["C2", "D2", "E2", "F2"][:0] + sorted(bars[0].split())
    assert {note[0] for note in bars[0].split()} == set("CDEF") and {n[0] for n in bars[1].split()} == set("GA")
    assert [note[1:] for note in bars[0].split()] == ["2", "2", "2", "2"]
    assert any(abc.shuffle_pitches_within_bars(GOOD, seed) != GOOD for seed in range(3))


def test_body_is_what_follows_the_header():
    assert abc.body("M:6/8\nL:1/8\nK:G\nGAB cBA |\n") == "GAB cBA |\n"
