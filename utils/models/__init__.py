"""The layers and models that the chapters build in front of the learner, in library form.

Recurrent cells (``cells``, ``gated``) and the fused kernels that stand in for them on PyTorch
(``fused``), attention (``attention``), transformer blocks and builders (``transformer``), the
key-value cache of a decoder (``kvcache``), encoder-only classifiers (``encoders``), counting models
(``ngram``, ``smoothing``) and compressors used as language models (``compression``). Later chapters
import them from here; the chapter that builds one proves it equal to this version. Training loops
and decoding belong to :mod:`utils.training`, :mod:`utils.decoding` and :mod:`utils.tasks`.
"""
