"""Data that works offline: what the chapters read and generate, before any model sees it.

Loaders for the files in ``datasets/`` (``loaders``, ``tsformat``, ``abc``), seeded task generators
(``synthetic``, ``numwords``), vocabularies and tokens (``text``, ``tokens``), windows over a series
(``windows``), padded batches with masks (``sequences``), repeated strings (``repeats``) and byte-pair
encoding (``bpe``). Nothing here builds or trains a model:
it imports NumPy and the standard library only.
"""
