"""Rebuild the files in this folder from the packages they come from.

    python datasets/make_datasets.py

- ``seattle-temps.csv``: copied byte for byte from the ``vega_datasets`` package
  (``pip install vega_datasets``), which ships NOAA's public-domain hourly readings.
- ``python-docs-topics.txt``: the help topics of the Python documentation, from the
  standard library's ``pydoc_data/topics.py``, joined in sorted topic order. The text
  changes with the Python version; the shipped snapshot was made with Python 3.11.7.

Each file is written to a temporary name first and then moved into place, so an
interrupted run never leaves a half-written file. The script prints each file's
SHA-256; ``utils/data.py`` holds the checksums the loaders verify.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
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


def main() -> None:
    for name, build in (("seattle-temps.csv", seattle_temps), ("python-docs-topics.txt", python_docs_text)):
        data = build()
        write_atomically(HERE / name, data)
        print(f"{name}: {len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
