"""utils.models.compression: bits per test character given the training text, for gzip, bz2 and lzma."""

from __future__ import annotations

import numpy as np
import pytest

from utils.models.compression import COMPRESSORS, SETTINGS, bits_per_char_given, compressed_size, compression_bits_per_char

TRAIN = "the quick brown fox jumps over the lazy dog. " * 200
REPEAT = "the quick brown fox jumps over the lazy dog. " * 10
FRESH = "".join(chr(97 + int(i)) for i in np.random.default_rng(0).integers(0, 26, 450))  # about 4.7 bits each


def test_every_compressor_has_its_setting_named():
    assert set(SETTINGS) == set(COMPRESSORS) == {"gzip", "bz2", "lzma"}


@pytest.mark.parametrize("method", sorted(COMPRESSORS))
def test_text_seen_in_training_is_cheap_and_new_text_is_not(method):
    cheap = bits_per_char_given(TRAIN, REPEAT, method)
    costly = bits_per_char_given(TRAIN, FRESH, method)
    assert 0 <= cheap < 1.0 < 3.0 < costly


@pytest.mark.parametrize("method", sorted(COMPRESSORS))
def test_formula(method):
    expected = (compressed_size(TRAIN + FRESH, method) - compressed_size(TRAIN, method)) * 8 / len(FRESH)
    assert bits_per_char_given(TRAIN, FRESH, method) == pytest.approx(expected)


def test_sizes_repeat():
    assert compressed_size(TRAIN, "gzip") == compressed_size(TRAIN, "gzip")


def test_all_methods_at_once():
    scores = compression_bits_per_char(TRAIN, FRESH)
    assert list(scores) == ["gzip", "bz2", "lzma"]
    assert compression_bits_per_char(TRAIN, FRESH, "bz2") == {"bz2": scores["bz2"]}


@pytest.mark.parametrize(
    ("call", "error", "phrase"),
    [
        (lambda: bits_per_char_given("a", "b", "zip"), ValueError, "method must be one of"),
        (lambda: bits_per_char_given("a", "", "gzip"), ValueError, "test is empty"),
        (lambda: bits_per_char_given(b"a", "b", "gzip"), TypeError, "train must be a str"),
        (lambda: compression_bits_per_char("a", "b", []), ValueError, "methods is empty"),
    ],
)
def test_errors(call, error, phrase):
    with pytest.raises(error, match=phrase):
        call()
