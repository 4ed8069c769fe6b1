"""Uncertainty, taught once: bootstrap intervals and the verdicts read from them (:mod:`utils.stats.bootstrap`).

Plain NumPy, below every other layer of ``utils`` but the basics, so that data, decoding and
tasks can all use it.
"""
