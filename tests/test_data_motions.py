"""The BasicMotions files, equal-length .ts files, rebuilding (damaged files: ``test_data_ts_files.py``)."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from datafiles import MOTIONS, data_start, drop_last_step, make_datasets

from utils.data.loaders import BASIC_MOTIONS_CLASSES, BASIC_MOTIONS_SPLITS, DATASETS_DIR, REGISTRY, load_basic_motions

SPLITS = pytest.mark.parametrize("split", sorted(BASIC_MOTIONS_SPLITS))


# The shipped files ------------------------------------------------------------------------------


@SPLITS
def test_official_split_loads_as_equal_length_sequences(split):
    data = load_basic_motions(split)
    assert len(data) == 40
    assert data.classes == ("Standing", "Running", "Walking", "Badminton") == BASIC_MOTIONS_CLASSES
    assert data.labels.dtype == np.int32
    assert data.lengths().tolist() == [100] * 40
    assert all(sequence.shape == (100, 6) for sequence in data.sequences)
    assert all(sequence.dtype == np.float32 for sequence in data.sequences)
    assert all(np.isfinite(sequence).all() for sequence in data.sequences)
    assert np.stack(data.sequences).shape == (40, 100, 6)


@SPLITS
def test_both_splits_are_balanced(split):
    assert np.bincount(load_basic_motions(split).labels, minlength=4).tolist() == [10, 10, 10, 10]


@SPLITS
def test_labels_follow_the_class_names_in_the_file(split):
    lines = MOTIONS.lines(split)
    names = [line.rsplit(":", 1)[1] for line in lines[data_start(lines):] if line.strip()]
    data = load_basic_motions(split)
    assert [data.classes[label] for label in data.labels] == names


def test_first_values_match_the_file_channel_by_channel():
    lines = MOTIONS.lines("train")
    channels = lines[data_start(lines)].split(":")[:6]
    sequence = load_basic_motions("train").sequences[0]
    for channel, field in enumerate(channels):
        values = [float(value) for value in field.split(",")]
        assert sequence[:, channel] == pytest.approx(values, abs=1e-6)


def test_activities_differ_in_how_much_the_watch_moves():
    data = load_basic_motions("train")
    spread = {name: np.mean([data.sequences[i].std(axis=0).mean() for i in np.flatnonzero(data.labels == k)])
              for k, name in enumerate(data.classes)}
    assert spread["Standing"] < spread["Walking"] < spread["Running"]


def test_unknown_split():
    with pytest.raises(ValueError, match=r"split must be one of \['test', 'train'\], got 'TRAIN'"):
        load_basic_motions("TRAIN")


# Series of the wrong length --------------------------------------------------------------------


def test_a_shortened_series_breaks_the_declared_length(tmp_path):
    lines = MOTIONS.lines("train")
    row = data_start(lines) + 7
    lines[row] = drop_last_step(lines[row], 6)
    MOTIONS.write(tmp_path, "train", lines)
    message = MOTIONS.error(tmp_path, "train")
    assert "corrupt" in message
    assert f"line {row + 1} has 99 time steps" in message and "@seriesLength 100" in message


def test_series_of_another_length_without_a_declared_length(tmp_path):
    lines = [line for line in MOTIONS.lines("test") if not line.startswith(("@seriesLength", "@equalLength"))]
    start = data_start(lines)
    lines[start:] = [drop_last_step(line, 6) for line in lines[start:]]
    MOTIONS.write(tmp_path, "test", lines)
    message = MOTIONS.error(tmp_path, "test")
    assert "series 1 has 99 time steps, expected 100 for every series" in message
    assert "not the shipped one" in message


# Rebuilding the files ---------------------------------------------------------------------------


def test_every_registered_file_can_be_rebuilt():
    assert {spec.filename for spec in REGISTRY} == set(make_datasets().builders())


def test_rebuilding_from_a_wheel_reproduces_the_shipped_bytes(tmp_path):
    wheel = tmp_path / "aeon-0.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for split, spec in BASIC_MOTIONS_SPLITS.items():
            member = f"aeon/datasets/data/BasicMotions/BasicMotions_{split.upper()}.ts"
            archive.write(DATASETS_DIR / spec.filename, member)
    built = make_datasets().builders(wheel=wheel)
    for spec in BASIC_MOTIONS_SPLITS.values():
        assert built[spec.filename]() == (DATASETS_DIR / spec.filename).read_bytes()


def test_a_wheel_without_the_file_says_how_to_get_one(tmp_path):
    wheel = tmp_path / "empty.whl"
    zipfile.ZipFile(wheel, "w").close()
    with pytest.raises(SystemExit) as caught:
        make_datasets().builders(wheel=wheel)["basic-motions-train.ts"]()
    assert "BasicMotions_TRAIN.ts" in str(caught.value)
    assert "pip download aeon==1.6.0 --no-deps" in str(caught.value)


def test_rebuilding_never_leaves_a_half_written_file(tmp_path, monkeypatch):
    script = make_datasets()
    target = tmp_path / "basic-motions-train.ts"
    target.write_bytes(b"the old contents")

    def interrupted(source: str, destination: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        script.write_atomically(target, b"new contents that never land")
    assert target.read_bytes() == b"the old contents"
    assert [path.name for path in tmp_path.iterdir()] == [target.name]


def test_a_rebuilt_file_is_readable_by_everyone(tmp_path):
    target = tmp_path / "new.ts"
    make_datasets().write_atomically(target, b"data")
    assert target.read_bytes() == b"data"
    assert target.stat().st_mode & 0o777 == 0o644
