import numpy as np
import pytest

from utils.data import tokens
from utils.data.tokens import END, PAD, START, TokenVocab


@pytest.fixture
def vocab():
    return TokenVocab(["three hundred and eighty-seven", "one thousand, two"])


def test_specials_come_first_and_round_trip(vocab):
    assert vocab.tokens[:3] == ["<pad>", "<start>", "<end>"] and (PAD, START, END) == (0, 1, 2)
    for text in ["three hundred", "one thousand, two", "e"]:
        ids = vocab.encode(text, end=True)
        assert ids.dtype == np.int32 and ids[-1] == END and (ids[:-1] >= 3).all()
        assert vocab.decode(ids) == text
        assert vocab.decode(vocab.encode(text)) == text


def test_decode_stops_at_end_and_skips_padding_and_start(vocab):
    ids = np.concatenate([[START], vocab.encode("two", end=True), vocab.encode("one"), [PAD, PAD]])
    assert vocab.decode(ids) == "two"
    assert vocab.decode([PAD, *vocab.encode("one"), PAD]) == "one"


def test_bad_input_is_a_clear_error(vocab):
    with pytest.raises(ValueError, match=r"outside this vocabulary: \['ß'\]"):
        vocab.encode("dreißig")
    with pytest.raises(ValueError, match="empty"):
        vocab.encode("")
    with pytest.raises(ValueError, match="outside"):
        vocab.decode([99])
    with pytest.raises(ValueError, match="at least one"):
        TokenVocab([""])


def test_pad_on_either_side():
    batch = tokens.pad([[5, 6, 7], [8]], 4)
    np.testing.assert_array_equal(batch, [[5, 6, 7, 0], [8, 0, 0, 0]])
    np.testing.assert_array_equal(tokens.pad([[5, 6, 7], [8]], side="left"), [[5, 6, 7], [0, 0, 8]])
    with pytest.raises(ValueError, match="more than length"):
        tokens.pad([[1, 2, 3]], 2)
    with pytest.raises(ValueError, match="side"):
        tokens.pad([[1]], side="middle")


def test_teacher_forcing_shifts_the_target_behind_the_start_token():
    decoder_input, decoder_target = tokens.teacher_forcing([7, 8, 9, END])
    np.testing.assert_array_equal(decoder_input, [START, 7, 8, 9])
    np.testing.assert_array_equal(decoder_target, [7, 8, 9, END])
    with pytest.raises(ValueError, match="end token"):
        tokens.teacher_forcing([7, 8, 9])
