"""From a trained model to outputs, and how good they are.

``search`` (greedy decoding and beam search on any step function), ``sampling`` (greedy,
temperature, top-k and nucleus sampling) and ``seqmetrics`` (edit distance, character error rate,
exact match, per-bin tables). Written once for every model of chapters 6-10; no model is defined here.
"""
