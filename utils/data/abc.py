"""Folk tunes in ABC notation: tunes, reduced headers, a tune-level split, bar validity, notes and sound.

A tune is a record that starts with ``X:`` (its number), has header fields (``T:`` title,
``M:`` meter, ``L:`` unit note length, ``K:`` key, which ends the header) and a body of
notes and bar lines. :func:`reduce_tune` keeps what the music needs: ``M:``, ``L:``,
``K:`` and the body.

**Validity.** :func:`bar_durations` reads a tune's body and returns each bar's duration in
units of the meter's bar length (``M:6/8`` -> 6 eighths; ``C`` is 4/4 and ``C|`` 2/2);
:func:`valid_bar_share` is the share of scored bars whose duration is exactly 1. The first
and the last bar of a tune are *not* scored: the first is often a pickup (anacrusis) and
the last completes it, so both may be partial in a correct tune. Every other non-empty bar
counts, also the partial bars around a repeat in the middle of a tune (so a real tune
scores a little below 1). A tune with fewer than three bars has no scored bar and gets 0.

What the reader understands: notes ``A``-``G``, ``a``-``g`` with accidentals ``^ ^^ _ __ =``
and octave marks ``' ,``; lengths ``A2 A/2 A/ A// A3/2``; rests ``z x`` (and ``Z``, a whole
bar per count); broken rhythm ``> < >> <<``; tuplets ``(3`` and ``(p:q:r``; chords
``[CEG]`` (the duration of the first note, times any length after ``]``); ties ``-`` and
slurs ``( )`` (no effect on duration); grace notes ``{..}`` (no duration); chord symbols
and annotations in quotes, decorations ``!..!``, ``+..+`` and ``.~HLMOPSTuvRJ`` (ignored);
bar lines ``| || |] [| |: :| :: [1 [2 |1 :|2``; inline fields ``[M:..] [L:..] [K:..]``
and field lines in the body (meter, unit or key changes); ``%`` comments; ``\\`` line
continuations. Anything else (stray characters in a sampled tune) is skipped, never an error.

**Notes.** :func:`parse_notes` returns ``Note(pitch, start, duration)``: MIDI pitch
(middle C, ``C``, is 60; ``c`` is 72) honouring the key signature and accidentals that
hold to the end of their bar, start and duration in quarter-note beats; tied notes of the
same pitch merge. :func:`synthesize` renders notes to a mono waveform for
``IPython.display.Audio``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np


class AbcError(ValueError):
    """A tune lacks what a computation needs (its meter, say)."""


# Tunes and headers ------------------------------------------------------------------------------

_FIELD = re.compile(r"^([A-Za-z]):(.*)$")
_X_LINE = re.compile(r"^X:", re.MULTILINE)
MUSIC_FIELDS = ("M", "L", "K")


@dataclass(frozen=True)
class Tune:
    """One ``X:`` record: its number, header fields and body (the lines after ``K:``)."""

    number: int
    title: str
    meter: str | None
    unit: str | None
    key: str | None
    body: str
    text: str = field(repr=False)

    def reduced(self) -> str:
        """The tune as ``M:``, ``L:`` and ``K:`` lines and its body (see :func:`reduce_tune`)."""
        return reduce_tune(self)


def _split_header(text: str) -> tuple[dict[str, str], list[str]]:
    """Header fields (first value of each; up to and including ``K:``) and the body lines."""
    lines = text.split("\n")
    header: dict[str, str] = {}
    for index, line in enumerate(lines):
        match = _FIELD.match(line.strip())
        if match is None:
            if line.strip() == "" and not header:
                continue
            if line.strip().startswith("%") and "K" not in header:
                continue
            return header, lines[index:]
        name, value = match.group(1), match.group(2).strip()
        header.setdefault(name, value)
        if name == "K":
            return header, lines[index + 1 :]
    return header, []


def _clean_body(lines: list[str]) -> str:
    """Body lines without other fields (``W:``, ``N:``...), trailing blank lines removed."""
    kept = []
    for line in lines:
        match = _FIELD.match(line.strip())
        if match is not None and match.group(1) not in MUSIC_FIELDS:
            continue
        kept.append(line.rstrip())
    while kept and not kept[-1].strip():
        kept.pop()
    while kept and not kept[0].strip():
        kept.pop(0)
    return "\n".join(kept)


def parse_tune(text: str) -> Tune:
    """One tune's record (starting with ``X:``) as a :class:`Tune`."""
    if not isinstance(text, str):
        raise TypeError(f"a tune must be a str of ABC text, got {type(text).__name__}.")
    header, body = _split_header(text)
    if "X" not in header:
        raise AbcError("the record has no X: line; a tune starts with its number, e.g. 'X: 1'.")
    number = re.match(r"\s*(\d+)", header["X"])
    if number is None:
        raise AbcError(f"the X: line holds {header['X']!r}, not a tune number; write e.g. 'X: 12'.")
    return Tune(number=int(number.group(1)), title=header.get("T", ""), meter=header.get("M"),
                unit=header.get("L"), key=header.get("K"), body=_clean_body(body), text=text)


def split_tunes(text: str) -> list[Tune]:
    """Every ``X:`` record of an ABC file, in file order (text before the first ``X:`` is skipped)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str of ABC, got {type(text).__name__}; decode the file first.")
    starts = [match.start() for match in _X_LINE.finditer(text)]
    if not starts:
        raise AbcError("the text holds no tune: no line starts with 'X:'. Pass an ABC file's contents.")
    ends = [*starts[1:], len(text)]
    return [parse_tune(text[start:end]) for start, end in zip(starts, ends)]


def default_unit(meter: str) -> str:
    """The ABC standard's unit length when ``L:`` is missing: 1/16 below a meter of 3/4, else 1/8."""
    return "1/16" if bar_length(meter) < Fraction(3, 4) else "1/8"


def reduce_tune(tune: Tune) -> str:
    """``M:``, ``L:`` (the default made explicit if the tune has none) and ``K:`` lines, then the body."""
    if not isinstance(tune, Tune):
        raise TypeError(f"reduce_tune needs a Tune (from split_tunes), got {type(tune).__name__}.")
    if tune.meter is None:
        raise AbcError(f"tune {tune.number} has no M: line, so its bars cannot be measured.")
    unit = tune.unit if tune.unit is not None else default_unit(tune.meter)
    key = tune.key if tune.key is not None else "C"
    return f"M:{tune.meter}\nL:{unit}\nK:{key}\n{tune.body}\n"


@dataclass(frozen=True)
class TuneSplit:
    """Tunes in three parts; tunes that share a number (two transcriptions) share a part."""

    train: list[Tune]
    validation: list[Tune]
    test: list[Tune]


def split_by_tune_number(tunes: list[Tune], validation: float = 0.1, test: float = 0.1,
                         seed: int = 0) -> TuneSplit:
    """A seeded split of ``tunes`` by their numbers: ``test`` and ``validation`` shares of the numbers.

    The distinct numbers are shuffled with ``numpy.random.default_rng(seed)``; the first
    ``round(test * n)`` go to test, the next ``round(validation * n)`` to validation, the rest
    to train. Each part keeps file order.
    """
    if not isinstance(tunes, list) or not all(isinstance(tune, Tune) for tune in tunes):
        raise TypeError("tunes must be a list of Tune (from split_tunes).")
    for name, share in (("validation", validation), ("test", test)):
        if not 0.0 <= share < 1.0:
            raise ValueError(f"{name} must be a share in [0, 1), got {share!r}.")
    numbers = np.array(sorted({tune.number for tune in tunes}))
    n_test, n_validation = round(test * len(numbers)), round(validation * len(numbers))
    if len(numbers) - n_test - n_validation < 1:
        raise ValueError(f"{len(numbers)} distinct tune numbers leave no training tune with these shares; "
                         "pass more tunes or smaller shares.")
    shuffled = np.random.default_rng(seed).permutation(numbers)
    test_numbers = set(shuffled[:n_test].tolist())
    validation_numbers = set(shuffled[n_test : n_test + n_validation].tolist())
    return TuneSplit(
        train=[t for t in tunes if t.number not in test_numbers and t.number not in validation_numbers],
        validation=[t for t in tunes if t.number in validation_numbers],
        test=[t for t in tunes if t.number in test_numbers],
    )


def shuffle_body(tune_text: str, rng: np.random.Generator | int = 0) -> str:
    """The tune with its body's characters (newlines included) in a random order; header kept."""
    header, body = _header_and_body(tune_text)
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    chars = list(body)
    generator.shuffle(chars)
    return header + "".join(chars)


def _header_and_body(tune_text: str) -> tuple[str, str]:
    if not isinstance(tune_text, str):
        raise TypeError(f"a tune must be a str of ABC text, got {type(tune_text).__name__}.")
    lines = tune_text.split("\n")
    for index, line in enumerate(lines):
        match = _FIELD.match(line.strip())
        if match is None:
            return "\n".join(lines[:index]) + ("\n" if index else ""), "\n".join(lines[index:])
        if match.group(1) == "K":
            return "\n".join(lines[: index + 1]) + "\n", "\n".join(lines[index + 1 :])
    return tune_text, ""


# Meter, unit and key ------------------------------------------------------------------------

def bar_length(meter: str | None) -> Fraction:
    """The length of one bar in whole notes: ``6/8`` -> 3/4, ``C`` -> 1, ``C|`` -> 1."""
    if meter is None:
        raise AbcError("the tune has no M: line, so its bar length is unknown; add one, e.g. 'M:6/8'.")
    value = meter.strip()
    if value in ("C", "C|"):
        return Fraction(1)
    match = re.fullmatch(r"\(?\s*(\d+(?:\s*\+\s*\d+)*)\s*\)?\s*/\s*(\d+)", value)
    if value.lower() == "none" or value == "" or match is None:
        raise AbcError(f"the meter M:{meter} gives no bar length; bar durations need a meter like "
                       "M:6/8, M:3/4 or M:C.")
    numerator = sum(int(part) for part in match.group(1).split("+"))
    denominator = int(match.group(2))
    if numerator == 0 or denominator == 0:
        raise AbcError(f"the meter M:{meter} has a zero in it; write a meter like M:6/8.")
    return Fraction(numerator, denominator)


def _is_compound(meter: str) -> bool:
    match = re.fullmatch(r"\s*(\d+)\s*/\s*\d+\s*", meter)
    return match is not None and int(match.group(1)) in (6, 9, 12)


def unit_length(unit: str | None, meter: str) -> Fraction:
    """The ``L:`` value in whole notes (the standard's default when it is missing or unreadable)."""
    if unit is not None:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", unit)
        if match is not None and int(match.group(1)) > 0 and int(match.group(2)) > 0:
            return Fraction(int(match.group(1)), int(match.group(2)))
        match = re.fullmatch(r"\s*1\s*", unit)
        if match is not None:
            return Fraction(1)
    return Fraction(1, 16) if bar_length(meter) < Fraction(3, 4) else Fraction(1, 8)


_SEMITONE = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_MAJOR_FIFTHS = {"C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5, "F#": 6, "C#": 7,
                 "F": -1, "Bb": -2, "Eb": -3, "Ab": -4, "Db": -5, "Gb": -6, "Cb": -7,
                 "G#": 8, "D#": 9, "A#": 10, "E#": 11, "B#": 12, "Fb": -8}
_MODE_SHIFT = {"maj": 0, "ion": 0, "min": -3, "aeo": -3, "m": -3, "dor": -2, "mix": -1,
               "lyd": 1, "phr": -4, "loc": -5}
_SHARP_ORDER = "FCGDAEB"


def key_signature(key: str | None) -> dict[str, int]:
    """Semitone shift of each letter in ``key`` (``K:G`` -> ``{'F': 1, ...}``); unknown -> C major.

    Reads the tonic (``A``-``G`` with ``#`` or ``b``) and the mode's first three letters
    (``m``/``min``, ``dor``, ``mix``, ``lyd``, ``phr``, ``loc``, ``maj``/``ion``); an unknown
    mode counts as major and a key without a tonic (``K:none``) has no accidentals.
    """
    shifts = {letter: 0 for letter in _SEMITONE}
    match = re.match(r"\s*([A-Ga-g])([#b]?)\s*([A-Za-z]*)", key or "")
    if match is None:
        return shifts
    tonic = match.group(1).upper() + match.group(2)
    mode_text = match.group(3).lower()
    if mode_text[:3] in _MODE_SHIFT:
        mode = _MODE_SHIFT[mode_text[:3]]
    elif mode_text.startswith("m"):
        mode = -3  # "m", "mi", "minor"
    else:
        mode = 0  # no mode, or one this reader does not know: major
    fifths = _MAJOR_FIFTHS.get(tonic, 0) + mode
    if fifths > 0:
        for letter in _SHARP_ORDER[: min(fifths, 7)]:
            shifts[letter] = 1
    elif fifths < 0:
        for letter in _SHARP_ORDER[::-1][: min(-fifths, 7)]:
            shifts[letter] = -1
    return shifts


# The body reader ------------------------------------------------------------------------------

_DECORATION_CHARS = set(".~HLMOPSTuvRJ")
_NOTE = re.compile(r"(\^\^|\^|__|_|=)?([A-Ga-g])([',]*)(\d*)(/*)(\d*)")
_REST = re.compile(r"([zxZ])(\d*)(/*)(\d*)")
_LENGTH = re.compile(r"(\d*)(/*)(\d*)")


def _length(num: str, slashes: str, den: str) -> Fraction:
    top = int(num) if num else 1
    if not slashes:
        return Fraction(top)
    bottom = int(den) if den else 2 ** len(slashes)
    return Fraction(top, bottom) if bottom else Fraction(top)


@dataclass
class _Event:
    kind: str  # "note", "rest", "bar"
    duration: Fraction = Fraction(0)  # whole notes
    pitches: list[int] = field(default_factory=list)
    tie: bool = False
    bar_length: Fraction = Fraction(1)


class _Reader:
    """Turns a tune body into note, rest and bar events with exact durations."""

    def __init__(self, meter: str, unit: str | None, key: str | None) -> None:
        self.meter = meter
        self.bar = bar_length(meter)
        self.unit = unit_length(unit, meter)
        self.key = key_signature(key)
        self.events: list[_Event] = []
        self.bar_accidentals: dict[tuple[str, int], int] = {}
        self.tuplet_left = 0
        self.tuplet_factor = Fraction(1)
        self.next_factor = Fraction(1)
        self.last_note: _Event | None = None

    def field(self, name: str, value: str) -> None:
        try:
            if name == "M":
                self.bar, self.meter = bar_length(value), value
            elif name == "L":
                self.unit = unit_length(value, self.meter)
            elif name == "K":
                self.key = key_signature(value)
        except AbcError:
            pass  # an unreadable change in the middle of a sampled tune is ignored

    def add(self, event: _Event) -> None:
        if self.tuplet_left > 0:
            event.duration *= self.tuplet_factor
            self.tuplet_left -= 1
        event.duration *= self.next_factor
        self.next_factor = Fraction(1)
        self.events.append(event)
        self.last_note = event

    def bar_line(self) -> None:
        self.bar_accidentals = {}
        self.next_factor = Fraction(1)
        self.events.append(_Event("bar", bar_length=self.bar))

    def pitch(self, accidental: str | None, letter: str, octave_marks: str) -> int:
        octave = 5 if letter.islower() else 4
        octave += octave_marks.count("'") - octave_marks.count(",")
        upper = letter.upper()
        slot = (upper, octave)
        if accidental:
            shift = {"^": 1, "^^": 2, "_": -1, "__": -2, "=": 0}[accidental]
            self.bar_accidentals[slot] = shift
        shift = self.bar_accidentals.get(slot, self.key[upper])
        return 12 * (octave + 1) + _SEMITONE[upper] + shift

    def read(self, body: str) -> list[_Event]:
        text = re.sub(r"%[^\n]*", "", body)
        i, n = 0, len(text)
        while i < n:
            c = text[i]
            line_start = i == 0 or text[i - 1] == "\n"
            if line_start:
                match = re.match(r"([A-Za-z]):([^\n]*)", text[i:])
                if match is not None:
                    self.field(match.group(1), match.group(2).strip())
                    i += match.end()
                    continue
            if c == '"':
                end = text.find('"', i + 1)
                i = n if end < 0 else end + 1
            elif c in "!+":
                end = text.find(c, i + 1)
                newline = text.find("\n", i + 1)
                i = i + 1 if end < 0 or (0 <= newline < end) else end + 1
            elif c == "{":
                end = text.find("}", i + 1)
                i = n if end < 0 else end + 1
            elif c == "[":
                i = self._bracket(text, i)
            elif c in "|:":
                i = self._bar(text, i)
            elif c == "(":
                i = self._paren(text, i)
            elif c in "<>":
                j = i
                while j < n and text[j] == c:
                    j += 1
                self._broken(c, j - i)
                i = j
            elif c == "-":
                if self.last_note is not None:
                    self.last_note.tie = True
                i += 1
            elif c in "^_=" or c.upper() in _SEMITONE:
                match = _NOTE.match(text, i)
                if match is None:
                    i += 1
                    continue
                accidental, letter, marks, num, slashes, den = match.groups()
                pitch = self.pitch(accidental, letter, marks)
                self.add(_Event("note", self.unit * _length(num, slashes, den), [pitch]))
                i = match.end()
            elif c in "zxZ":
                match = _REST.match(text, i)
                assert match is not None
                kind, num, slashes, den = match.groups()
                if kind == "Z":
                    duration = self.bar * (int(num) if num else 1)
                else:
                    duration = self.unit * _length(num, slashes, den)
                self.add(_Event("rest", duration))
                i = match.end()
            else:
                i += 1  # spaces, beams, decorations, line continuations and stray characters
        return self.events

    def _bracket(self, text: str, i: int) -> int:
        inline = re.match(r"\[([A-Za-z]):([^\]\n]*)\]", text[i:])
        if inline is not None:
            self.field(inline.group(1), inline.group(2).strip())
            return i + inline.end()
        if text.startswith("[|", i):
            self.bar_line()
            return i + 2
        if i + 1 < len(text) and text[i + 1].isdigit():
            return i + 1  # a variant ending [1, [2: the digit is skipped as a stray character
        end = text.find("]", i + 1)
        newline = text.find("\n", i + 1)
        if end < 0 or (0 <= newline < end):
            return i + 1
        first: Fraction | None = None
        pitches = []
        for match in _NOTE.finditer(text[i + 1 : end]):
            accidental, letter, marks, num, slashes, den = match.groups()
            pitches.append(self.pitch(accidental, letter, marks))
            if first is None:
                first = self.unit * _length(num, slashes, den)
        after = _LENGTH.match(text, end + 1)
        assert after is not None
        j = after.end()
        if first is None:
            return j
        self.add(_Event("note", first * _length(*after.groups()), pitches))
        return j

    def _bar(self, text: str, i: int) -> int:
        j = i
        while j < len(text) and text[j] in "|:]":
            j += 1
        if "|" in text[i:j] or text[i:j].count(":") >= 2:
            self.bar_line()
        while j < len(text) and text[j].isdigit():  # a variant ending |1 or :|2
            j += 1
        return j

    def _paren(self, text: str, i: int) -> int:
        match = re.match(r"\((\d)(?::(\d?)(?::(\d?))?)?", text[i:])
        if match is None:
            return i + 1  # a slur
        p = int(match.group(1))
        if p < 2:
            return i + match.end()
        default_q = {2: 3, 3: 2, 4: 3, 6: 2, 8: 3}.get(p, 3 if _is_compound(self.meter) else 2)
        q = int(match.group(2)) if match.group(2) else default_q
        r = int(match.group(3)) if match.group(3) else p
        self.tuplet_factor = Fraction(q, p)
        self.tuplet_left = r
        return i + match.end()

    def _broken(self, direction: str, count: int) -> None:
        count = min(count, 3)
        shorter = Fraction(1, 2**count)
        longer = 2 - shorter
        before, after = (longer, shorter) if direction == ">" else (shorter, longer)
        if self.events and self.events[-1].kind in ("note", "rest"):
            self.events[-1].duration *= before
            self.next_factor = after


def _read(tune_text: str) -> tuple[list[_Event], Fraction]:
    """The events of a tune's body and the bar length in force at its end."""
    if not isinstance(tune_text, str):
        raise TypeError(f"a tune must be a str of ABC text, got {type(tune_text).__name__}.")
    header, body = _split_header(tune_text)
    meter = header.get("M")
    if meter is None:
        raise AbcError("the tune has no M: line, so its bar length is unknown; every tune needs a meter, "
                       "e.g. 'M:6/8' in its header.")
    reader = _Reader(meter, header.get("L"), header.get("K"))  # raises on M:none and unreadable meters
    return reader.read("\n".join(body)), reader.bar


def bar_durations(tune_text: str) -> list[Fraction]:
    """Each non-empty bar's duration in units of the bar length (1 = a full bar), first and last included.

    ``tune_text`` is a tune with its header (``M:`` needed; ``L:`` and ``K:`` optional), e.g.
    :meth:`Tune.reduced` or a whole ``X:`` record. A bar is measured against the meter in
    force at its closing bar line (a meter change applies from its bar on); bars without
    notes or rests (as between ``:|`` and ``|:``) are skipped.
    """
    events, final_length = _read(tune_text)
    durations, total, has_notes = [], Fraction(0), False
    for event in events:
        if event.kind == "bar":
            if has_notes:
                durations.append(total / event.bar_length)
            total, has_notes = Fraction(0), False
        else:
            total += event.duration
            has_notes = True
    if has_notes:
        durations.append(total / final_length)
    return durations


def valid_bar_share(tune_text: str) -> float:
    """Share of a tune's bars, first and last excluded, whose duration is exactly one bar.

    Returns 0.0 for a tune with fewer than three non-empty bars (nothing to score); raises
    :class:`AbcError` for a tune without a usable meter.
    """
    durations = bar_durations(tune_text)[1:-1]
    if not durations:
        return 0.0
    return sum(duration == 1 for duration in durations) / len(durations)


def mean_valid_bar_share(tunes: list[str]) -> float:
    """:func:`valid_bar_share` averaged over tune texts."""
    if isinstance(tunes, str) or not tunes:
        raise ValueError("tunes must be a non-empty list of tune texts (e.g. [t.reduced() for t in tunes]).")
    return float(np.mean([valid_bar_share(tune) for tune in tunes]))


# Notes, piano roll and sound -----------------------------------------------------------------

@dataclass(frozen=True)
class Note:
    """A sounding note: MIDI pitch, start and duration in quarter-note beats."""

    pitch: int
    start: float
    duration: float


def parse_notes(tune_text: str) -> list[Note]:
    """The tune's notes in time order (rests advance time; chords give one Note per pitch).

    A note tied (``-``) to a following note of the same pitch is merged into one longer note.
    """
    events, _ = _read(tune_text)
    notes: list[Note] = []
    time = Fraction(0)
    tied: dict[int, int] = {}  # pitch -> index in notes of a note tied forward
    for event in events:
        if event.kind == "bar":
            continue
        beats = event.duration * 4
        if event.kind == "note":
            next_tied = {}
            for pitch in event.pitches:
                if pitch in tied:
                    old = notes[tied[pitch]]
                    notes[tied[pitch]] = Note(pitch, old.start, old.duration + float(beats))
                    index = tied[pitch]
                else:
                    notes.append(Note(pitch, float(time * 4), float(beats)))
                    index = len(notes) - 1
                if event.tie:
                    next_tied[pitch] = index
            tied = next_tied
        else:
            tied = {}
        time += event.duration
    return notes


def _check_notes(notes: Any) -> list[Note]:
    if not isinstance(notes, (list, tuple)) or not all(isinstance(note, Note) for note in notes):
        raise TypeError("notes must be a list of Note (from parse_notes).")
    if not notes:
        raise ValueError("notes is empty: the tune has no notes to show or play.")
    return list(notes)


def piano_roll(notes: list[Note], steps_per_beat: int = 4) -> tuple[np.ndarray, int]:
    """A 0/1 matrix ``(pitches, time steps)`` of the notes and the MIDI pitch of row 0.

    Row ``i`` is pitch ``lowest + i``; column ``j`` covers beats ``[j, j+1) / steps_per_beat``.
    Draw it with ``plt.imshow(roll, origin="lower", aspect="auto")``.
    """
    notes = _check_notes(notes)
    if isinstance(steps_per_beat, bool) or not isinstance(steps_per_beat, int) or steps_per_beat < 1:
        raise ValueError(f"steps_per_beat must be a whole number >= 1, got {steps_per_beat!r}.")
    lowest = min(note.pitch for note in notes)
    highest = max(note.pitch for note in notes)
    end = max(note.start + note.duration for note in notes)
    roll = np.zeros((highest - lowest + 1, int(np.ceil(end * steps_per_beat - 1e-9))), dtype=np.uint8)
    for note in notes:
        first = int(round(note.start * steps_per_beat))
        last = max(first + 1, int(round((note.start + note.duration) * steps_per_beat)))
        roll[note.pitch - lowest, first:last] = 1
    return roll, lowest


def midi_to_hz(pitch: float | np.ndarray) -> float | np.ndarray:
    """Frequency of a MIDI pitch in equal temperament, A4 (69) = 440 Hz."""
    return 440.0 * 2.0 ** ((np.asarray(pitch, dtype=np.float64) - 69.0) / 12.0)


def synthesize(notes: list[Note], sample_rate: int = 16_000, bpm: float = 120.0,
               harmonics: tuple[float, ...] = (1.0, 0.5, 0.25)) -> np.ndarray:
    """A mono float32 waveform of ``notes`` in [-1, 1], ``round(end * 60 / bpm * sample_rate)`` samples long.

    Each note is an additive tone (``harmonics`` are the amplitudes of the fundamental and
    its overtones) under an envelope that rises in 5 ms, decays exponentially and fades out
    over the note's last 10 ms (so notes do not click). ``bpm`` is quarter notes per minute.
    Play it with ``IPython.display.Audio(wave, rate=sample_rate)``.
    """
    notes = _check_notes(notes)
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate < 1000:
        raise ValueError(f"sample_rate must be a whole number of samples per second >= 1000 "
                         f"(e.g. 16000 or 22050), got {sample_rate!r}.")
    if isinstance(bpm, bool) or not isinstance(bpm, (int, float)) or not bpm > 0:
        raise ValueError(f"bpm must be a positive number of quarter notes per minute, got {bpm!r}.")
    if not harmonics or any(not np.isfinite(a) or a < 0 for a in harmonics):
        raise ValueError("harmonics must be a non-empty tuple of amplitudes >= 0, e.g. (1.0, 0.5, 0.25).")
    seconds_per_beat = 60.0 / bpm
    end = max(note.start + note.duration for note in notes)
    wave = np.zeros(int(round(end * seconds_per_beat * sample_rate)), dtype=np.float64)
    attack, release = int(0.005 * sample_rate), int(0.010 * sample_rate)
    for note in notes:
        first = int(round(note.start * seconds_per_beat * sample_rate))
        count = min(int(round(note.duration * seconds_per_beat * sample_rate)), len(wave) - first)
        if count <= 0:
            continue
        t = np.arange(count) / sample_rate
        f0 = float(midi_to_hz(note.pitch))
        tone = sum(a * np.sin(2 * np.pi * f0 * (h + 1) * t) for h, a in enumerate(harmonics)
                   if f0 * (h + 1) < sample_rate / 2)
        envelope = np.exp(-3.0 * t)
        rise = min(attack, count)
        envelope[:rise] *= np.linspace(0.0, 1.0, rise, endpoint=False)
        fall = min(release, count)
        envelope[count - fall :] *= np.linspace(1.0, 0.0, fall)
        wave[first : first + count] += tone * envelope
    peak = np.abs(wave).max()
    if peak > 0:
        wave *= 0.9 / peak
    return wave.astype(np.float32)


# Controls and novelty -----------------------------------------------------------------------

_SKIPPED = re.compile(r'"[^"\n]*"?|![^!\n]*!?|\+[^+\n]*\+?|\{[^}\n]*\}?|\[[^\]\n]*\]?|%[^\n]*')
_PITCH = re.compile(r"(\^\^|\^|__|_|=)?[A-Ga-g][',]*")


def body(tune_text: str) -> str:
    """The body of a tune: what follows its header (``K:`` and the lines before it)."""
    return _header_and_body(tune_text)[1]


def shuffle_pitches_within_bars(tune_text: str, rng: np.random.Generator | int = 0) -> str:
    """The tune with the pitches of each bar's notes in a random order, every duration where it was.

    A note's pitch is its accidental, letter and octave marks; its length stays in place, as do
    rests, chords, grace notes, annotations and bar lines. Every bar therefore lasts exactly what it
    lasted, and :func:`valid_bar_share` cannot tell the result from the tune: a control for what a
    rhythm measure does not see.
    """
    header, text = _header_and_body(tune_text)
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    spans: list[list[tuple[int, int]]] = [[]]  # the pitches' (start, end) in each bar
    i, n = 0, len(text)
    while i < n:
        if (i == 0 or text[i - 1] == "\n") and _FIELD.match(text[i:text.find("\n", i) if "\n" in text[i:] else n]):
            end = text.find("\n", i)
            i = n if end < 0 else end  # a field line in the body
            continue
        skipped = _SKIPPED.match(text, i)
        if skipped is not None and skipped.end() > i:
            i = skipped.end()
        elif text[i] == "|":
            spans.append([])
            i += 1
        else:
            pitch = _PITCH.match(text, i)
            if pitch is not None:
                spans[-1].append((pitch.start(), pitch.end()))
                i = pitch.end()
            else:
                i += 1
    pieces, last = [], 0
    for bar in spans:
        order = generator.permutation(len(bar)) if len(bar) > 1 else range(len(bar))
        for (start, end), source in zip(bar, order):
            pieces.append(text[last:start])
            pieces.append(text[bar[source][0]:bar[source][1]])
            last = end
    pieces.append(text[last:])
    return header + "".join(pieces)
