"""The O'Neill's 1850 ABC file: it loads, is verified, and damage is reported with a fix."""

from __future__ import annotations

import shutil

from datafiles import expect_dataset_error

from utils.data import abc
from utils.data.loaders import DATASETS_DIR, ONEILLS_1850, ONEILLS_1850_CHARACTERS, REGISTRY, load_oneills_1850

FILE = DATASETS_DIR / ONEILLS_1850.filename


def test_the_file_loads_with_its_tunes():
    text = load_oneills_1850()
    assert len(text) == ONEILLS_1850_CHARACTERS
    tunes = abc.split_tunes(text)
    assert len(tunes) == 2009
    assert len({t.number for t in tunes}) == 1838
    assert tunes[0].number == 1 and tunes[0].title == "The Enchanted Valley"
    assert all(t.meter is not None and t.key is not None for t in tunes)
    assert ONEILLS_1850 in REGISTRY


def test_a_missing_file(tmp_path):
    expect_dataset_error(lambda: load_oneills_1850(tmp_path), tmp_path, ONEILLS_1850.filename)


def test_a_truncated_file(tmp_path):
    text = FILE.read_text(encoding="utf-8")
    (tmp_path / ONEILLS_1850.filename).write_text(text[: len(text) // 2], encoding="utf-8")
    message = expect_dataset_error(lambda: load_oneills_1850(tmp_path), tmp_path, ONEILLS_1850.filename)
    assert "expected 2,009" in message


def test_an_altered_file(tmp_path):
    shutil.copy(FILE, tmp_path / ONEILLS_1850.filename)
    path = tmp_path / ONEILLS_1850.filename
    path.write_text(path.read_text(encoding="utf-8").replace("Enchanted", "Enchanting"), encoding="utf-8")
    message = expect_dataset_error(lambda: load_oneills_1850(tmp_path), tmp_path, ONEILLS_1850.filename)
    assert "SHA-256" in message


def test_not_abc_or_not_text(tmp_path):
    (tmp_path / ONEILLS_1850.filename).write_text("just prose\n", encoding="utf-8")
    assert "ABC" in expect_dataset_error(lambda: load_oneills_1850(tmp_path), tmp_path, ONEILLS_1850.filename)
    (tmp_path / ONEILLS_1850.filename).write_bytes(b"X:1\n\xff\xfe")
    assert "UTF-8" in expect_dataset_error(lambda: load_oneills_1850(tmp_path), tmp_path, ONEILLS_1850.filename)
