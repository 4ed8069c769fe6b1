"""A language model is a compressor: standard compressors as character-level baselines.

A compressor that has read the training text codes the test text in about
``size(compress(train + test)) - size(compress(train))`` bytes, so

    bits per test character = (size(train + test) - size(train)) * 8 / len(test)

(sizes compressed, ``len(test)`` in characters). The settings are each module's strongest
preset, named in :data:`SETTINGS`. ``gzip`` only looks 32 KiB back, so the training text
hardly helps it; ``bz2`` sorts blocks of up to 900 kB; ``lzma`` (preset 9, extreme) keeps a
64 MiB dictionary and so remembers the whole training text.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
from collections.abc import Callable, Iterable

# Each compressor at its highest compression setting; gzip's timestamp is fixed so sizes repeat.
SETTINGS: dict[str, str] = {
    "gzip": "gzip.compress(data, compresslevel=9, mtime=0)",
    "bz2": "bz2.compress(data, compresslevel=9)",
    "lzma": "lzma.compress(data, format=lzma.FORMAT_XZ, preset=9 | lzma.PRESET_EXTREME)",
}

COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": lambda data: gzip.compress(data, compresslevel=9, mtime=0),
    "bz2": lambda data: bz2.compress(data, compresslevel=9),
    "lzma": lambda data: lzma.compress(data, format=lzma.FORMAT_XZ, preset=9 | lzma.PRESET_EXTREME),
}


def _check_method(method: str) -> Callable[[bytes], bytes]:
    if not isinstance(method, str) or method not in COMPRESSORS:
        raise ValueError(f"method must be one of {sorted(COMPRESSORS)}, got {method!r}.")
    return COMPRESSORS[method]


def _as_bytes(text: str, name: str) -> bytes:
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a str (the text itself), got {type(text).__name__}; "
                        "decode bytes with .decode('utf-8') first.")
    return text.encode("utf-8")


def compressed_size(text: str, method: str) -> int:
    """Bytes of ``text`` (UTF-8) compressed with ``method`` (``gzip``, ``bz2`` or ``lzma``)."""
    compress = _check_method(method)
    return len(compress(_as_bytes(text, "text")))


def bits_per_char_given(train: str, test: str, method: str) -> float:
    """Bits per character of ``test`` when the compressor has already read ``train``.

    ``(size(compress(train + test)) - size(compress(train))) * 8 / len(test)``; ``train`` may be
    empty (the cost of ``test`` alone, container overhead included).
    """
    compress = _check_method(method)
    train_bytes, test_bytes = _as_bytes(train, "train"), _as_bytes(test, "test")
    if not test:
        raise ValueError("test is empty: there are no characters to score. Pass a non-empty test text.")
    extra = len(compress(train_bytes + test_bytes)) - len(compress(train_bytes))
    return extra * 8.0 / len(test)


def compression_bits_per_char(
    train: str, test: str, methods: Iterable[str] = ("gzip", "bz2", "lzma")
) -> dict[str, float]:
    """:func:`bits_per_char_given` for each of ``methods``, as ``{method: bits per character}``."""
    if isinstance(methods, str):
        methods = (methods,)
    methods = list(methods)
    if not methods:
        raise ValueError(f"methods is empty; name at least one of {sorted(COMPRESSORS)}.")
    return {method: bits_per_char_given(train, test, method) for method in methods}
