"""Character tokens for sequence-to-sequence models: padding, start and end, in NumPy.

A :class:`TokenVocab` gives id 0 to padding, 1 to the start token and 2 to the end token, and
ids from 3 on to the characters of the texts it was built from. Sources are encoded as their
characters; targets also get the end token (the decoder must learn to stop), and the decoder's
input is the target shifted one step right behind the start token (teacher forcing):

    target          t h r e e <end>
    decoder input   <start> t h r e e

:func:`pad` makes a batch from sequences of different lengths, on the right (targets: padding
comes after the end, where the loss ignores it) or on the left (sources: the encoder's final
state then follows the last real character).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

PAD, START, END = 0, 1, 2
SPECIALS = ("<pad>", "<start>", "<end>")


class TokenVocab:
    """Characters with three special tokens; ``encode`` and ``decode`` are each other's inverse."""

    def __init__(self, texts: Iterable[str]) -> None:
        chars = sorted(set("".join(texts)))
        if not chars:
            raise ValueError("TokenVocab needs at least one non-empty text to learn its characters from.")
        self.tokens: list[str] = [*SPECIALS, *chars]
        self.index: dict[str, int] = {char: i for i, char in enumerate(self.tokens) if i >= len(SPECIALS)}

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, text: str, *, end: bool = False) -> np.ndarray:
        """The ids (int32) of the characters of ``text``, followed by the end token when ``end``."""
        if not isinstance(text, str):
            raise TypeError(f"encode needs a string, got {type(text).__name__}.")
        if not text:
            raise ValueError("cannot encode an empty text: every source and target has at least one character.")
        unknown = sorted(set(text) - set(self.index))
        if unknown:
            raise ValueError(f"{text!r} has characters outside this vocabulary: {unknown}. Build the vocabulary "
                             "from texts that contain them (the training sources or targets).")
        ids = [self.index[char] for char in text] + ([END] if end else [])
        return np.asarray(ids, dtype=np.int32)

    def decode(self, ids: Iterable[int]) -> str:
        """The text spelled by ``ids``: it stops at the first end token and skips padding and start."""
        chars = []
        for i in ids:
            i = int(i)
            if i == END:
                break
            if not 0 <= i < len(self.tokens):
                raise ValueError(f"id {i} is outside this vocabulary of {len(self)} tokens.")
            if i >= len(SPECIALS):
                chars.append(self.tokens[i])
        return "".join(chars)


def pad(sequences: Sequence[Sequence[int] | np.ndarray], length: int | None = None, *,
        side: str = "right") -> np.ndarray:
    """A (batch, length) int32 array of ``sequences`` padded with ``PAD`` on ``side`` ("right" or "left").

    ``length`` defaults to the longest sequence; a sequence longer than ``length`` is an error,
    never cut silently.
    """
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}.")
    if len(sequences) == 0:
        raise ValueError("pad needs at least one sequence.")
    longest = max(len(s) for s in sequences)
    length = longest if length is None else length
    if longest > length:
        raise ValueError(f"a sequence has {longest} tokens, more than length={length}: raise the length.")
    batch = np.full((len(sequences), length), PAD, dtype=np.int32)
    for row, sequence in zip(batch, sequences, strict=True):
        if len(sequence):
            if side == "right":
                row[:len(sequence)] = sequence
            else:
                row[length - len(sequence):] = sequence
    return batch


def teacher_forcing(target_ids: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(decoder input, decoder target) for one target that ends with the end token.

    The decoder target is the target itself; the input is the start token followed by the target
    without its last token: at step t the decoder reads the true token t-1 and predicts token t.
    """
    target = np.asarray(target_ids, dtype=np.int32)
    if target.ndim != 1 or target.size == 0 or target[-1] != END:
        raise ValueError("teacher_forcing needs a 1-D target that ends with the end token "
                         "(encode it with `end=True`).")
    return np.concatenate([[START], target[:-1]]).astype(np.int32), target
