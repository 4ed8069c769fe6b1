"""A small reader for the ``.ts`` files of the UEA/UCR time-series classification archive.

A ``.ts`` file is text: ``#`` comment lines, then ``@key value`` header lines
ending with ``@data``, then one line per series. A series line holds one field
per dimension (channel), separated by ``:``, each field a comma-separated list of
numbers (``?`` for a missing value), and, when ``@classLabel true``, the class
label as the last field::

    @dimensions 2
    @classLabel true a b
    @data
    0.1,0.2,0.3:1.0,1.1,1.2:a

With ``@equalLength true`` every series must have the same number of time steps,
``@seriesLength`` of them when the header gives it. This reader covers what the
course's files use (no ``@timeStamps true``) and raises :class:`TsFormatError`
with the line number of anything it does not understand, so a damaged file never
turns into silently wrong arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_BOOLEAN_KEYS = ("timestamps", "missing", "univariate", "equallength")
_SPELLING = {"timestamps": "timeStamps", "equallength": "equalLength", "serieslength": "seriesLength",
             "classlabel": "classLabel", "problemname": "problemName"}


class TsFormatError(ValueError):
    """The text is not a ``.ts`` file this reader understands."""


@dataclass(frozen=True)
class TsData:
    """What a ``.ts`` file holds.

    ``series[i]`` has shape ``(length_i, dimensions)``, time along the first axis;
    ``labels[i]`` is its class label as written in the file (``None`` without labels).
    """

    problem_name: str
    dimensions: int
    class_labels: tuple[str, ...]
    series: list[np.ndarray]
    labels: list[str] | None
    header: dict[str, str]


def _parse_bool(value: str, key: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise TsFormatError(f"the header's @{_SPELLING.get(key, key)} must be true or false, got {value!r}.")
    return lowered == "true"


def _parse_header(lines: list[str]) -> tuple[dict[str, str], int]:
    """Header entries (keys lower-cased) and the index of the first line after ``@data``."""
    header: dict[str, str] = {}
    for index, raw in enumerate(lines):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("@"):
            raise TsFormatError(f"line {index + 1}: expected a header line starting with '@' "
                                f"before @data, got {line[:40]!r}.")
        key, _, value = line[1:].partition(" ")
        key = key.lower()
        if key == "data":
            return header, index + 1
        if key in header:
            raise TsFormatError(f"line {index + 1}: @{key} appears twice in the header.")
        header[key] = value.strip()
    raise TsFormatError("the file has no @data line, so it holds no series.")


def _parse_field(field: str, number: int, dimension: int) -> np.ndarray:
    values = field.split(",")
    try:
        return np.array([np.nan if value.strip() == "?" else float(value) for value in values],
                        dtype=np.float64)
    except ValueError:
        bad = next(value for value in values if value.strip() != "?" and not _is_number(value))
        raise TsFormatError(f"line {number}, dimension {dimension}: {bad.strip()[:30]!r} is not a number."
                            ) from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parse_whole_number(header: dict[str, str], key: str, default: str) -> int:
    """A header entry that must be a whole number of at least 1."""
    try:
        number = int(header.get(key, default))
    except ValueError:
        raise TsFormatError(f"@{_SPELLING.get(key, key)} must be a whole number, "
                            f"got {header[key]!r}.") from None
    if number < 1:
        raise TsFormatError(f"@{_SPELLING.get(key, key)} must be at least 1, got {number}.")
    return number


def parse_ts(text: str) -> TsData:
    """Parse the text of a ``.ts`` file; raise :class:`TsFormatError` on anything malformed."""
    lines = text.splitlines()
    header, first_data = _parse_header(lines)
    for key in _BOOLEAN_KEYS:
        if key in header:
            _parse_bool(header[key], key)
    if "timestamps" in header and _parse_bool(header["timestamps"], "timestamps"):
        raise TsFormatError("@timeStamps true is not supported by this reader.")
    dimensions = _parse_whole_number(header, "dimensions", "1")
    series_length = _parse_whole_number(header, "serieslength", "1") if "serieslength" in header else None
    equal_length = "equallength" in header and _parse_bool(header["equallength"], "equallength")
    label_spec = header.get("classlabel", "false").split()
    has_labels = bool(label_spec) and _parse_bool(label_spec[0], "classlabel")
    class_labels = tuple(label_spec[1:]) if has_labels else ()
    if has_labels and not class_labels:
        raise TsFormatError("@classLabel true must be followed by the list of class labels.")

    series: list[np.ndarray] = []
    labels: list[str] = []
    fields_expected = dimensions + int(has_labels)
    reference_length = series_length  # with @equalLength true, set by the first series if not given
    for index in range(first_data, len(lines)):
        number, line = index + 1, lines[index].strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(":")
        if len(fields) != fields_expected:
            raise TsFormatError(
                f"line {number} has {len(fields) - int(has_labels)} dimensions"
                f"{' and a label' if has_labels else ''} ({len(fields)} fields separated by ':'), "
                f"but the header says {dimensions} dimensions{' plus a class label' if has_labels else ''}."
            )
        if has_labels:
            label = fields.pop().strip()
            if label not in class_labels:
                raise TsFormatError(f"line {number}: class label {label!r} is not among the declared "
                                    f"labels {list(class_labels)}.")
            labels.append(label)
        channels = [_parse_field(field, number, d + 1) for d, field in enumerate(fields)]
        lengths = {len(channel) for channel in channels}
        if len(lengths) != 1:
            raise TsFormatError(f"line {number}: its dimensions have different lengths {sorted(lengths)}.")
        length = len(channels[0])
        if equal_length and reference_length is None:
            reference_length = length
        elif equal_length and length != reference_length:
            reason = (f"@seriesLength {series_length}" if series_length is not None
                      else f"the first series has {reference_length}")
            raise TsFormatError(f"line {number} has {length} time steps, but the header says "
                                f"@equalLength true and {reason}.")
        series.append(np.stack(channels, axis=1))
    if not series:
        raise TsFormatError("the file has an @data line but no series after it.")
    return TsData(
        problem_name=header.get("problemname", ""),
        dimensions=dimensions,
        class_labels=class_labels,
        series=series,
        labels=labels if has_labels else None,
        header=header,
    )
