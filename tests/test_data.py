"""utils.data.loaders: the shipped files load, and every kind of damage is reported with a fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from datafiles import expect_dataset_error

from utils.data.loaders import (
    DATASETS_DIR,
    PYTHON_DOCS_TEXT,
    REGISTRY,
    SEATTLE_TEMPS,
    load_python_docs_text,
    load_seattle_temps,
    sha256_of,
)

CSV = DATASETS_DIR / SEATTLE_TEMPS.filename
TEXT = DATASETS_DIR / PYTHON_DOCS_TEXT.filename
LOADERS = {SEATTLE_TEMPS.filename: load_seattle_temps, PYTHON_DOCS_TEXT.filename: load_python_docs_text}
BOTH = pytest.mark.parametrize("filename", sorted(LOADERS))


def _write(directory: Path, filename: str, data: bytes | str) -> None:
    path = directory / filename
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", newline="")
    else:
        path.write_bytes(data)


def _dataset_error(directory: Path, filename: str) -> str:
    """Load ``filename`` from ``directory``, expect a DatasetError with a fix, return its message."""
    return expect_dataset_error(lambda: LOADERS[filename](directory=directory), directory, filename)


def _csv_lines() -> list[str]:
    """The shipped CSV's lines, header first, without line ends."""
    return CSV.read_text(encoding="utf-8").splitlines()


def _write_csv(directory: Path, lines: list[str]) -> None:
    _write(directory, SEATTLE_TEMPS.filename, "\n".join(lines))


# The shipped files ------------------------------------------------------------------------------


def test_registry_matches_the_shipped_files():
    for spec in REGISTRY:
        assert sha256_of(DATASETS_DIR / spec.filename) == spec.sha256


def test_seattle_temps_loads_as_hourly_celsius():
    frame = load_seattle_temps()
    assert frame.shape == (8759, 1)
    assert list(frame.columns) == ["temp_c"]
    assert frame.index.name == "time"
    assert isinstance(frame.index, pd.DatetimeIndex)
    assert frame.index[0] == pd.Timestamp("2010-01-01 00:00")
    assert frame.index.is_monotonic_increasing
    assert (frame.index[1:] - frame.index[:-1]).median() == pd.Timedelta(hours=1)
    temps = frame["temp_c"].to_numpy()
    assert temps.dtype == np.float64
    assert not np.isnan(temps).any()
    assert -15.0 < temps.min() < 5.0
    assert 20.0 < temps.max() < 40.0
    assert 5.0 < temps.mean() < 15.0


def test_seattle_temps_converts_fahrenheit_to_celsius():
    first_fahrenheit = float(_csv_lines()[1].split(",")[1])
    assert load_seattle_temps()["temp_c"].iloc[0] == pytest.approx((first_fahrenheit - 32.0) * 5.0 / 9.0)


def test_python_docs_text_loads_in_full():
    text = load_python_docs_text()
    assert isinstance(text, str)
    assert len(text) == 464_970
    assert "Python" in text


def test_a_directory_holding_intact_copies_loads(tmp_path):
    shutil.copy(CSV, tmp_path)
    shutil.copy(TEXT, tmp_path)
    assert len(load_seattle_temps(directory=tmp_path)) == 8759
    assert len(load_python_docs_text(directory=tmp_path)) == 464_970


# Damaged files ----------------------------------------------------------------------------------


@BOTH
def test_missing_file(tmp_path, filename):
    message = _dataset_error(tmp_path, filename)
    assert "missing" in message


@BOTH
def test_invalid_utf8_is_corrupt(tmp_path, filename):
    _write(tmp_path, filename, b"\xff\xfe\xfa\x00\x81 not text \x99\x98\n")
    assert "corrupt" in _dataset_error(tmp_path, filename)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(bytes(range(256)) * 8, id="binary-bytes"),
        pytest.param(b'date,temp\n2010/01/01 00:00,39.4\n"2010/01/01 01:00,39.2\n', id="unclosed-quote"),
        pytest.param(b"date,temp\n2010/01/01 00:00,39.4\n2010/01/01 01:00,39.2,extra\n", id="ragged-rows"),
        pytest.param(b"", id="empty-file"),
    ],
)
def test_unparseable_csv_is_corrupt(tmp_path, content):
    _write(tmp_path, SEATTLE_TEMPS.filename, content)
    message = _dataset_error(tmp_path, SEATTLE_TEMPS.filename)
    assert "corrupt" in message
    assert "could not be read as CSV" in message


@pytest.mark.parametrize(
    "header",
    [pytest.param("day,temp", id="renamed"), pytest.param("date,temp,station", id="extra-column")],
)
def test_csv_with_wrong_columns(tmp_path, header):
    body = _csv_lines()[1:]
    if header.count(",") == 2:
        body = [f"{line},KSEA" for line in body]
    _write_csv(tmp_path, [header, *body])
    message = _dataset_error(tmp_path, SEATTLE_TEMPS.filename)
    assert "has columns" in message
    assert "expected ['date', 'temp']" in message
    assert "corrupt" in message


@pytest.mark.parametrize(("dropped", "left"), [(1, "8,758"), (759, "8,000")])
def test_csv_with_rows_removed(tmp_path, dropped, left):
    _write_csv(tmp_path, _csv_lines()[:-dropped])
    message = _dataset_error(tmp_path, SEATTLE_TEMPS.filename)
    assert f"has {left} rows, expected 8,759" in message
    assert "truncated" in message


def test_csv_with_a_row_added(tmp_path):
    _write_csv(tmp_path, [*_csv_lines(), "2011/01/01 00:00,40.0"])
    assert "has 8,760 rows, expected 8,759" in _dataset_error(tmp_path, SEATTLE_TEMPS.filename)


def test_truncated_text(tmp_path):
    _write(tmp_path, PYTHON_DOCS_TEXT.filename, TEXT.read_bytes().decode("utf-8")[:-1000])
    message = _dataset_error(tmp_path, PYTHON_DOCS_TEXT.filename)
    assert "has 463,970 characters, expected 464,970" in message


def test_csv_with_one_changed_value(tmp_path):
    lines = _csv_lines()
    date, temp = lines[100].split(",")
    lines[100] = f"{date},{float(temp) + 1.0:.1f}"
    _write_csv(tmp_path, lines)
    message = _dataset_error(tmp_path, SEATTLE_TEMPS.filename)
    assert "contents differ" in message
    assert SEATTLE_TEMPS.sha256[:12] in message


def test_text_with_one_changed_character(tmp_path):
    text = TEXT.read_bytes().decode("utf-8")
    middle = len(text) // 2
    changed = text[:middle] + ("X" if text[middle] != "X" else "Y") + text[middle + 1 :]
    _write(tmp_path, PYTHON_DOCS_TEXT.filename, changed)
    message = _dataset_error(tmp_path, PYTHON_DOCS_TEXT.filename)
    assert "contents differ" in message
    assert PYTHON_DOCS_TEXT.sha256[:12] in message


@BOTH
def test_a_directory_in_place_of_the_file_counts_as_missing(tmp_path, filename):
    (tmp_path / filename).mkdir()
    assert "missing" in _dataset_error(tmp_path, filename)
