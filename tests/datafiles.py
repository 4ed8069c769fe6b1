"""Helpers shared by the tests of the shipped data files (imported by ``tests/test_data*.py``)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from utils.data.loaders import (
    BASIC_MOTIONS_CHANNELS,
    BASIC_MOTIONS_SPLITS,
    DATASETS_DIR,
    JAPANESE_VOWELS_CHANNELS,
    JAPANESE_VOWELS_SPLITS,
    DatasetError,
    DatasetFile,
    LabelledSequences,
    load_basic_motions,
    load_japanese_vowels,
)


def expect_dataset_error(load: Callable[[], object], directory: Path, filename: str) -> str:
    """Call ``load``, expect a DatasetError that names the file and how to restore it; return its message."""
    with pytest.raises(DatasetError) as caught:
        load()
    message = str(caught.value)
    assert str(directory / filename) in message
    assert f"git checkout -- datasets/{filename}" in message
    assert "make_datasets.py" in message
    return message


def make_datasets() -> ModuleType:
    """``datasets/make_datasets.py``, imported as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("make_datasets", DATASETS_DIR / "make_datasets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class TsDataset:
    """A labelled ``.ts`` data set of the course: its loader, files and number of channels."""

    name: str
    load: Callable[..., LabelledSequences]
    specs: dict[str, DatasetFile]
    channels: int

    def lines(self, split: str) -> list[str]:
        """The shipped file's lines, without line ends."""
        return (DATASETS_DIR / self.specs[split].filename).read_text(encoding="utf-8").splitlines()

    def write(self, directory: Path, split: str, lines: list[str]) -> None:
        """Write ``lines`` as the split's file in ``directory``."""
        (directory / self.specs[split].filename).write_text("\n".join(lines) + "\n", encoding="utf-8")

    def error(self, directory: Path, split: str) -> str:
        """Load ``split`` from ``directory``, expecting a DatasetError with a fix; return its message."""
        return expect_dataset_error(lambda: self.load(split, directory=directory), directory,
                                    self.specs[split].filename)

    def __str__(self) -> str:
        return self.name


VOWELS = TsDataset("vowels", load_japanese_vowels, JAPANESE_VOWELS_SPLITS, JAPANESE_VOWELS_CHANNELS)
MOTIONS = TsDataset("motions", load_basic_motions, BASIC_MOTIONS_SPLITS, BASIC_MOTIONS_CHANNELS)
TS_DATASETS = (VOWELS, MOTIONS)


def data_start(lines: list[str]) -> int:
    """The index of the first line after ``@data``."""
    return next(i for i, line in enumerate(lines) if line.strip().lower() == "@data") + 1


def drop_last_step(line: str, channels: int) -> str:
    """A series line whose channels have each lost their last time step."""
    fields = line.split(":")
    return ":".join([*(field.rsplit(",", 1)[0] for field in fields[:channels]), *fields[channels:]])
