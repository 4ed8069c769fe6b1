"""The Japanese Vowels files: the .ts reader, the verified loader and every kind of damage."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from utils.data import (
    DATASETS_DIR,
    JAPANESE_VOWELS_TEST,
    JAPANESE_VOWELS_TRAIN,
    REGISTRY,
    DatasetError,
    load_japanese_vowels,
    sha256_of,
)
from utils.tsformat import TsFormatError, parse_ts

SPECS = {"train": JAPANESE_VOWELS_TRAIN, "test": JAPANESE_VOWELS_TEST}
SPLITS = pytest.mark.parametrize("split", sorted(SPECS))


def _shipped_lines(split: str) -> list[str]:
    return (DATASETS_DIR / SPECS[split].filename).read_text(encoding="utf-8").splitlines()


def _write_lines(directory: Path, split: str, lines: list[str]) -> None:
    (directory / SPECS[split].filename).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _data_start(lines: list[str]) -> int:
    return next(i for i, line in enumerate(lines) if line.strip().lower() == "@data") + 1


def _dataset_error(directory: Path, split: str) -> str:
    """Load ``split`` from ``directory``, expect a DatasetError with a fix, return its message."""
    with pytest.raises(DatasetError) as caught:
        load_japanese_vowels(split, directory=directory)
    message = str(caught.value)
    filename = SPECS[split].filename
    assert str(directory / filename) in message
    assert f"git checkout -- datasets/{filename}" in message
    assert "make_datasets.py" in message
    return message


# The shipped files ------------------------------------------------------------------------------


def test_both_files_are_registered_and_intact():
    for spec in SPECS.values():
        assert spec in REGISTRY
        assert sha256_of(DATASETS_DIR / spec.filename) == spec.sha256


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
    first = _shipped_lines("train")[_data_start(_shipped_lines("train"))]
    channels = first.split(":")
    sequence = load_japanese_vowels("train").sequences[0]
    assert sequence[0, 0] == pytest.approx(float(channels[0].split(",")[0]))
    assert sequence[-1, 11] == pytest.approx(float(channels[11].split(",")[-1]))


def test_a_directory_holding_intact_copies_loads(tmp_path):
    for spec in SPECS.values():
        shutil.copy(DATASETS_DIR / spec.filename, tmp_path)
    assert len(load_japanese_vowels("test", directory=tmp_path)) == 370


def test_unknown_split():
    with pytest.raises(ValueError, match="split must be one of"):
        load_japanese_vowels("validation")


# Damaged files ----------------------------------------------------------------------------------


@SPLITS
def test_missing_file(tmp_path, split):
    assert "missing" in _dataset_error(tmp_path, split)


@SPLITS
def test_a_directory_in_place_of_the_file_counts_as_missing(tmp_path, split):
    (tmp_path / SPECS[split].filename).mkdir()
    assert "missing" in _dataset_error(tmp_path, split)


@SPLITS
def test_invalid_utf8_is_corrupt(tmp_path, split):
    (tmp_path / SPECS[split].filename).write_bytes(b"\xff\xfe\xfa\x00\x81 not text\n")
    message = _dataset_error(tmp_path, split)
    assert "corrupt" in message and "not UTF-8" in message


@pytest.mark.parametrize(
    ("damage", "phrase"),
    [
        pytest.param(lambda lines: lines[: _data_start(lines) - 1], "no @data line", id="no-data-line"),
        pytest.param(lambda lines: [line.replace("1.860936", "1.86O936") for line in lines],
                     "'1.86O936' is not a number", id="letter-in-a-number"),
        pytest.param(lambda lines: [*lines, lines[-1].rsplit(":", 2)[0] + ":3"],
                     "has 11 dimensions and a label", id="line-missing-a-channel"),
        pytest.param(lambda lines: [*lines, lines[-1].rsplit(":", 1)[0] + ":10"],
                     "class label '10' is not among", id="undeclared-label"),
        pytest.param(lambda lines: lines[:20] + ["garbage"] + lines[20:], "line ", id="junk-line"),
        pytest.param(lambda lines: [lines[0][:300]], "no @data line", id="truncated-to-a-comment"),
    ],
)
def test_unparseable_file_is_corrupt(tmp_path, damage, phrase):
    _write_lines(tmp_path, "train", damage(_shipped_lines("train")))
    message = _dataset_error(tmp_path, "train")
    assert "corrupt" in message and "could not be read as a .ts file" in message
    assert phrase in message


@pytest.mark.parametrize(("dropped", "left"), [(1, "269"), (70, "200")])
def test_series_removed(tmp_path, dropped, left):
    _write_lines(tmp_path, "train", _shipped_lines("train")[:-dropped])
    message = _dataset_error(tmp_path, "train")
    assert f"has {left} series, expected 270" in message
    assert "truncated" in message


def test_a_series_added(tmp_path):
    lines = _shipped_lines("test")
    _write_lines(tmp_path, "test", [*lines, lines[-1]])
    assert "has 371 series, expected 370" in _dataset_error(tmp_path, "test")


def test_wrong_number_of_channels(tmp_path):
    lines = _shipped_lines("train")
    start = _data_start(lines)
    header = [line.replace("@dimensions 12", "@dimensions 11") for line in lines[:start]]
    body = [line.split(":", 1)[1] for line in lines[start:]]  # drop the first channel of every series
    _write_lines(tmp_path, "train", header + body)
    message = _dataset_error(tmp_path, "train")
    assert "has 11 channels" in message and "expected 12 channels" in message


def test_wrong_classes(tmp_path):
    lines = [line.replace("@classLabel true 1 2 3 4 5 6 7 8 9", "@classLabel true 1 2 3 4 5 6 7 8 9 10")
             for line in _shipped_lines("train")]
    _write_lines(tmp_path, "train", lines)
    message = _dataset_error(tmp_path, "train")
    assert "'10']" in message and "not the shipped one" in message


def test_missing_values(tmp_path):
    lines = _shipped_lines("train")
    start = _data_start(lines)
    lines[start + 3] = "?" + lines[start + 3][lines[start + 3].index(","):]
    _write_lines(tmp_path, "train", lines)
    assert "missing values" in _dataset_error(tmp_path, "train")


@SPLITS
def test_one_changed_value(tmp_path, split):
    lines = _shipped_lines(split)
    row = _data_start(lines) + 10
    head, tail = lines[row].split(",", 1)
    lines[row] = f"{float(head) + 0.5:.6f},{tail}"
    _write_lines(tmp_path, split, lines)
    message = _dataset_error(tmp_path, split)
    assert "contents differ" in message
    assert SPECS[split].sha256[:12] in message


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
    ],
)
def test_reader_names_what_is_wrong(text, phrase):
    with pytest.raises(TsFormatError) as caught:
        parse_ts(text)
    assert phrase in str(caught.value)
