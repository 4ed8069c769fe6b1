"""The Japanese Vowels files and the .ts reader (damaged files: ``test_data_ts_files.py``)."""

from __future__ import annotations

import numpy as np
import pytest
from datafiles import VOWELS, data_start

from utils.data.loaders import load_japanese_vowels
from utils.data.tsformat import TsFormatError, parse_ts

# The shipped files ------------------------------------------------------------------------------


@pytest.mark.parametrize(("split", "size", "longest"), [("train", 270, 26), ("test", 370, 29)])
def test_official_split_loads(split, size, longest):
    data = load_japanese_vowels(split)
    assert len(data) == size
    assert data.classes == tuple("123456789")
    assert data.labels.dtype == np.int32
    assert set(data.labels.tolist()) == set(range(9))
    lengths = data.lengths()
    assert lengths.min() == 7 and lengths.max() == longest
    shapes = [sequence.shape for sequence in data.sequences]
    assert shapes == [(length, 12) for length in lengths]
    assert all(sequence.dtype == np.float32 for sequence in data.sequences)
    assert all(np.isfinite(sequence).all() for sequence in data.sequences)


def test_training_split_is_balanced_and_test_split_is_not():
    assert np.bincount(load_japanese_vowels("train").labels).tolist() == [30] * 9
    assert np.bincount(load_japanese_vowels("test").labels).tolist() == [31, 35, 88, 44, 29, 24, 40, 50, 29]


def test_first_values_match_the_file():
    lines = VOWELS.lines("train")
    first = lines[data_start(lines)]
    channels = first.split(":")
    sequence = load_japanese_vowels("train").sequences[0]
    assert sequence[0, 0] == pytest.approx(float(channels[0].split(",")[0]))
    assert sequence[-1, 11] == pytest.approx(float(channels[11].split(",")[-1]))


def test_unknown_split():
    with pytest.raises(ValueError, match="split must be one of"):
        load_japanese_vowels("validation")


# The .ts reader ---------------------------------------------------------------------------------

SMALL = """# a comment
@problemName Tiny
@timeStamps false
@missing true
@univariate false
@dimensions 2
@equalLength false
@classLabel true up down
@data
1,2,3:4,5,6:up

# a blank line and a comment inside the data
0.5,?:1e-3,-2:down
"""


def test_reader_parses_a_small_file():
    parsed = parse_ts(SMALL)
    assert parsed.problem_name == "Tiny"
    assert parsed.dimensions == 2
    assert parsed.class_labels == ("up", "down")
    assert parsed.labels == ["up", "down"]
    assert parsed.series[0].shape == (3, 2)
    assert parsed.series[0][:, 1].tolist() == [4.0, 5.0, 6.0]
    assert np.isnan(parsed.series[1][1, 0])
    assert parsed.series[1][0, 1] == pytest.approx(1e-3)
    assert parsed.header["equallength"] == "false"


def test_reader_accepts_equal_lengths_as_declared():
    parsed = parse_ts("@dimensions 2\n@equalLength true\n@seriesLength 3\n@classLabel true a b\n@data\n"
                      "1,2,3:4,5,6:a\n7,8,9:1,2,3:b\n")
    assert [series.shape for series in parsed.series] == [(3, 2), (3, 2)]
    assert parsed.labels == ["a", "b"]


def test_reader_ignores_a_series_length_for_unequal_files():
    parsed = parse_ts("@equalLength false\n@seriesLength 3\n@data\n1,2,3\n4,5\n")
    assert [len(series) for series in parsed.series] == [3, 2]


def test_reader_without_labels():
    parsed = parse_ts("@dimensions 1\n@classLabel false\n@data\n1,2,3\n4,5\n")
    assert parsed.labels is None
    assert parsed.class_labels == ()
    assert [len(series) for series in parsed.series] == [3, 2]


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("@dimensions 1\n1,2,3\n", "expected a header line starting with '@'"),
        ("@dimensions 1\n", "no @data line"),
        ("@dimensions 1\n@dimensions 2\n@data\n1\n", "@dimensions appears twice"),
        ("@timeStamps true\n@data\n(0,1)\n", "@timeStamps true is not supported"),
        ("@missing maybe\n@data\n1\n", "@missing must be true or false"),
        ("@dimensions two\n@data\n1\n", "@dimensions must be a whole number"),
        ("@dimensions 0\n@data\n1\n", "@dimensions must be at least 1"),
        ("@classLabel true\n@data\n1:a\n", "must be followed by the list of class labels"),
        ("@classLabel true a b\n@data\n", "no series after it"),
        ("@dimensions 2\n@data\n1,2:3\n", "its dimensions have different lengths [1, 2]"),
        ("@dimensions 2\n@data\n1,2\n", "line 3 has 1 dimensions (1 fields"),
        ("@dimensions 1\n@classLabel true a\n@data\n1,x:a\n", "line 4, dimension 1: 'x' is not a number"),
        ("@equalLength true\n@seriesLength 3\n@data\n1,2,3\n4,5\n",
         "line 5 has 2 time steps, but the header says @equalLength true and @seriesLength 3"),
        ("@equalLength true\n@seriesLength 3\n@data\n1,2\n",
         "line 4 has 2 time steps, but the header says @equalLength true and @seriesLength 3"),
        ("@equalLength true\n@data\n1,2,3\n\n4,5,6,7\n",
         "line 5 has 4 time steps, but the header says @equalLength true and the first series has 3"),
        ("@equalLength yes\n@data\n1\n", "@equalLength must be true or false"),
        ("@seriesLength ten\n@data\n1\n", "@seriesLength must be a whole number, got 'ten'"),
        ("@seriesLength 0\n@data\n1\n", "@seriesLength must be at least 1, got 0"),
    ],
)
def test_reader_names_what_is_wrong(text, phrase):
    with pytest.raises(TsFormatError) as caught:
        parse_ts(text)
    assert phrase in str(caught.value)
