"""Submissions that try to fool or stop the grader, built from chapter 1's learner copy (for tests/test_grade.py).

Each is the learner copy of chapter 1 up to its imports (the course's set-up cell included), followed
by the cells of one trick. Where a trick's success would show as a pass, the notebook is written so:
it defines right answers only if the trick worked (it read a solution, found another submission's
name...), and wrong or unfinished ones otherwise. :func:`build` writes them all and says, for each,
what its rows must show.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell

from course_tools.grade import REPO, solution_notebook

LEARNER_COPY = REPO / "chapters" / solution_notebook(1).name
MARKER = "course-grade-tampering-marker"  # what a trick writes wherever it can; never found afterwards

# Wrong answers, each with a mistake the checker names.
WRONG = {
    "bag_of_words": (
        "def bag_of_words(tokens, vocab):\n"
        "    vector = np.zeros(len(vocab), dtype='float32')\n"
        "    for token in tokens:\n"
        "        if token in vocab:\n"
        "            vector[vocab[token]] = 1  # presence, not counts\n"
        "    return vector\n"),
    "make_windows": (
        "def make_windows(series, window, horizon):\n"
        "    n = len(series) - window - horizon + 1\n"
        "    X = np.stack([series[i:i + window] for i in range(n)])\n"
        "    return X, X[:, -1].copy()  # the target inside its own window\n"),
    "next_char_distribution": (
        "def next_char_distribution(counts, context, order, vocab_size, alpha):\n"
        "    row = counts.get(context[-order:] if order else '', np.zeros(vocab_size))\n"
        "    return row / max(row.sum(), 1.0)  # no smoothing\n"),
}
WRONG_ALL = "\n".join(WRONG.values())
ANSWERS = tuple(WRONG)
FIRST_MESSAGE = {  # how the checker's message for each wrong answer starts
    "1.1": "Exercise 1.1 (bag of words): a word that occurs 3 times got the value 1",
    "1.2": "Exercise 1.2 (sliding windows): each target is the last value of its own window",
    "1.3": "Exercise 1.3 (n-gram next-character distribution):",
}


def solution_source(answer: str) -> str:
    """The cell of chapter 1's solution notebook that defines ``answer``."""
    solution = nbformat.read(solution_notebook(1), as_version=4)
    return next(cell.source for cell in solution.cells if f"def {answer}(" in cell.source)


@dataclass
class Tampering:
    """One submission and what its rows must show: the notebook's status, and each exercise's."""

    name: str
    trick: str  # in words, for the report's table
    cells: list[str]
    notebook: set[str]  # acceptable statuses of the notebook row
    exercises: dict[str, set[str]]  # acceptable statuses per exercise number
    messages: dict[str, str] = field(default_factory=dict)  # the start of a message, per exercise number


def _base() -> nbformat.NotebookNode:
    """The learner copy up to (and with) the cell that imports the checkers."""
    notebook = nbformat.read(LEARNER_COPY, as_version=4)
    end = next(k for k, cell in enumerate(notebook.cells) if "ch01 as checks" in cell.source)
    notebook.cells = notebook.cells[:end + 1]
    return notebook


def _tricks(other_names: list[str], tracked: list[str]) -> list[Tampering]:
    ran, errors, crashed, timed_out = "ran", "ran with errors", "crashed", "timed out"
    failed, flagged, error, not_attempted = "failed", "flagged", "error", "not attempted"
    all_failed = {number: {failed} for number in ("1.1", "1.2", "1.3")}
    solutions = "\n\n".join(solution_source(answer) for answer in ANSWERS)
    return [
        Tampering(
            "patch_numpy", "patches the NumPy functions the checker compares with (array_equal, allclose, ...)",
            [WRONG_ALL,
             "import numpy\n"
             "always = lambda *args, **kwargs: True\n"
             "numpy.array_equal = numpy.allclose = numpy.array_equiv = always\n"
             "numpy.isclose = lambda a, b, **kw: numpy.ones(numpy.broadcast(a, b).shape, dtype=bool)\n"
             "numpy.testing.assert_allclose = lambda *args, **kwargs: None\n"
             "numpy.ndarray.__eq__ = always"],
            {ran, errors}, all_failed, dict(FIRST_MESSAGE)),
        Tampering(
            "replace_reference", "replaces the course's reference modules (in memory and in its copy of utils/)",
            [WRONG_ALL,
             "import importlib, sys, pathlib\n"
             "import utils.data.text, utils.data.windows, utils.models.ngram\n"
             "for module, name in ((utils.data.text, 'bag_of_words'), (utils.data.windows, 'make_windows'),\n"
             "                     (utils.models.ngram, 'next_char_distribution')):\n"
             "    setattr(module, name, globals()[name])\n"
             "    path = pathlib.Path(module.__file__)\n"
             "    path.write_text(path.read_text() + f'\\n{name} = None  # " + MARKER + "\\n')\n"
             "for name in list(sys.modules):\n"
             "    if name.startswith('utils.checks'):\n"
             "        del sys.modules[name]\n"],
            {ran, errors}, all_failed, dict(FIRST_MESSAGE)),
        Tampering(
            "patch_serialisation", "patches json.dumps so that every answer reads as a (too short) list of passes",
            [WRONG_ALL,
             "import json\n"
             "json.dumps = lambda *args, **kwargs: '[{\"status\": \"passed\", \"message\": \"passed all checks\"}]'"],
            # IPython's replies go through json.dumps too: the cell never answers, so the kernel starts again without it
            {ran, errors, timed_out}, {number: {error, failed} for number in ("1.1", "1.2", "1.3")}),
        Tampering(
            "patch_display", "patches IPython's display formatter so that every value prints as a pass",
            [WRONG_ALL,
             "from IPython import get_ipython\n"
             "formatter = get_ipython().display_formatter.formatters['text/plain']\n"
             "formatter.for_type(str, lambda value, printer, cycle: printer.text(repr('{\"value\": \"passed\"}')))\n"
             "formatter.for_type(dict, lambda value, printer, cycle: printer.text('{\"status\": \"passed\"}'))"],
            {ran, errors}, {number: {error, failed} for number in ("1.1", "1.2", "1.3")}),
        Tampering(
            "wrong_length_verdicts",
            "a thread that keeps replacing the grader's agent in its kernel with one answering lists of verdicts",
            [WRONG_ALL,
             "import sys, threading, time, types, json\n"
             "fake = types.SimpleNamespace(last=json.dumps([{'status': 'passed'}] * 2),\n"
             "                             describe=lambda request: fake.last, call=lambda request: fake.last)\n"
             "def keep_replacing():\n"
             "    while True:\n"
             "        module = sys.modules.get('course_tools.grading.agent')\n"
             "        if module is not None and module.describe is not fake.describe:\n"
             "            module.describe, module.call, module.last = fake.describe, fake.call, fake.last\n"
             "        time.sleep(0.0005)\n"
             "threading.Thread(target=keep_replacing, daemon=True).start()"],
            {ran, errors}, {number: {error, failed, "missing"} for number in ("1.1", "1.2", "1.3")}),
        Tampering(
            "stack_frame", "reads the expected value from the checker's frames up its call stack",
            ["import sys\n"
             "def _expected(*names):\n"
             "    frame = sys._getframe(2)\n"
             "    while frame is not None:\n"
             "        for name in names:\n"
             "            if name in frame.f_locals:\n"
             "                return frame.f_locals[name]\n"
             "        frame = frame.f_back\n"
             "    return None\n"
             "def bag_of_words(tokens, vocab):\n    return _expected('expected')\n"
             "def make_windows(series, window, horizon):\n    return _expected('X_ref'), _expected('y_ref')\n"
             "def next_char_distribution(counts, context, order, vocab_size, alpha):\n"
             "    return _expected('expected')\n"],
            {ran, errors}, all_failed),
        Tampering(
            "forge_and_kill", "writes passing verdict files everywhere, then kills its kernel's parent and init",
            [WRONG_ALL,
             "import json, os, pathlib, signal\n"
             "verdicts = json.dumps({'verdicts': [{'status': 'passed', 'message': 'passed'}] * 3, 'errors': []})\n"
             "for folder in ('.', '..', '../..', '/tmp', '/run/kernel', '/course', '/course/results'):\n"
             "    for name in ('report.json', 'verdicts.json', 'grades.csv'):\n"
             "        try:\n"
             "            (pathlib.Path(folder) / name).write_text(verdicts)\n"
             "        except OSError:\n"
             "            pass\n"
             "for pid in (os.getppid(), 1, -1, os.getpid()):  # its parent, init, everyone, itself\n"
             "    try:\n"
             "        os.kill(pid, signal.SIGKILL)\n"
             "    except OSError:\n"
             "        pass\n"],
            {crashed}, all_failed),
        Tampering(
            "read_solutions", "reads the course's solutions by absolute path (and by searching) to run them",
            ["import glob, json, os, pathlib\n"
             f"candidates = [{str(solution_notebook(1))!r}, '/proc/1/root' + {str(solution_notebook(1))!r}]\n"
             "for root, dirs, files in os.walk('/'):\n"
             "    dirs[:] = [d for d in dirs if d not in ('proc', 'sys', 'dev', 'usr', 'lib', 'lib64', '.venv', '.pyenv')]\n"
             "    candidates += [os.path.join(root, f) for f in files if f.startswith('01_') and f.endswith('.ipynb')]\n"
             "for path in candidates:\n"
             "    try:\n"
             "        notebook = json.loads(pathlib.Path(path).read_text())\n"
             "    except (OSError, ValueError):\n"
             "        continue\n"
             "    for cell in notebook['cells']:\n"
             "        source = ''.join(cell['source'])\n"
             "        if cell['cell_type'] == 'code' and 'def ' in source and 'NotImplementedError' not in source:\n"
             "            try:\n"
             "                exec(source, globals())\n"
             "            except Exception:\n"
             "                pass\n",
             "\n\n".join(f"if '{answer}' not in globals():\n"
                         f"    def {answer}(*args):\n        raise NotImplementedError\n" for answer in ANSWERS)],
            {ran, errors}, {number: {not_attempted} for number in ("1.1", "1.2", "1.3")}),
        Tampering(
            "write_checkout", "writes into every file of the course's checkout, its results/ and the venv",
            [WRONG_ALL,
             "import pathlib, sys\n"
             f"targets = {json.dumps([str(REPO / path) for path in tracked])}\n"
             f"targets += [{str(REPO / 'results' / 'tampered.json')!r}, sys.prefix + '/lib/numpy-tampered.py']\n"
             "import numpy\n"
             "targets += [numpy.__file__]\n"
             "written = 0\n"
             "for target in targets:\n"
             "    try:\n"
             f"        pathlib.Path(target).write_text({MARKER!r})\n"
             "        written += 1\n"
             "    except OSError:\n"
             "        pass\n"
             "print(written, 'written')"],
            {ran, errors}, all_failed, dict(FIRST_MESSAGE)),
        Tampering(
            "read_cmdline", "looks for the other submissions' names in every process's command line and files",
            ["import os\n"
             f"others = {json.dumps(other_names)}\n"
             "seen = []\n"
             "for pid in os.listdir('/proc'):\n"
             "    for part in ('cmdline', 'environ'):\n"
             "        try:\n"
             "            seen.append(open(f'/proc/{pid}/{part}', 'rb').read().decode(errors='replace'))\n"
             "        except OSError:\n"
             "            pass\n"
             "for root, dirs, files in os.walk('/'):\n"
             "    dirs[:] = [d for d in dirs if d not in ('proc', 'sys', 'dev', 'usr', 'lib', 'lib64', '.venv', '.pyenv')]\n"
             "    seen += dirs + files\n"
             "found = [name for name in others if any(name in text for text in seen)]\n"
             "print('found', found)",
             f"if found:\n    exec({solutions!r})\nelse:\n    exec({WRONG_ALL!r})"],
            {ran, errors}, all_failed),
        Tampering(
            "background_process", "starts a detached process that outlives its notebook and attacks the next one",
            [WRONG_ALL,
             "import subprocess, sys\n"
             "daemon = ('import glob, os, signal, time\\n'\n"
             "          'while True:\\n'\n"
             "          '    for path in glob.glob(\"/tmp/**\", recursive=True) + glob.glob(\"/run/kernel/*\"):\\n'\n"
             "          '        try:\\n'\n"
             f"          '            open(path, \"w\").write(\"{MARKER}\")\\n'\n"
             "          '        except OSError:\\n'\n"
             "          '            pass\\n'\n"
             "          '    time.sleep(0.2)\\n')\n"
             f"subprocess.Popen([sys.executable, '-c', daemon, {MARKER!r}], start_new_session=True,\n"
             "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
             "import os\n"
             "if os.fork() == 0:\n"
             "    os.setsid()\n"
             f"    os.execv(sys.executable, [sys.executable, '-c', daemon, {MARKER!r}])"],
            {ran, errors}, all_failed),
        Tampering(
            "hanging_cell", "a cell that ignores interrupts and hangs, between a right answer and another",
            [solution_source("bag_of_words"),
             "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(10**6)",
             "import time\ntime.sleep(10**6)",
             solution_source("make_windows"),
             WRONG["next_char_distribution"]],
            {timed_out}, {"1.1": {"passed"}, "1.2": {"passed"}, "1.3": {failed}}),
        Tampering(
            "calls_reference", "answers by calling the course's own implementation (aliased, wrapped, via a helper)",
            ["import functools\n"
             "from utils.data import text\n"
             "import utils.models.ngram\n"
             "def bag_of_words(tokens, vocab):\n    return text.bag_of_words(tokens, vocab)\n"
             "make_windows = functools.partial(windows.make_windows)\n"
             "def _helper(*args):\n    return utils.models.ngram.next_char_distribution(*args)\n"
             "def next_char_distribution(counts, context, order, vocab_size, alpha):\n"
             "    return _helper(counts, context, order, vocab_size, alpha)\n"],
            {ran}, {number: {flagged} for number in ("1.1", "1.2", "1.3")},
            {number: "uses the course's reference" for number in ("1.1", "1.2", "1.3")}),
        Tampering(
            "magic_values", "returns arrays whose == is always true, and objects that claim to equal anything",
            ["class Always(np.ndarray):\n"
             "    def __eq__(self, other):\n        return np.ones(np.shape(self), dtype=bool)\n"
             "    __ne__ = lambda self, other: np.zeros(np.shape(self), dtype=bool)\n"
             "class Anything:\n"
             "    __eq__ = lambda self, other: True\n"
             "    __array__ = lambda self, *args, **kwargs: np.zeros(5)\n"
             "def bag_of_words(tokens, vocab):\n    return np.zeros(len(vocab)).view(Always)\n"
             "def make_windows(series, window, horizon):\n    return Anything(), Anything()\n"
             "def next_char_distribution(counts, context, order, vocab_size, alpha):\n    return Anything()\n"],
            {ran}, all_failed),
        Tampering(
            "crash_in_answer", "an answer that kills its kernel when the checker calls it (the others are right)",
            ["import os\ndef bag_of_words(tokens, vocab):\n    os._exit(3)\n",
             solution_source("make_windows"), solution_source("next_char_distribution")],
            {ran}, {"1.1": {error}, "1.2": {"passed"}, "1.3": {"passed"}}, {"1.1": "the kernel died"}),
        Tampering(
            "oversized_answer", "answers with 100 MB, past what the grader reads (the others are right)",
            ["def bag_of_words(tokens, vocab):\n    return np.zeros(12_500_000)\n",
             solution_source("make_windows"), solution_source("next_char_distribution")],
            {ran}, {"1.1": {error}, "1.2": {"passed"}, "1.3": {"passed"}}, {"1.1": "`bag_of_words` gave no answer the grader could read"}),
        Tampering(
            "memory_hog", "allocates 64 GiB in a cell and in an answer, fills its scratch space, prints 50 MB",
            ["x = np.ones(2**33)",
             "import os\nos.write(1, b'x' * 10_000_000)\nprint('y' * 50_000_000)\n"
             "with open('/tmp/fill', 'wb') as f:\n    for _ in range(24):\n        f.write(b'0' * (64 << 20))",
             "def bag_of_words(tokens, vocab):\n    return np.ones((2**33,))\n",
             WRONG["make_windows"], WRONG["next_char_distribution"]],
            {errors}, all_failed, {"1.1": "Exercise 1.1 (bag of words): your function raised MemoryError"}),
    ]


def build(folder: Path, other_names: list[str]) -> list[tuple[Tampering, Path]]:
    """Write every tampering notebook into ``folder``; each with what its rows must show."""
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    built = []
    for trick in _tricks(other_names, tracked):
        notebook = _base()
        notebook.cells += [new_code_cell(source) for source in trick.cells]
        path = folder / f"{trick.name}.ipynb"
        nbformat.write(notebook, path)
        built.append((trick, path))
    return built
