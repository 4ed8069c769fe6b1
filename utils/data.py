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
REGISTRY = (SEATTLE_TEMPS, PYTHON_DOCS_TEXT)


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
