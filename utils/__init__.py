"""The code a learner imports: the course's lessons in library form, the data, and the checks.

The folders show the architecture; imports only run downwards in this list (a test holds it):

- top: :mod:`utils.mode` (``COURSE_MODE``, read once), :mod:`utils.files` (atomic writes),
  :mod:`utils.plotting` (the figure style and small plot helpers).
- :mod:`utils.stats` uncertainty: bootstrap intervals, paired differences and the verdict that says
  "within noise" (NumPy only, below everything else).
- :mod:`utils.data` data that works offline: loaders, file formats, generated tasks, tokens,
  windows, padded batches and byte-pair encoding.
- :mod:`utils.models` the layers and models the chapters build in front of the learner: recurrent,
  gated and fused cells, attention, transformer blocks, the key-value cache, encoder classifiers,
  n-gram models, compressors.
- :mod:`utils.training` how models are trained: autodiff, BPTT, progress lines, input pipelines,
  float32 on GPUs, timing, choosing settings on validation data, learning-rate schedules,
  data-parallel training.
- :mod:`utils.decoding` turning a model into outputs and scoring them: greedy and beam search,
  sampling, sequence metrics.
- :mod:`utils.tasks` one kind of task end to end (forecasting, labelling, language modelling,
  translation), built on the packages above.
- :mod:`utils.checks` what checks the learner and the course: the exercise checkers, parity with a
  reference, each chapter's targets.
- top: :mod:`utils.course` (``course.setup()`` at the top of every notebook) and :mod:`utils.results`
  (a chapter's results file, written at its end and quoted by later chapters).

What builds, publishes and grades the course lives in :mod:`course_tools`, outside this package:
nothing here imports it.
"""

__version__ = "0.1.0"
