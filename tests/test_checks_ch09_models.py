"""utils.checks.ch09, Exercise 9.4: a decoder block's call with its causal and memory masks, on every backend.

The learner's class keeps the notebook's ``__init__`` (with the course's multi-head attention, which
takes the same arguments as the notebook's) and writes ``call``; each answer below is the right call
or one plausible slip in it, and each test asserts on the phrase that names the slip.
"""

from __future__ import annotations

import keras
import pytest
from checkerfailures import assert_named
from keras import layers, ops

from utils.checks.ch09 import check_decoder_block
from utils.models.transformer import MultiHeadAttention

TITLE = "Exercise 9.4 (a decoder block's call): "


class DecoderBlock(layers.Layer):
    """The notebook's block with its worked call; ``slip`` switches one plausible mistake on."""

    slip = None

    def __init__(self, depth, heads, hidden, **kwargs):
        super().__init__(**kwargs)
        self.norm_self, self.norm_cross, self.norm_feed_forward = (layers.LayerNormalization() for _ in range(3))
        self.self_attention = MultiHeadAttention(heads, depth // heads)
        self.cross_attention = MultiHeadAttention(heads, depth // heads)
        self.feed_forward = keras.Sequential([layers.Dense(hidden, activation="gelu"), layers.Dense(depth)])

    def call(self, x, memory, memory_mask=None):
        slip = self.slip
        if slip == "post-norm":
            x = self.norm_self(x + self.self_attention(x, x, use_causal_mask=True))
            mask = None if memory_mask is None else ops.cast(memory_mask, "bool")[:, None, :]
            x = self.norm_cross(x + self.cross_attention(x, memory, attention_mask=mask))
            return self.norm_feed_forward(x + self.feed_forward(x))
        normed = self.norm_self(x)
        x = x + self.self_attention(normed, normed, use_causal_mask=slip != "no causal mask")
        if slip == "if mask":
            mask = ops.cast(memory_mask, "bool")[:, None, :] if memory_mask else None
        elif slip == "mask without query axis":
            mask = None if memory_mask is None else ops.cast(memory_mask, "bool")
        elif slip == "mask always used":
            mask = ops.cast(memory_mask, "bool")[:, None, :]
        elif slip == "mask not cast":
            mask = None if memory_mask is None else ops.cast(memory_mask, "float32")[:, None, :] > 0.5
        else:
            mask = None if memory_mask is None or slip == "no memory mask" else ops.cast(memory_mask, "bool")[:, None, :]
        query = normed if slip == "stale query" else self.norm_cross(x)
        if slip == "memory as query":
            crossed = self.cross_attention(memory, query, attention_mask=None)
        else:
            crossed = self.cross_attention(query, memory, attention_mask=mask,
                                           use_causal_mask=slip == "causal cross-attention")
        x = crossed if slip == "no residual on cross-attention" else x + crossed
        return x + self.feed_forward(self.norm_feed_forward(x))


def with_slip(name):
    return type(f"DecoderBlock_{name.replace(' ', '_')}", (DecoderBlock,), {"slip": name})


class Unfinished(DecoderBlock):
    def call(self, x, memory, memory_mask=None):
        raise NotImplementedError("Exercise: replace this line with your code.")


def test_the_right_call_passes(capsys):
    check_decoder_block(DecoderBlock)
    check_decoder_block(with_slip("mask not cast"))
    assert capsys.readouterr().out.count("Exercise 9.4 (a decoder block's call): passed all 5 checks.") == 2


def test_the_notebooks_stub_is_not_attempted(capsys):
    check_decoder_block(Unfinished)
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("slip", "phrases"),
    [
        ("no causal mask", ["your decoder block ignores the causal mask: changing position 4 of x changed the output "
                            "at position 3", "use_causal_mask=True"]),
        ("no memory mask", ["your decoder block reads the padding", "at the padded source positions",
                            "memory_mask[:, None, :]"]),
        ("causal cross-attention", ["gave cross-attention the causal mask too"]),
        ("post-norm", ["post-norm", "x = x + f(LN(x))"]),
        ("stale query", ["from before the self-attention step", "self.norm_cross(x)"]),
        ("no residual on cross-attention", ["cross-attention step has no residual connection"]),
        ("if mask", ["`if memory_mask:` asks Python for the truth of a whole array", "is not None"]),
        ("mask without query axis", ["when given the memory mask, and runs without it", "(B, 1, Tx)",
                                     "memory_mask[:, None, :]"]),
        ("mask always used", ["when called without a memory mask (memory_mask=None"]),
    ],
)
def test_slips_are_named(slip, phrases):
    assert_named(check_decoder_block, with_slip(slip), TITLE, phrases)


def test_a_changed_init_or_a_wrong_argument_is_named():
    class Renamed(DecoderBlock):
        def __init__(self, *sizes):
            super().__init__(*sizes)
            self.cross = self.cross_attention
            del self.cross_attention

    assert_named(check_decoder_block, Renamed, TITLE, ["your block has no cross_attention", "keep the __init__"])
    assert_named(check_decoder_block, lambda *sizes: None, TITLE, ["forget to `return`"])
    assert_named(check_decoder_block, lambda *sizes: 3, TITLE, ["pass your block class", "gave int"])


def test_a_crash_says_what_raised():
    assert_named(check_decoder_block, with_slip("memory as query"), TITLE, ["your block raised"])
