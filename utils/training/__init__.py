"""How the course trains: gradients, progress, input pipelines, precision, timing and selection.

``autodiff`` (one gradient call for every backend), ``bptt`` (backpropagation through time in
NumPy, clipping), ``progress`` (live progress lines in full mode), ``tfdata`` (TensorFlow pipelines
that do not stall), ``precision`` (float32 stays float32 on GPUs), ``device`` (which device a run
computed on, as results and timings name it), ``timing`` and ``selection``
(choosing a setting on validation figures). No model is defined here.
"""
