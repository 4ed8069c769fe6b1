"""How the course trains: gradients, progress, input pipelines, precision, timing and selection.

``autodiff`` (one gradient call for every backend), ``bptt`` (backpropagation through time in
NumPy, clipping), ``progress`` (live progress lines in full mode), ``tfdata`` (TensorFlow pipelines
that do not stall), ``precision`` (float32 stays float32 on GPUs), ``device`` (which device a run
computed on, as results and timings name it), ``timing``, ``selection``
(choosing a setting on validation figures), ``schedules`` (warm-up and cosine decay) and ``parallel``
(data-parallel training with Keras's distribution API). No model is defined here.
"""
