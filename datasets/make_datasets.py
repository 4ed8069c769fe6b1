"""Rebuild the files in this folder from the packages they come from.

    python datasets/make_datasets.py                      # every file
    python datasets/make_datasets.py japanese-vowels-train.ts japanese-vowels-test.ts
    python datasets/make_datasets.py --aeon-wheel aeon-1.6.0-py3-none-any.whl

- ``seattle-temps.csv``: copied byte for byte from the ``vega_datasets`` package
  (``pip install vega_datasets``), which ships NOAA's public-domain hourly readings.
- ``python-docs-topics.txt``: the help topics of the Python documentation, from the
  standard library's ``pydoc_data/topics.py``, joined in sorted topic order. The text
  changes with the Python version; the shipped snapshot was made with Python 3.11.7.
- ``japanese-vowels-train.ts`` and ``japanese-vowels-test.ts``: the UEA/UCR archive's
  ``JapaneseVowels_TRAIN.ts`` and ``JapaneseVowels_TEST.ts`` (the variable-length files, not the
  ``_eq_`` ones), copied byte for byte from the data folder of the ``aeon`` package
  (``aeon/datasets/data/JapaneseVowels/``). The shipped copies come from aeon 1.6.0. The
  script reads them from a wheel given with ``--aeon-wheel`` (``pip download aeon==1.6.0
  --no-deps`` fetches one, about 6 MB, without installing anything), or else from an installed
  ``aeon`` or ``sktime``.

Each file is written to a temporary name first and then moved into place, so an
interrupted run never leaves a half-written file. The script prints each file's
SHA-256; ``utils/data.py`` holds the checksums the loaders verify.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import sys
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
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def python_docs_text() -> bytes:
    """The pydoc help topics as one UTF-8 text."""
    from pydoc_data.topics import topics

    return "".join(topics[name] for name in sorted(topics)).encode("utf-8")


def seattle_temps() -> bytes:
    """The hourly Seattle 2010 temperatures exactly as vega_datasets ships them."""
    try:
        import vega_datasets
    except ImportError:
        sys.exit("seattle-temps.csv comes from the vega_datasets package: `pip install vega_datasets` first.")
    return (Path(vega_datasets.__file__).parent / "_data" / "seattle-temps.csv").read_bytes()


VOWELS_IN_PACKAGE = "datasets/data/JapaneseVowels/JapaneseVowels_{split}.ts"


def japanese_vowels(split: str, wheel: Path | None) -> bytes:
    """``JapaneseVowels_{split}.ts`` from an aeon wheel, or from an installed aeon or sktime."""
    member = VOWELS_IN_PACKAGE.format(split=split)
    if wheel is not None:
        with zipfile.ZipFile(wheel) as archive:
            return archive.read(f"aeon/{member}")
    for package in ("aeon", "sktime"):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.origin is not None:
            path = Path(spec.origin).parent / member
            if path.is_file():
                return path.read_bytes()
    sys.exit(
        "The Japanese Vowels files come from the UEA/UCR archive as shipped in the aeon package. Run\n"
        "    pip download aeon==1.6.0 --no-deps -d /tmp/aeon\n"
        "    python datasets/make_datasets.py --aeon-wheel /tmp/aeon/aeon-1.6.0-py3-none-any.whl\n"
        "(or install aeon or sktime and run this script again)."
    )


def builders(wheel: Path | None) -> dict[str, Callable[[], bytes]]:
    """Every shipped file and the function that makes its bytes."""
    return {
        "seattle-temps.csv": seattle_temps,
        "python-docs-topics.txt": python_docs_text,
        "japanese-vowels-train.ts": lambda: japanese_vowels("TRAIN", wheel),
        "japanese-vowels-test.ts": lambda: japanese_vowels("TEST", wheel),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Rebuild the files in datasets/.")
    parser.add_argument("names", nargs="*", help="files to rebuild (default: all)")
    parser.add_argument("--aeon-wheel", type=Path, help="an aeon wheel holding the Japanese Vowels files")
    args = parser.parse_args(argv)
    available = builders(args.aeon_wheel)
    unknown = sorted(set(args.names) - set(available))
    if unknown:
        parser.error(f"unknown file(s) {unknown}; choose from {sorted(available)}")
    for name in args.names or available:
        data = available[name]()
        write_atomically(HERE / name, data)
        print(f"{name}: {len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
