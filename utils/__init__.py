"""Shared code for the course on sequence models with Keras 3.

One concern per module:

- :mod:`utils.mode` reads ``COURSE_MODE`` (quick or full), once.
- :mod:`utils.course` starts a notebook: seeds everything, applies the plot style.
- :mod:`utils.plotting` the course's figure style and small plot helpers.
- :mod:`utils.data` verified loaders for the data in ``datasets/``.
- :mod:`utils.windows` sliding windows over a time series (complete series, or skipping gaps).
- :mod:`utils.forecasting` chronological splits, train-only normalisation, naive baselines, MAE.
- :mod:`utils.labelling` word-start labels from text, chunks with masks, rare-class F1.
- :mod:`utils.text` character vocabularies and bags of words.
- :mod:`utils.ngram` an n-gram (Markov) character model.
- :mod:`utils.tsformat` a reader for the ``.ts`` files of the UEA/UCR archive.
- :mod:`utils.sequences` padded batches with masks, scaling, next-step pairs, scoring segments.
- :mod:`utils.cells` the course's recurrent cell (NumPy reference and Keras cell), weight copying.
- :mod:`utils.gated` the LSTM and GRU cells (NumPy references, Keras cells, parameter counts).
- :mod:`utils.synthetic` seeded synthetic tasks (the adding problem, the copy task).
- :mod:`utils.bptt` backpropagation through time in NumPy, clipping, the Jacobian-product probe.
- :mod:`utils.autodiff` one gradient call that dispatches to the active backend's autodiff.
- :mod:`utils.precision` turns TensorFloat-32 off on GPUs, so float32 means float32.
- :mod:`utils.tfdata` keeps TensorFlow's input pipelines from stalling at the end of every epoch.
- :mod:`utils.progress` live progress lines (and learning curves) while a model trains, in full mode.
- :mod:`utils.parity` records and bounds the differences between an implementation and its reference.
- :mod:`utils.selection` validation splits and choosing a setting on validation figures.
- :mod:`utils.targets` each chapter's quality targets.
- :mod:`utils.fused` Keras recurrent layers that run PyTorch's fused kernels on the torch backend.
- :mod:`utils.smoothing` a Kneser-Ney character n-gram; :mod:`utils.compression` compressors as
  language models; :mod:`utils.lm` bits per character, stateful batches, a NumPy stepper;
  :mod:`utils.sampling` greedy, temperature, top-k and nucleus sampling; :mod:`utils.abc` folk
  tunes in ABC notation (bar durations, notes, sound).
- :mod:`utils.numwords` the translation task of chapters 7-9 (numbers in German and English words).
- :mod:`utils.tokens` character tokens with padding, start and end; teacher forcing.
- :mod:`utils.seq2seq` bucketed teacher-forcing batches, the decoding of a set of sources.
- :mod:`utils.decoding` greedy decoding and beam search on any step function.
- :mod:`utils.seqmetrics` edit distance, character error rate, exact match, per-bin tables.
- :mod:`utils.checking` the exercise-checker framework; :mod:`utils.checks` the checkers;
  :mod:`utils.grade` grades submitted notebooks with them.
- :mod:`utils.exercises` generates ``chapters/`` from ``solutions/``.
- :mod:`utils.results` writes results files and renders the README's tables and results/README.md.
- :mod:`utils.execution` executed copies of the solutions, shared by the book, the slides and the
  guide; :mod:`utils.book` the HTML book (Sphinx, MyST-NB); :mod:`utils.slides` reveal.js slides;
  :mod:`utils.guide` the instructor's guide (``INSTRUCTORS.md``).
- :mod:`utils.files` writes a file atomically (used by the generator and the results files).
"""

__version__ = "0.1.0"
