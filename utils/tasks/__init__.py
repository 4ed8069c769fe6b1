"""One kind of task end to end, shared by the chapters that work on it.

``forecasting`` (chronological splits, normalisation, naive baselines), ``labelling`` (a label per
step from real text, rare-class F1), ``lm`` (language models: bits per character, stateful batches,
training and scoring) and ``seq2seq`` (translation: bucketed teacher-forcing batches, training,
decoding a test set). They combine :mod:`utils.data`, :mod:`utils.models`, :mod:`utils.training` and
:mod:`utils.decoding`; the lessons themselves stay in the notebooks.
"""
