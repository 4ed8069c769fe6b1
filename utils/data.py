"""Verified loaders for the data shipped in ``datasets/``.

Each loader checks, in this order, that the file exists, that it parses, that it
has the expected shape and that its SHA-256 matches the shipped file. Any
failure raises :class:`DatasetError` with a message that says what is wrong and
how to fix it. ``datasets/README.md`` gives each file's source and licence.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from utils.tsformat import TsFormatError, parse_ts

DATASETS_DIR = Path(__file__).resolve().parent.parent / "datasets"


class DatasetError(RuntimeError):
    """A data file is missing, unreadable, of the wrong shape or altered."""


@dataclass(frozen=True)
class DatasetFile:
    """One shipped file: its name in ``datasets/``, size and checksum."""

    filename: str
    sha256: str
    length: int
    unit: str

    def restore_hint(self) -> str:
        """How a learner gets the original file back."""
        return (
            f"Restore the shipped file with `git checkout -- datasets/{self.filename}` "
            f"(or download the repository again); `python datasets/make_datasets.py` rebuilds it "
            "from its source package."
        )


SEATTLE_TEMPS = DatasetFile(
    filename="seattle-temps.csv",
    sha256="c220666521ff4bec4ffb6f0d9acfdc5c1056564b1aad6f78d3b06aa0a0c8b085",
    length=8759,
    unit="rows",
)
PYTHON_DOCS_TEXT = DatasetFile(
    filename="python-docs-topics.txt",
    sha256="37d06970fc926e60c16dff401e441b84752446a36b6b64516c229fdec77e992c",
    length=464970,
    unit="characters",
)
JAPANESE_VOWELS_TRAIN = DatasetFile(
    filename="japanese-vowels-train.ts",
    sha256="68a430eabd919cc77f40b1f5f3bc0dcafacc1486bca9260785aeb7d262cc78cd",
    length=270,
    unit="series",
)
JAPANESE_VOWELS_TEST = DatasetFile(
    filename="japanese-vowels-test.ts",
    sha256="b3d41d6a0ca3bcad3afb9ca7d4365382aa51341e2e58bae2a574babdda5b9462",
    length=370,
    unit="series",
)
JAPANESE_VOWELS_SPLITS = {"train": JAPANESE_VOWELS_TRAIN, "test": JAPANESE_VOWELS_TEST}
JAPANESE_VOWELS_CHANNELS = 12
JAPANESE_VOWELS_SPEAKERS = 9
REGISTRY = (SEATTLE_TEMPS, PYTHON_DOCS_TEXT, JAPANESE_VOWELS_TRAIN, JAPANESE_VOWELS_TEST)


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _locate(spec: DatasetFile, directory: Path | None) -> Path:
    path = (directory or DATASETS_DIR) / spec.filename
    if not path.is_file():
        raise DatasetError(f"{path} is missing. {spec.restore_hint()}")
    return path


def _expect_length(spec: DatasetFile, path: Path, length: int) -> None:
    if length != spec.length:
        raise DatasetError(
            f"{path} has {length:,} {spec.unit}, expected {spec.length:,}: the file is truncated "
            f"or is not the shipped one. {spec.restore_hint()}"
        )


def _expect_checksum(spec: DatasetFile, path: Path) -> None:
    digest = sha256_of(path)
    if digest != spec.sha256:
        raise DatasetError(
            f"{path} has the right shape but its contents differ from the shipped file "
            f"(SHA-256 {digest[:12]}..., expected {spec.sha256[:12]}...). {spec.restore_hint()}"
        )


def load_seattle_temps(directory: Path | None = None) -> pd.DataFrame:
    """Hourly air temperature in Seattle, 2010, in degrees Celsius.

    Returns a DataFrame indexed by hour (``time``) with one column, ``temp_c``.
    """
    spec = SEATTLE_TEMPS
    path = _locate(spec, directory)
    try:
        frame = pd.read_csv(path)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DatasetError(f"{path} is corrupt: it could not be read as CSV ({exc}). {spec.restore_hint()}") from None
    if list(frame.columns) != ["date", "temp"]:
        raise DatasetError(
            f"{path} has columns {list(frame.columns)}, expected ['date', 'temp']: the file is corrupt "
            f"or is not the shipped one. {spec.restore_hint()}"
        )
    _expect_length(spec, path, len(frame))
    _expect_checksum(spec, path)
    time = pd.to_datetime(frame["date"], format="%Y/%m/%d %H:%M")
    celsius = (frame["temp"].to_numpy(dtype=np.float64) - 32.0) * 5.0 / 9.0
    return pd.DataFrame({"temp_c": celsius}, index=pd.Index(time, name="time"))


def load_python_docs_text(directory: Path | None = None) -> str:
    """About 465,000 characters of English prose from the Python documentation."""
    spec = PYTHON_DOCS_TEXT
    path = _locate(spec, directory)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path} is corrupt: it is not UTF-8 text ({exc}). {spec.restore_hint()}") from None
    _expect_length(spec, path, len(text))
    _expect_checksum(spec, path)
    return text


@dataclass(frozen=True)
class LabelledSequences:
    """Variable-length multichannel sequences with one class label each.

    ``sequences[i]`` has shape ``(length_i, channels)`` (time first, float32);
    ``labels[i]`` is a class index from 0; ``classes[j]`` is the name of class ``j``.
    """

    sequences: list[np.ndarray]
    labels: np.ndarray
    classes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.sequences)

    def lengths(self) -> np.ndarray:
        """The number of time steps of each sequence."""
        return np.array([len(sequence) for sequence in self.sequences])


def load_japanese_vowels(split: str = "train", directory: Path | None = None) -> LabelledSequences:
    """The UCI Japanese Vowels speaker-recognition data, official split (270 train, 370 test).

    Each sequence is one utterance of the vowels /ae/ by one of 9 male speakers: 7 to 29
    frames of 12 linear-prediction cepstral coefficients. Labels 0..8 are speakers 1..9.
    """
    if split not in JAPANESE_VOWELS_SPLITS:
        raise ValueError(f"split must be one of {sorted(JAPANESE_VOWELS_SPLITS)}, got {split!r}.")
    spec = JAPANESE_VOWELS_SPLITS[split]
    path = _locate(spec, directory)
    try:
        parsed = parse_ts(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path} is corrupt: it is not UTF-8 text ({exc}). "
                           f"{spec.restore_hint()}") from None
    except TsFormatError as exc:
        raise DatasetError(f"{path} is corrupt: it could not be read as a .ts file ({str(exc).rstrip('.')}). "
                           f"{spec.restore_hint()}") from None
    _expect_length(spec, path, len(parsed.series))
    expected_classes = tuple(str(speaker) for speaker in range(1, JAPANESE_VOWELS_SPEAKERS + 1))
    if parsed.dimensions != JAPANESE_VOWELS_CHANNELS or parsed.class_labels != expected_classes:
        raise DatasetError(
            f"{path} has {parsed.dimensions} channels and classes {list(parsed.class_labels)}, expected "
            f"{JAPANESE_VOWELS_CHANNELS} channels and classes {list(expected_classes)}: the file is not "
            f"the shipped one. {spec.restore_hint()}"
        )
    if any(np.isnan(sequence).any() for sequence in parsed.series):
        raise DatasetError(f"{path} has missing values ('?'), which the shipped file does not: "
                           f"the file is corrupt. {spec.restore_hint()}")
    _expect_checksum(spec, path)
    assert parsed.labels is not None  # guaranteed by the class labels checked above
    return LabelledSequences(
        sequences=[sequence.astype(np.float32) for sequence in parsed.series],
        labels=np.array([expected_classes.index(label) for label in parsed.labels], dtype=np.int32),
        classes=expected_classes,
    )
