"""The labelled .ts files the course ships (Japanese Vowels, BasicMotions): any damage is reported."""

from __future__ import annotations

import shutil

import pytest
from datafiles import TS_DATASETS, TsDataset, data_start, drop_last_step

from utils.data.loaders import DATASETS_DIR, REGISTRY, sha256_of

DATASETS = pytest.mark.parametrize("dataset", TS_DATASETS, ids=str)
EACH_FILE = pytest.mark.parametrize(
    ("dataset", "split"), [(dataset, split) for dataset in TS_DATASETS for split in sorted(dataset.specs)],
    ids=lambda value: str(value),
)


def _first_number_misspelt(lines: list[str]) -> tuple[list[str], str]:
    """The lines with a letter inside the first number of the first series, and that number."""
    start = data_start(lines)
    first, rest = lines[start].split(",", 1)
    misspelt = first.replace(".", "O", 1)
    return [*lines[:start], f"{misspelt},{rest}", *lines[start + 1:]], misspelt


@EACH_FILE
def test_file_is_registered_and_intact(dataset: TsDataset, split: str):
    spec = dataset.specs[split]
    assert spec in REGISTRY
    assert sha256_of(DATASETS_DIR / spec.filename) == spec.sha256


@DATASETS
def test_a_directory_holding_intact_copies_loads(tmp_path, dataset: TsDataset):
    for spec in dataset.specs.values():
        shutil.copy(DATASETS_DIR / spec.filename, tmp_path)
    assert len(dataset.load("test", directory=tmp_path)) == dataset.specs["test"].length


@EACH_FILE
def test_missing_file(tmp_path, dataset: TsDataset, split: str):
    assert "missing" in dataset.error(tmp_path, split)


@DATASETS
def test_a_directory_in_place_of_the_file_counts_as_missing(tmp_path, dataset: TsDataset):
    (tmp_path / dataset.specs["test"].filename).mkdir()
    assert "missing" in dataset.error(tmp_path, "test")


@DATASETS
def test_invalid_utf8_is_corrupt(tmp_path, dataset: TsDataset):
    (tmp_path / dataset.specs["train"].filename).write_bytes(b"\xff\xfe\xfa\x00\x81 not text\n")
    message = dataset.error(tmp_path, "train")
    assert "corrupt" in message and "not UTF-8" in message


@DATASETS
@pytest.mark.parametrize(
    ("damage", "phrase"),
    [
        pytest.param(lambda lines: lines[: data_start(lines) - 1], "no @data line", id="no-data-line"),
        pytest.param(lambda lines: [*lines[:-1], lines[-1].split(":", 1)[1]],
                     "dimensions and a label", id="series-missing-a-channel"),
        pytest.param(lambda lines: [*lines[:-1], drop_last_step(lines[-1], 1)],
                     "its dimensions have different lengths", id="one-channel-short"),
        pytest.param(lambda lines: [*lines[:-1], lines[-1].rsplit(":", 1)[0] + ":Nobody"],
                     "class label 'Nobody' is not among", id="undeclared-label"),
        pytest.param(lambda lines: lines[:20] + ["garbage"] + lines[20:], "line ", id="junk-line"),
        pytest.param(lambda lines: [lines[0][:300]], "no @data line", id="truncated-to-a-comment"),
    ],
)
def test_unparseable_file_is_corrupt(tmp_path, dataset: TsDataset, damage, phrase):
    dataset.write(tmp_path, "train", damage(dataset.lines("train")))
    message = dataset.error(tmp_path, "train")
    assert "corrupt" in message and "could not be read as a .ts file" in message
    assert phrase in message


@DATASETS
def test_a_letter_inside_a_number_is_corrupt(tmp_path, dataset: TsDataset):
    lines, misspelt = _first_number_misspelt(dataset.lines("train"))
    dataset.write(tmp_path, "train", lines)
    assert f"{misspelt!r} is not a number" in dataset.error(tmp_path, "train")


@DATASETS
@pytest.mark.parametrize("dropped", [1, 20])
def test_series_removed(tmp_path, dataset: TsDataset, dropped: int):
    dataset.write(tmp_path, "train", dataset.lines("train")[:-dropped])
    expected = dataset.specs["train"].length
    message = dataset.error(tmp_path, "train")
    assert f"has {expected - dropped} series, expected {expected}" in message
    assert "truncated" in message


@DATASETS
def test_a_series_added(tmp_path, dataset: TsDataset):
    lines = dataset.lines("test")
    dataset.write(tmp_path, "test", [*lines, lines[-1]])
    expected = dataset.specs["test"].length
    assert f"has {expected + 1} series, expected {expected}" in dataset.error(tmp_path, "test")


@DATASETS
def test_wrong_number_of_channels(tmp_path, dataset: TsDataset):
    lines = dataset.lines("train")
    start = data_start(lines)
    channels = dataset.channels
    header = [line.replace(f"@dimensions {channels}", f"@dimensions {channels - 1}")
              for line in lines[:start]]
    body = [line.split(":", 1)[1] for line in lines[start:]]  # drop the first channel of every series
    dataset.write(tmp_path, "train", header + body)
    message = dataset.error(tmp_path, "train")
    assert f"has {channels - 1} channels" in message and f"expected {channels} channels" in message


@DATASETS
def test_an_extra_class(tmp_path, dataset: TsDataset):
    lines = [f"{line} Extra" if line.lower().startswith("@classlabel") else line
             for line in dataset.lines("train")]
    dataset.write(tmp_path, "train", lines)
    message = dataset.error(tmp_path, "train")
    assert "'Extra']" in message and "not the shipped one" in message


@DATASETS
def test_missing_values(tmp_path, dataset: TsDataset):
    lines = dataset.lines("train")
    row = data_start(lines) + 3
    lines[row] = "?" + lines[row][lines[row].index(","):]
    dataset.write(tmp_path, "train", lines)
    assert "missing values" in dataset.error(tmp_path, "train")


@EACH_FILE
def test_one_changed_value(tmp_path, dataset: TsDataset, split: str):
    lines = dataset.lines(split)
    row = data_start(lines) + 10
    head, tail = lines[row].split(",", 1)
    lines[row] = f"{float(head) + 0.5:.6f},{tail}"
    dataset.write(tmp_path, split, lines)
    message = dataset.error(tmp_path, split)
    assert "contents differ" in message
    assert dataset.specs[split].sha256[:12] in message
