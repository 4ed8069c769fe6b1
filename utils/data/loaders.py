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

from utils.data.tsformat import TsFormatError, parse_ts

DATASETS_DIR = Path(__file__).resolve().parents[2] / "datasets"


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
BASIC_MOTIONS_TRAIN = DatasetFile(
    filename="basic-motions-train.ts",
    sha256="8dc43cc6306cb679c888c01e26f91772ac4441a916da43bac8b79734a538b9d6",
    length=40,
    unit="series",
)
BASIC_MOTIONS_TEST = DatasetFile(
    filename="basic-motions-test.ts",
    sha256="79213102bc6fca1a398ad98ce1185dff0208fa3d1465e687f48288946b0ff8dc",
    length=40,
    unit="series",
)
BASIC_MOTIONS_SPLITS = {"train": BASIC_MOTIONS_TRAIN, "test": BASIC_MOTIONS_TEST}
BASIC_MOTIONS_CHANNELS = 6
BASIC_MOTIONS_LENGTH = 100
# The order in which the file's header declares the classes: label i is BASIC_MOTIONS_CLASSES[i].
BASIC_MOTIONS_CLASSES = ("Standing", "Running", "Walking", "Badminton")
NYC_WEATHER = DatasetFile(
    filename="nyc-weather-2013.csv",
    sha256="5d1ea2548a3941eac0b4a9ca70805daa9fa49bbb711a0c7557b2bba0bd7c3f64",
    length=26115,
    unit="rows",
)
NYC_WEATHER_STATIONS = ("EWR", "JFK", "LGA")
NYC_WEATHER_COLUMNS = ("origin", "year", "month", "day", "hour", "temp", "dewp", "humid", "wind_dir",
                       "wind_speed", "wind_gust", "precip", "pressure", "visib", "time_hour")
# Readings in the shipped file that are instrument or transcription errors, set to NaN on loading:
# (station, hour in UTC, columns). Found as isolated jumps no weather makes (see datasets/README.md).
NYC_WEATHER_BAD_READINGS = (
    ("EWR", "2013-02-12 08:00", ("wind_speed",)),  # 1,048 mph between readings of 21 and 13 mph
    ("JFK", "2013-05-09 02:00", ("temp", "dewp", "humid")),  # 13.1 degF between readings of 57 degF
)
# O'Neill's 1850 in ABC notation (chapter 6), as music21's corpus ships it.
ONEILLS_1850 = DatasetFile(
    filename="oneills-1850.abc",
    sha256="c45fbfa139a40a00dd465badff3f99dc9177877d00cb7cb7b696e9cdf4fd942e",
    length=2009,
    unit="tunes",
)
ONEILLS_1850_CHARACTERS = 781_984
REGISTRY = (SEATTLE_TEMPS, PYTHON_DOCS_TEXT, JAPANESE_VOWELS_TRAIN, JAPANESE_VOWELS_TEST,
            BASIC_MOTIONS_TRAIN, BASIC_MOTIONS_TEST, NYC_WEATHER, ONEILLS_1850)


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


def _split_spec(splits: dict[str, DatasetFile], split: str) -> DatasetFile:
    """The file of one named split, or a ValueError that lists the splits there are."""
    if split not in splits:
        raise ValueError(f"split must be one of {sorted(splits)}, got {split!r}.")
    return splits[split]


def _read_text(spec: DatasetFile, path: Path) -> str:
    """The file's text, which must be UTF-8."""
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path} is corrupt: it is not UTF-8 text ({exc}). "
                           f"{spec.restore_hint()}") from None


def _read_csv(spec: DatasetFile, path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """The CSV at ``path``, checked to have exactly ``columns`` and ``spec.length`` rows."""
    try:
        frame = pd.read_csv(path)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DatasetError(f"{path} is corrupt: it could not be read as CSV ({exc}). "
                           f"{spec.restore_hint()}") from None
    if tuple(frame.columns) != columns:
        raise DatasetError(
            f"{path} has columns {list(frame.columns)}, expected {list(columns)}: the file is corrupt "
            f"or is not the shipped one. {spec.restore_hint()}"
        )
    _expect_length(spec, path, len(frame))
    return frame


def _celsius(fahrenheit: pd.Series) -> np.ndarray:
    """Degrees Fahrenheit to degrees Celsius, as float64."""
    return (fahrenheit.to_numpy(dtype=np.float64) - 32.0) * 5.0 / 9.0


def load_seattle_temps(directory: Path | None = None) -> pd.DataFrame:
    """Hourly air temperature in Seattle, 2010, in degrees Celsius.

    Returns a DataFrame indexed by hour (``time``) with one column, ``temp_c``.
    """
    spec = SEATTLE_TEMPS
    path = _locate(spec, directory)
    frame = _read_csv(spec, path, ("date", "temp"))
    _expect_checksum(spec, path)
    time = pd.to_datetime(frame["date"], format="%Y/%m/%d %H:%M")
    return pd.DataFrame({"temp_c": _celsius(frame["temp"])}, index=pd.Index(time, name="time"))


def load_python_docs_text(directory: Path | None = None) -> str:
    """About 465,000 characters of English prose from the Python documentation."""
    spec = PYTHON_DOCS_TEXT
    path = _locate(spec, directory)
    text = _read_text(spec, path)
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


def _load_labelled_ts(spec: DatasetFile, directory: Path | None, channels: int, classes: tuple[str, ...],
                      length: int | None = None) -> LabelledSequences:
    """Read and verify a labelled ``.ts`` file: series count, channels, classes, length, no gaps, checksum."""
    path = _locate(spec, directory)
    try:
        parsed = parse_ts(_read_text(spec, path))
    except TsFormatError as exc:
        raise DatasetError(f"{path} is corrupt: it could not be read as a .ts file ({str(exc).rstrip('.')}). "
                           f"{spec.restore_hint()}") from None
    _expect_length(spec, path, len(parsed.series))
    if parsed.dimensions != channels or parsed.class_labels != classes:
        raise DatasetError(
            f"{path} has {parsed.dimensions} channels and classes {list(parsed.class_labels)}, expected "
            f"{channels} channels and classes {list(classes)}: the file is not the shipped one. "
            f"{spec.restore_hint()}"
        )
    if length is not None:
        wrong = next((i for i, sequence in enumerate(parsed.series) if len(sequence) != length), None)
        if wrong is not None:
            raise DatasetError(
                f"{path}: series {wrong + 1} has {len(parsed.series[wrong])} time steps, expected "
                f"{length} for every series: the file is not the shipped one. {spec.restore_hint()}"
            )
    if any(np.isnan(sequence).any() for sequence in parsed.series):
        raise DatasetError(f"{path} has missing values ('?'), which the shipped file does not: "
                           f"the file is corrupt. {spec.restore_hint()}")
    _expect_checksum(spec, path)
    assert parsed.labels is not None  # guaranteed by the class labels checked above
    return LabelledSequences(
        sequences=[sequence.astype(np.float32) for sequence in parsed.series],
        labels=np.array([classes.index(label) for label in parsed.labels], dtype=np.int32),
        classes=classes,
    )


def load_japanese_vowels(split: str = "train", directory: Path | None = None) -> LabelledSequences:
    """The UCI Japanese Vowels speaker-recognition data, official split (270 train, 370 test).

    Each sequence is one utterance of the vowels /ae/ by one of 9 male speakers: 7 to 29
    frames of 12 linear-prediction cepstral coefficients. Labels 0..8 are speakers 1..9.
    """
    spec = _split_spec(JAPANESE_VOWELS_SPLITS, split)
    speakers = tuple(str(speaker) for speaker in range(1, JAPANESE_VOWELS_SPEAKERS + 1))
    return _load_labelled_ts(spec, directory, JAPANESE_VOWELS_CHANNELS, speakers)


def load_basic_motions(split: str = "train", directory: Path | None = None) -> LabelledSequences:
    """The UEA/UCR archive's BasicMotions activity data, official split (40 train, 40 test).

    Each sequence is 10 s of a smart watch worn by a student who was standing, running,
    walking or playing badminton: 100 steps (10 per second) of 6 channels from the watch's
    3-axis accelerometer and 3-axis gyroscope (the file does not name the channels). Labels
    0..3 follow :data:`BASIC_MOTIONS_CLASSES` (Standing, Running, Walking, Badminton), the
    order the file declares them in.
    """
    spec = _split_spec(BASIC_MOTIONS_SPLITS, split)
    return _load_labelled_ts(spec, directory, BASIC_MOTIONS_CHANNELS, BASIC_MOTIONS_CLASSES,
                             length=BASIC_MOTIONS_LENGTH)


def load_nyc_weather(station: str = "LGA", directory: Path | None = None) -> pd.DataFrame:
    """Hourly weather readings at one New York airport through 2013 (``EWR``, ``JFK`` or ``LGA``).

    Returns a DataFrame on a complete hourly grid in UTC (index ``time``, 8,730 hours from
    2013-01-01 06:00 to 2013-12-30 23:00, that is 01:00 on 1 January to 18:00 on 30 December in
    New York): hours the station did not report are rows of NaN, and so are the few readings
    listed in :data:`NYC_WEATHER_BAD_READINGS`. Columns, in SI units:
    ``temp_c``, ``dewpoint_c``, ``humidity_pct``, ``pressure_hpa`` (sea level), ``wind_dir_deg``
    (0 when calm, NaN when variable), ``wind_speed_ms``, ``precip_mm`` (in the hour) and
    ``visibility_km`` (reported up to 10 miles, 16.1 km). ``frame.tz_convert("America/New_York")``
    gives local time.
    """
    if station not in NYC_WEATHER_STATIONS:
        raise ValueError(f"station must be one of {list(NYC_WEATHER_STATIONS)}, got {station!r}.")
    spec = NYC_WEATHER
    path = _locate(spec, directory)
    frame = _read_csv(spec, path, NYC_WEATHER_COLUMNS)
    _expect_checksum(spec, path)
    rows = frame[frame["origin"] == station]
    rows = rows.set_index(pd.DatetimeIndex(pd.to_datetime(rows["time_hour"], utc=True), name="time"))
    for bad_station, hour, columns in NYC_WEATHER_BAD_READINGS:
        if bad_station == station:
            rows.loc[rows.index == pd.Timestamp(hour, tz="UTC"), list(columns)] = np.nan
    hours = pd.date_range(rows.index[0], rows.index[-1], freq="h", name="time")
    frame = rows.reindex(hours)
    mph = 0.44704  # metres per second in one mile per hour
    return pd.DataFrame({
        "temp_c": _celsius(frame["temp"]),
        "dewpoint_c": _celsius(frame["dewp"]),
        "humidity_pct": frame["humid"].to_numpy(dtype=np.float64),
        "pressure_hpa": frame["pressure"].to_numpy(dtype=np.float64),
        "wind_dir_deg": frame["wind_dir"].to_numpy(dtype=np.float64),
        "wind_speed_ms": frame["wind_speed"].to_numpy(dtype=np.float64) * mph,
        "precip_mm": frame["precip"].to_numpy(dtype=np.float64) * 25.4,
        "visibility_km": frame["visib"].to_numpy(dtype=np.float64) * 1.609344,
    }, index=hours)



def load_oneills_1850(directory: Path | None = None) -> str:
    """The ABC text of O'Neill's *Music of Ireland* (1903) as music21's corpus ships it: 2,009 tunes.

    Returns the whole file (781,984 characters); ``utils.data.abc.split_tunes`` cuts it into tunes.
    Some tunes appear twice, transcribed by two people, under the same ``X:`` number.
    """
    from utils.data.abc import AbcError, split_tunes  # NumPy only; imported here to keep data.py light

    spec = ONEILLS_1850
    path = _locate(spec, directory)
    text = _read_text(spec, path)
    try:
        tunes = split_tunes(text)
    except AbcError as exc:
        raise DatasetError(f"{path} is corrupt: it could not be read as ABC ({str(exc).rstrip('.')}). "
                           f"{spec.restore_hint()}") from None
    _expect_length(spec, path, len(tunes))
    _expect_checksum(spec, path)
    return text
