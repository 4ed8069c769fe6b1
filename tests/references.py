"""Slow, obviously right definitions that several test files compare against (not course code)."""

from __future__ import annotations

from collections.abc import Sequence


def merge_left_to_right(ids: Sequence[int], pair: Sequence[int], new_id: int) -> list[int]:
    """One byte-pair merge by its definition: walk left to right, replace the pair and jump past it."""
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == tuple(pair):
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out
