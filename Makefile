# The course's two commands:
#   make lab    set everything up and open the course in JupyterLab
#   make test   set everything up and run the whole test suite (unit tests, then the solution
#               notebooks in quick mode on the TensorFlow, JAX and PyTorch backends, the
#               learners' copies in chapters/ on TensorFlow, and the book and slides built
#               from the PyTorch run)
# Both create a virtual environment in .venv (or reuse it) and need nothing else
# than Python 3.11+ and make.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
BACKENDS ?= tensorflow jax torch
NOTEBOOKS ?= chapters solutions
LAB_ARGS ?=

.PHONY: help lab test test-full test-gpu unit notebooks book slides guide check-book wheels grade chapters readme \
  benchmark benchmark-full strip clean

help:
	@echo "make lab        set up .venv and open the course in JupyterLab"
	@echo "make test       set up .venv and run every test on all three backends"
	@echo "make unit       unit tests of utils/ and repository checks, with coverage"
	@echo "make notebooks  execute every notebook (quick mode) with nbval on BACKENDS"
	@echo "make test-full  execute the solutions in full mode on BACKENDS: asserts every chapter's"
	@echo "                targets and writes its results files"
	@echo "make test-gpu   on a GPU machine (README, 'On a GPU'): fails unless JAX and PyTorch see the GPU,"
	@echo "                then the backend-specific unit tests and every solution (quick mode) on both,"
	@echo "                and chapter GPU_CHAPTER (default $(GPU_CHAPTER)) in full mode, writing results that name the GPU"
	@echo "make book       execute the solutions (full mode, JAX; BOOK_MODE=quick BOOK_BACKEND=torch"
	@echo "                to change) and build the HTML book into build/book/html/"
	@echo "make slides     one reveal.js deck per chapter into build/slides/ (same executed copies)"
	@echo "make guide      regenerate INSTRUCTORS.md, the instructor's guide"
	@echo "make wheels     download every package into wheels/ once, for installs without network"
	@echo "make grade NOTEBOOKS=\"submissions/*.ipynb\"  grade submitted notebooks: a table and grades.csv"
	@echo "                (offline; GRADE_ARGS=\"--timeout 300 --jobs 2 --csv out.csv\" and more: see course_tools/grade.py)"
	@echo "make chapters   regenerate chapters/ from solutions/"
	@echo "make readme     render the README's tables and results/README.md from results/"
	@echo "make benchmark  time every notebook (quick mode, all backends) into results/timings.json"
	@echo "make benchmark-full  the same in full mode, writing each chapter's results files"

# WHEELS=dir installs from a folder of wheels made by `make wheels` (a workshop without network).
WHEELS ?=
PIP_INSTALL = $(PY) -m pip install --quiet $(if $(WHEELS),--no-index --find-links $(WHEELS))

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "The course needs Python 3.11 or newer; found $$($(PYTHON) --version 2>&1)." \
	         "Run: make PYTHON=/path/to/python3.11 ..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(if $(WHEELS),,$(PY) -m pip install --quiet --upgrade pip)

# One stamp per set of extras: an install is redone when pyproject.toml changes.
$(VENV)/.installed-lab: pyproject.toml | $(PY)
	$(PIP_INSTALL) -e ".[lab]"
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PIP_INSTALL) -e ".[jax,torch,test,book]"
	@touch $@

lab: $(VENV)/.installed-lab
	$(BIN)/jupyter lab $(LAB_ARGS)

# CI's PyTorch run of the solutions is the book's: `make book` executes every solution notebook in
# its own kernel (a cell that raises fails it, as under nbval), then the pages and decks built from
# those runs are checked (tests/test_built_book.py). No notebook runs twice.
TEST_BOOK_BACKEND ?= torch

test: $(VENV)/.installed-test
	$(MAKE) unit
	$(MAKE) notebooks BACKENDS="$(filter-out $(TEST_BOOK_BACKEND),$(BACKENDS))"
	$(MAKE) book slides BOOK_MODE=quick BOOK_BACKEND=$(TEST_BOOK_BACKEND)
	$(MAKE) check-book BOOK_MODE=quick BOOK_BACKEND=$(TEST_BOOK_BACKEND)

# The backend-specific tests (autodiff dispatch, Keras cells, simple and gated, TF32 switch, the device
# a run names, fused recurrent kernels, language-model steps, encoder-decoder batches and layers,
# attention layers, progress callbacks) run once more
# on JAX and PyTorch.
BACKEND_TESTS ?= tests/test_autodiff.py tests/test_cells.py tests/test_gated.py tests/test_precision.py \
  tests/test_device.py tests/test_fused.py tests/test_lm.py tests/test_seq2seq.py tests/test_attention.py \
  tests/test_transformer.py tests/test_tfdata.py tests/test_progress.py tests/test_checks_ch07_models.py \
  tests/test_checks_ch08_models.py tests/test_checks_ch09_models.py tests/test_kvcache.py tests/test_encoders.py \
  tests/test_checks_ch10.py tests/test_ch10_notebook.py

unit: $(VENV)/.installed-test
	MPLBACKEND=Agg $(PY) -m pytest tests --cov=utils --cov=course_tools --cov-report=term-missing
	@for backend in jax torch; do \
	  echo "=== backend-specific unit tests, KERAS_BACKEND=$$backend ==="; \
	  KERAS_BACKEND=$$backend MPLBACKEND=Agg $(PY) -m pytest -q -p no:cacheprovider $(BACKEND_TESTS) || exit 1; \
	done

# The solutions run on every backend. The learners' copies in chapters/ differ from them only in the
# exercise cells (tests/test_repository.py checks that chapters/ is what the generator makes), so they
# run on CHAPTER_BACKENDS only: that keeps CI within its time budget with all nine chapters.
# `make notebooks CHAPTER_BACKENDS="tensorflow jax torch"` runs every notebook on every backend.
CHAPTER_BACKENDS ?= tensorflow

# Grade learners' notebooks: each runs sealed off (its own user or user namespace, its own root, memory
# and time limits, no network), several at once; the course's checkers judge its functions from the
# grader's own process (course_tools/grade.py and the README say how).
GRADE_ARGS ?=

grade: $(VENV)/.installed-test
	$(PY) -m course_tools.grade --offline $(NOTEBOOKS) $(GRADE_ARGS)

notebooks: $(VENV)/.installed-test
	@for backend in $(BACKENDS); do \
	  case " $(CHAPTER_BACKENDS) " in *" $$backend "*) dirs="$(NOTEBOOKS)";; *) dirs="$(filter-out chapters chapters/%,$(NOTEBOOKS))";; esac; \
	  [ -n "$$dirs" ] || continue; \
	  echo "=== notebooks, quick mode, KERAS_BACKEND=$$backend: $$dirs ==="; \
	  KERAS_BACKEND=$$backend COURSE_MODE=quick MPLBACKEND=Agg \
	    $(PY) -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider $$dirs || exit 1; \
	done

# Full mode: each chapter checks its targets (a miss fails the notebook) and writes
# results/chNN.<backend>.full.json (results/chNN.<backend>.full.<gpu>.json where it computed on a GPU).
test-full: $(VENV)/.installed-test
	@for backend in $(BACKENDS); do \
	  echo "=== solutions, full mode, KERAS_BACKEND=$$backend ==="; \
	  KERAS_BACKEND=$$backend COURSE_MODE=full MPLBACKEND=Agg \
	    $(PY) -m pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=1800 -p no:cacheprovider \
	    solutions || exit 1; \
	done

# The GPU suite, on a machine with an NVIDIA GPU, after the README's "On a GPU" install. First each of
# GPU_BACKENDS must compute on the GPU: course_tools/gpu.py stops the run, saying what to install or
# check, where a backend would quietly fall back to the CPU. Then, on each: the backend-specific unit
# tests, every solution in quick mode, and chapter GPU_CHAPTER in full mode (chapter 9 by default: the
# fused recurrent kernels on cuDNN, attention checked against Keras's to float32, the cost-against-length
# figure), whose results file (results/chNN.<backend>.full.<gpu>.json) and time
# (results/timings.<gpu>.json) name the GPU and leave the CPU's files as they are.
GPU_BACKENDS ?= jax torch
GPU_CHAPTER ?= 09

test-gpu: $(VENV)/.installed-test
	@for backend in $(GPU_BACKENDS); do \
	  KERAS_BACKEND=$$backend $(PY) -m course_tools.gpu || exit 1; \
	done
	@for backend in $(GPU_BACKENDS); do \
	  echo "=== backend-specific unit tests on the GPU, KERAS_BACKEND=$$backend ==="; \
	  KERAS_BACKEND=$$backend MPLBACKEND=Agg $(PY) -m pytest -q -p no:cacheprovider $(BACKEND_TESTS) || exit 1; \
	  echo "=== solutions, quick mode, on the GPU, KERAS_BACKEND=$$backend ==="; \
	  KERAS_BACKEND=$$backend COURSE_MODE=quick MPLBACKEND=Agg \
	    $(PY) -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider solutions || exit 1; \
	done
	@for backend in $(GPU_BACKENDS); do \
	  echo "=== chapter $(GPU_CHAPTER), full mode, on the GPU, KERAS_BACKEND=$$backend ==="; \
	  $(PY) -m course_tools.execution --mode full --backend $$backend --force solutions/$(GPU_CHAPTER)_*.ipynb \
	    && $(PY) -m course_tools.execution --record-timings build/executed/full-$$backend/$(GPU_CHAPTER)_*.ipynb \
	    || exit 1; \
	done

# The book and the slides are built from executed copies of the solutions in
# build/executed/<mode>-<backend>/ (made once, reused while the notebooks and utils/ are unchanged).
# Full mode on JAX (the fastest backend in full mode, about 30 minutes for all nine chapters on a
# 2-core CPU) by default; `make book BOOK_MODE=quick BOOK_BACKEND=torch` takes about 5.
BOOK_MODE ?= full
BOOK_BACKEND ?= jax

book: $(VENV)/.installed-test
	$(PY) -m course_tools.book --mode $(BOOK_MODE) --backend $(BOOK_BACKEND)

slides: $(VENV)/.installed-test
	$(PY) -m course_tools.slides --mode $(BOOK_MODE) --backend $(BOOK_BACKEND)

# The built book and decks are checked as files (tests/test_built_book.py) and as a browser shows them
# (tests/test_in_browser.py: headless Chromium from the operating system's packages; it skips, saying
# why, where none is installed, and fails in CI, where .ci/run installs it).
check-book: $(VENV)/.installed-test
	COURSE_BOOK_RUN=$(BOOK_MODE)-$(BOOK_BACKEND) MPLBACKEND=Agg $(PY) -m pytest -q -p no:cacheprovider \
	  tests/test_built_book.py tests/test_in_browser.py

guide: $(VENV)/.installed-test
	$(PY) -m course_tools.guide

# Every package `make lab` and `make test` install, as wheels in wheels/, for this platform and
# Python: copy the folder to machines without network and run `make lab WHEELS=wheels` there.
wheels: | $(PY)
	$(PY) -m pip download --quiet --dest wheels pip setuptools wheel ".[lab,jax,torch,test,book]"

chapters: $(VENV)/.installed-test
	$(PY) -m course_tools.exercises

readme: $(VENV)/.installed-test
	$(PY) -m course_tools.readme

benchmark: $(VENV)/.installed-test
	$(PY) scripts/benchmark.py --mode quick --backends $(BACKENDS)

benchmark-full: $(VENV)/.installed-test
	$(PY) scripts/benchmark.py --mode full --backends $(BACKENDS)

strip: $(VENV)/.installed-test
	$(BIN)/jupyter nbconvert --clear-output --inplace solutions/*.ipynb
	$(PY) -m course_tools.exercises

clean:
	rm -rf $(VENV) .pytest_cache .coverage htmlcov *.egg-info results/*.quick.json results/*.quick.*.json build
