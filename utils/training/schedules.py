"""Learning-rate schedules for chapter 10's training recipe."""

from __future__ import annotations

import keras


def warmup_cosine(peak: float, total_steps: int, warmup_steps: int = 0) -> keras.optimizers.schedules.LearningRateSchedule:
    """A rate that rises linearly from 0 to ``peak`` over ``warmup_steps``, then falls to 0 along a cosine
    over the remaining ``total_steps - warmup_steps`` steps (without warm-up: the cosine from ``peak``).

    Keras's ``CosineDecay`` counts its ``decay_steps`` after the warm-up, so they are the steps that are
    left, not all of them (with all of them the rate is still above 0 when training ends).
    """
    if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
        raise ValueError(f"total_steps must be a whole number of at least 1; got {total_steps!r}.")
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or not 0 <= warmup_steps < total_steps:
        raise ValueError(f"warmup_steps must be a whole number from 0 to total_steps - 1 = {total_steps - 1}; "
                         f"got {warmup_steps!r}.")
    if not peak > 0:
        raise ValueError(f"the peak learning rate must be positive; got {peak!r}.")
    if warmup_steps == 0:
        return keras.optimizers.schedules.CosineDecay(peak, total_steps)
    return keras.optimizers.schedules.CosineDecay(0.0, total_steps - warmup_steps, warmup_target=peak,
                                                  warmup_steps=warmup_steps)
