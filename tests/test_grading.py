"""The grader's machinery (course_tools.grading) without sandboxes: the wire format, the agent, the proxy, the cell runner.

The proxy is tested against :class:`LocalKernel`, which runs the agent in this process, so that
every chapter's checkers can be run through it on the solutions' answers and the learners' stubs in
seconds; tests/test_grade.py runs the same protocol in real, sealed kernels.
"""

from __future__ import annotations

import ast
import builtins
import functools
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

from course_tools import grade
from course_tools.grade import REPO
from course_tools.grading import agent, cells, proxy, sandbox, seal as sealing, wire
from course_tools.grading.kernel import KernelDied
from utils.checks.framework import NOT_ATTEMPTED, PASSED
from utils.data import text
from utils.data.text import CharVocab

# The wire format ---------------------------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same types, NaN equal to NaN, arrays of the same dtype, shape and flags."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return (a.dtype == b.dtype and a.shape == b.shape and a.flags.writeable == b.flags.writeable
                and (np.array_equal(a, b, equal_nan=a.dtype.kind in "fc") if a.dtype.kind != "O"
                     else all(_same(x, y) for x, y in zip(a.ravel(), b.ravel()))))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, np.generic):
        return a.dtype == b.dtype and (a == b or (a != a and b != b))
    if isinstance(a, np.random.Generator):
        return json.dumps(a.bit_generator.state, default=str) == json.dumps(b.bit_generator.state, default=str)
    return a == b


def _round_trip(value: Any) -> Any:
    return wire.decode(json.loads(json.dumps(wire.encode(value), allow_nan=False)))


def test_plain_values_cross_exactly_with_their_types():
    read_only = np.arange(6.0).reshape(2, 3)
    read_only.flags.writeable = False
    values = [
        None, True, False, 0, -7, 2**100, 1.5, -0.0, float("nan"), float("inf"), float("-inf"), "", "é\n\x00",
        b"\x00\xff", complex(1, -2), (1, (2, "three")), [], [1, [2, [3]]], {1, 2}, frozenset({"a"}),
        {"a": 1, 2: [3], 1.5: None, (1, 2): "tuple key"}, range(3, 10, 2),
        np.float32(0.1), np.int64(-3), np.bool_(True), np.str_("word"), np.float64("nan"),
        np.arange(12, dtype=np.int32).reshape(3, 4)[:, ::2], np.array([[np.nan, np.inf], [-0.0, 1e-300]]),
        np.zeros((0, 3), dtype=np.float32), np.array(3.5), np.array([True, False]), np.array(["a", "bcd"]),
        np.array(["2020-01-01"], dtype="datetime64[D]"), np.array([1 + 2j]), read_only,
        np.array([{"x": 1}, None, "s"], dtype=object),
    ]
    for value in values:
        assert _same(_round_trip(value), value), value


def test_a_random_generator_crosses_as_its_state_and_draws_the_same():
    rng = np.random.default_rng(5)
    rng.random(3)
    copy = _round_trip(rng)
    assert copy is not rng and _same(copy, rng)
    assert copy.integers(0, 10**9) == rng.integers(0, 10**9)


def test_the_graders_side_refuses_what_it_cannot_carry_and_registers_callables():
    class Thing:
        pass

    with pytest.raises(wire.CannotCarry, match="Thing"):
        wire.encode([1, Thing()])
    registered = []
    encoded = wire.encode({"f": len, "g": lambda x: x}, callback=lambda f: registered.append(f) or len(registered) - 1)
    assert [pair[1]["$"] for pair in encoded["items"]] == ["callback", "callback"] and registered[0] is len
    with pytest.raises(wire.CannotCarry):
        wire.encode(len)  # a callable without a callback to register it
    with pytest.raises(wire.CannotCarry, match="nested"):
        wire.encode(functools.reduce(lambda inner, _: [inner], range(100), []))


def test_a_course_value_type_is_rebuilt_from_the_courses_module_on_the_kernels_side():
    vocab = CharVocab("banana bread")
    encoded = json.loads(json.dumps(wire.encode(vocab)))
    rebuilt = wire.decode(encoded, from_grader=True)
    assert type(rebuilt) is CharVocab and rebuilt.chars == vocab.chars and rebuilt.index == vocab.index
    assert rebuilt.encode("bread").tolist() == vocab.encode("bread").tolist()
    with pytest.raises(wire.WireError, match="not accepted"):
        wire.decode(encoded)  # from a kernel, never
    with pytest.raises(wire.WireError, match="course's value types"):
        wire.decode({"$": "course", "type": "os.system", "attrs": {"$": "dict", "items": []}}, from_grader=True)
    stub = wire.decode({"$": "callback", "id": 4, "name": "decode"}, callback=lambda i, n: (i, n), from_grader=True)
    assert stub == (4, "decode")


def test_the_kernels_side_turns_tensors_into_arrays_and_anything_else_into_opaque_stand_ins():
    class Tensorish:
        def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
            return np.ones(3)

    class Broken:
        def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
            raise RuntimeError("no")

        def __repr__(self) -> str:
            raise RuntimeError("no repr either")

    assert _same(wire.decode(wire.encode(Tensorish(), strict=False)), np.ones(3))
    opaque = wire.decode(json.loads(json.dumps(wire.encode((Broken(), len), strict=False))))
    assert type(opaque[0]).__name__ == "Broken" and repr(opaque[0]) == "<no repr>"
    assert opaque[0].type_name.endswith("Broken") and not opaque[0].library_object()
    assert type(opaque[1]).__name__ == "builtin_function_or_method"
    fake_layer = wire.decode({"$": "opaque", "type": "__main__.Decoder", "repr": "",
                              "kinds": ["__main__.Decoder", "keras.src.layers.layer.Layer"]})
    assert fake_layer.library_object() and wire.library_objects([1, (fake_layer,)]) == ["__main__.Decoder"]
    assert wire.library_objects({"a": opaque[0]}) == []


@pytest.mark.parametrize("data", [
    {"$": "nope"}, {"no": "tag"}, {"$": "float", "v": "1.5"}, {"$": "ndarray", "dtype": "<f8", "shape": [3], "b64": ""},
    {"$": "ndarray", "dtype": "<f8", "shape": [-1], "b64": ""}, {"$": "ndarray", "dtype": "|O", "shape": [2], "items": [1]},
    {"$": "ndarray", "dtype": "|O", "shape": [1], "b64": ""}, {"$": "ndarray", "dtype": "not a dtype", "shape": [], "b64": ""},
    {"$": "scalar", "dtype": "<f8", "b64": "AAAA"}, {"$": "bytes", "b64": "***"}, {"$": "bytes", "b64": 3},
    {"$": "generator", "state": {"$": "dict", "items": [["bit_generator", "Evil"]]}},
    {"$": "dict", "items": [[1]]}, {"$": "dict", "items": [[[1], 2]]}, {"$": "range", "start": "0", "stop": 1, "step": 1},
    {"$": "complex", "re": "1", "im": 0}, {"$": "tuple", "items": "abc"}, {"$": "callback", "id": 0, "name": "f"},
    functools.reduce(lambda inner, _: [inner], range(200), []), 1.5j,
])
def test_malformed_data_is_a_wire_error_never_anything_else(data):
    with pytest.raises(wire.WireError):
        wire.decode(data)


def test_decoding_stops_at_its_limits():
    with pytest.raises(wire.WireError, match="more items"):
        wire.decode(list(range(100)), limits=wire.Limits(elements=50))
    with pytest.raises(wire.WireError, match="more items"):
        wire.decode({"$": "ndarray", "dtype": "<f8", "shape": [10**9], "b64": ""}, limits=wire.Limits(elements=10**6))


def _raise(error: BaseException) -> None:
    raise error


def test_exceptions_cross_as_their_name_a_safe_built_in_base_and_their_message():
    caught = []
    for error in (NotImplementedError("todo"), KeyError("k"), np.exceptions.AxisError(3, 1),
                  SystemExit(2), ZeroDivisionError("1 / 0")):
        try:
            _raise(error)
        except BaseException as exc:  # noqa: BLE001 - every kind is described
            caught.append(wire.describe_exception(exc))
    rebuilt = [wire.rebuild_exception(json.loads(json.dumps(info))) for info in caught]
    assert isinstance(rebuilt[0], NotImplementedError) and str(rebuilt[0]) == "todo"
    assert isinstance(rebuilt[1], KeyError) and str(rebuilt[1]) == "'k'"
    assert type(rebuilt[2]).__name__ == "AxisError" and isinstance(rebuilt[2], ValueError)
    assert type(rebuilt[3]).__name__ == "SystemExit" and isinstance(rebuilt[3], Exception)  # never a real exit
    assert caught[4]["file"] == __file__
    with pytest.raises(ZeroDivisionError) as raised:
        wire.raise_rebuilt(caught[4])
    last = raised.value.__traceback__
    while last.tb_next is not None:
        last = last.tb_next
    assert last.tb_frame.f_code.co_filename == __file__  # so that a checker can ask where it was raised
    with pytest.raises(wire.WireError):
        wire.rebuild_exception("not a dict")


# The agent -----------------------------------------------------------------------------------------


def test_the_agent_finds_the_course_functions_an_answer_reaches():
    import utils
    import utils.data.windows as windows

    utils_dir = str(REPO / "utils") + "/"
    namespace: dict[str, Any] = {"text": text, "utils": utils, "windows": windows, "functools": functools, "np": np}
    exec(  # noqa: S102 - the learner's code of these tests
        "def direct(tokens, vocab):\n    return text.bag_of_words(tokens, vocab)\n"
        "def chain(tokens, vocab):\n    return utils.data.text.bag_of_words(tokens, vocab)\n"
        "def imports(tokens, vocab):\n    import utils.data.text\n    return utils.data.text.bag_of_words(tokens, vocab)\n"
        "def _helper(*args):\n    return windows.make_windows(*args)\n"
        "def through_helper(*args):\n    return _helper(*args)\n"
        "def closure():\n    found = text.bag_of_words\n    def inner(*args):\n        return found(*args)\n"
        "    return inner\n"
        "def default(tokens, vocab, how=text.bag_of_words):\n    return how(tokens, vocab)\n"
        "class Counter:\n    def __call__(self, tokens, vocab):\n        return self.count(tokens, vocab)\n"
        "    def count(self, tokens, vocab):\n        return text.bag_of_words(tokens, vocab)\n"
        "table = {'count': text.bag_of_words}\n"
        "def from_table(tokens, vocab):\n    return table['count'](tokens, vocab)\n"
        "def own(tokens, vocab):\n    words = text.words(' '.join(tokens))\n    return own(words[1:], vocab) if words else 0\n",
        namespace)
    reached = {name: agent.course_names_reached(value, utils_dir) for name, value in namespace.items()
               if callable(value) and name in ("direct", "chain", "imports", "through_helper", "default", "from_table")}
    assert all("utils.data.text.bag_of_words" in found or "utils.data.windows.make_windows" in found
               for found in reached.values()), reached
    assert "utils.data.text.bag_of_words" in agent.course_names_reached(namespace["closure"](), utils_dir)
    assert "utils.data.text.bag_of_words" in agent.course_names_reached(namespace["Counter"](), utils_dir)
    assert "utils.data.text.bag_of_words" in agent.course_names_reached(
        functools.partial(text.bag_of_words), utils_dir)
    assert agent.course_names_reached(namespace["own"], utils_dir) == ["utils.data.text.words"]
    assert agent.course_names_reached(text.bag_of_words, utils_dir) == ["utils.data.text.bag_of_words"]
    assert agent.course_names_reached(np.sum, utils_dir) == []


def test_the_agent_describes_what_the_notebook_defines(monkeypatch):
    namespace = {"f": lambda a, *b, c=1, **d: None, "n": 3}
    monkeypatch.setattr(agent, "_namespace", lambda: namespace)
    said = json.loads(agent.describe(json.dumps({"names": ["f", "n", "absent"], "course": str(REPO)})))["names"]
    assert said["f"]["callable"] and [p[0] for p in said["f"]["parameters"]] == ["a", "b", "c", "d"]
    assert said["n"] == {"defined": True, "callable": False, "type": "builtins.int", "parameters": None, "course": []}
    assert said["absent"] == {"defined": False}
    assert "agent" in json.loads(agent.describe("not json")) and agent.last.startswith('{"agent"')
    assert "agent" in json.loads(agent.call(json.dumps({"name": "absent", "args": [], "kwargs": {}})))


def test_the_agent_installs_itself_from_its_source_alone():
    """In a fresh Python whose course_tools cannot be imported, the installer's code alone makes the agent."""
    probe = (agent.install_source() + "import sys, json\n"
             "found = sys.modules['course_tools.grading.agent']\n"
             "print(found.__file__, found.wire.__file__, json.dumps(found.wire.encode((1, 2))))\n")
    done = subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True, text=True, cwd="/")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["<course-grade", "course_tools.grading.agent>", "<course-grade",
                                   "course_tools.grading.wire>", '{"$":', '"tuple",', '"items":', "[1,", "2]}"]
    assert agent.statement("call", {"x": 1}).endswith(".call('{\"x\": 1}')")


# The proxy, against the agent in this process ----------------------------------------------------------------


class LocalKernel:
    """A kernel stand-in that runs the grader's requests in this process: the proxy's protocol, no sandbox."""

    course_dir = str(REPO)

    def __init__(self, replies: list[Any] | None = None) -> None:
        self.replies = replies  # scripted replies instead of running the code
        self.pending, self.interrupted, self.answers, self.closed = "", 0, True, False

    def alive(self) -> bool:
        return not self.closed

    def interrupt(self, grace: float = 10.0) -> bool:
        self.interrupted += 1
        return True

    def responsive(self, timeout: float = 10.0) -> bool:
        return self.answers

    def close(self) -> None:
        self.closed = True

    def execute(self, code: str, timeout: float, *, silent: bool = False, user_expressions: dict[str, str] | None = None,
                on_input: Any = None) -> dict[str, Any] | None:
        if self.replies is not None:
            return self.replies.pop(0)
        if code.startswith("def _course_grade_install"):
            return {"status": "ok"}
        saved = builtins.input
        builtins.input = (lambda prompt="": on_input(prompt)) if on_input else saved
        try:
            exec(code, {})  # noqa: S102 - the grader's own statement
            found = {key: {"status": "ok", "data": {"text/plain": repr(eval(value, {}))}}  # noqa: S307
                     for key, value in (user_expressions or {}).items()}
            return {"status": "ok", "user_expressions": found}
        finally:
            builtins.input = saved


def _namespace_of(notebook_path: Path, answers: set[str]) -> dict[str, Any]:
    """The notebook's imports and the cells that define its answers, run here."""
    namespace: dict[str, Any] = {"__name__": "__main__"}
    for cell in nbformat.read(notebook_path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        exec(compile(ast.Module(body=imports, type_ignores=[]), "<imports>", "exec"), namespace)  # noqa: S102
        if any(isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in answers for node in tree.body):
            exec(cell.source, namespace)  # noqa: S102
    return namespace


def _judged(chapter: int, folder: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[str, str]]:
    wanted = grade.exercises(chapter)
    namespace = _namespace_of(REPO / folder / grade.solution_notebook(chapter).name, {e.answer for e in wanted})
    monkeypatch.setattr(agent, "_namespace", lambda: namespace)
    answers = proxy.Answers(LocalKernel())  # type: ignore[arg-type]
    described = answers.describe([e.answer for e in wanted], 10)
    settings = grade.Settings(sealing.Seal("none", False, 1 << 30, False), REPO)
    return {e.number: grade._judge(e, grade._checkers(chapter), answers, described[e.answer], settings) for e in wanted
            if not e.answer[0].isupper()}  # a layer class needs the rest of its notebook: tests/test_grade.py's run


@pytest.mark.parametrize("chapter", sorted(int(p.name[:2]) for p in (REPO / "solutions").glob("[0-9][0-9]_*.ipynb")))
def test_every_chapters_checkers_judge_through_the_proxy(chapter, monkeypatch):
    """The solutions' answers pass and the learners' stubs are not attempted, every call crossing as plain data
    (a CharVocab, a range, a random generator and its draws, a stand-in decoder and model called back), except an
    answer that is a Keras object (a model, a layer), which gets a clear error row."""
    for folder, expected in (("solutions", PASSED), ("chapters", NOT_ATTEMPTED)):
        for number, (status, message) in _judged(chapter, folder, monkeypatch).items():
            if status == grade.ERROR:
                assert message.startswith("not graded automatically: "), (folder, number, message)
            else:
                assert status == expected, (folder, number, status, message)


def test_an_answer_that_changes_its_input_in_place_is_named_as_in_one_process(monkeypatch):
    namespace = {"np": np}
    exec("def make_windows(series, window, horizon):\n    series[0] = 99.0\n"  # noqa: S102
         "    n = len(series) - window - horizon + 1\n"
         "    return np.stack([series[i:i + window] for i in range(n)]), series[window + horizon - 1:]\n", namespace)
    monkeypatch.setattr(agent, "_namespace", lambda: namespace)
    answers = proxy.Answers(LocalKernel())  # type: ignore[arg-type]
    exercise = grade.exercises(1)[1]
    info = answers.describe([exercise.answer], 10)[exercise.answer]
    status, message = grade._judge(exercise, grade._checkers(1), answers, info, grade.Settings(None, REPO))  # type: ignore[arg-type]
    assert status == "failed" and "changed its input `series` in place" in message


def test_what_the_proxy_cannot_read_or_finish_becomes_an_exception_no_checker_catches():
    def reply(text: str, status: str = "ok") -> dict[str, Any]:
        return {"status": "ok", "user_expressions": {"answer": {"status": status, "data": {"text/plain": text},
                                                                "ename": "E", "evalue": "v"}}}

    cases = [(None, proxy.CallTimedOut), ({"status": "error", "ename": "KeyboardInterrupt"}, proxy.BadReply),
             (reply("'x'", "error"), proxy.BadReply), (reply("not python"), proxy.BadReply),
             (reply(repr("[1, 2]")), proxy.BadReply), (reply(repr('{"agent": {"type": "E"}}')), proxy.BadReply),
             (reply(repr('{"value": {"$": "evil"}}')), proxy.BadReply), (reply(repr('{"raised": 3}')), proxy.BadReply)]
    for scripted, error in cases:
        kernel = LocalKernel([scripted])
        answers = proxy.Answers(kernel)  # type: ignore[arg-type]
        with pytest.raises(error):
            answers.call("f", (1,), {})
        assert not issubclass(error, Exception)
    answers = proxy.Answers(LocalKernel())  # type: ignore[arg-type]
    answers.deadline = 0.0
    with pytest.raises(proxy.CallTimedOut):
        answers.call("f", (), {})
    with pytest.raises(proxy.NotCarried, match="cannot send"):
        proxy.Answers(LocalKernel()).call("f", (object(),), {})  # type: ignore[arg-type]
    with pytest.raises(proxy.BadReply, match="no names"):
        proxy.Answers(LocalKernel([reply(repr('{"names": 3}'))])).describe(["f"], 1)  # type: ignore[arg-type]
    with pytest.raises(proxy.BadReply, match="installed"):
        proxy.Answers(LocalKernel([{"status": "error"}])).install(1)  # type: ignore[arg-type]
    timed_out = LocalKernel([None])
    with pytest.raises(proxy.BadReply, match="longer than"):
        proxy.Answers(timed_out).install(1)  # type: ignore[arg-type]
    assert timed_out.interrupted == 1


def test_a_name_the_notebook_does_not_define_is_missing_and_one_that_is_not_a_function_fails():
    exercise = grade.exercises(1)[0]
    settings = grade.Settings(sealing.Seal("none", False, 1 << 30, False), REPO)
    answers = proxy.Answers(LocalKernel())  # type: ignore[arg-type]
    assert grade._judge(exercise, grade._checkers(1), answers, {"defined": False}, settings) == (
        grade.MISSING, "the notebook defines no `bag_of_words`.")
    status, message = grade._judge(exercise, grade._checkers(1), answers,
                                   {"defined": True, "callable": False, "type": "builtins.int"}, settings)
    assert status == "failed" and "pass your function itself, not int" in message


def test_a_check_that_times_out_is_an_error_row_and_a_kernel_that_no_longer_answers_is_closed():
    exercise = grade.exercises(1)[0]
    settings = grade.Settings(sealing.Seal("none", False, 1 << 30, False), REPO, check_timeout=5)
    for answers_after in (True, False):
        kernel = LocalKernel([None])
        kernel.answers = answers_after
        status, message = grade._judge(exercise, grade._checkers(1), proxy.Answers(kernel),  # type: ignore[arg-type]
                                       {"defined": True, "callable": True, "parameters": None}, settings)
        assert status == grade.ERROR and message.startswith("`bag_of_words` gave no answer the grader could read within")
        assert "(--check-timeout 5 s)" in message and kernel.closed is not answers_after


def test_the_checkers_functions_called_back_are_guarded(monkeypatch):
    answers = proxy.Answers(LocalKernel())  # type: ignore[arg-type]
    prompt = wire.CALLBACK_PROMPT + json.dumps({"id": 0, "args": [[1, 2]], "kwargs": {"$": "dict", "items": []}})
    assert json.loads(answers._callback(prompt, [sum])) == {"value": 3}
    assert answers._callback("What is your name?", [sum]) == ""
    for bad in ("{", json.dumps({"id": 5, "args": [], "kwargs": {}}), json.dumps({"id": "0", "args": [], "kwargs": {}}),
                json.dumps({"id": 0, "args": {"$": "evil"}, "kwargs": {}})):
        assert "the grader refused" in json.loads(answers._callback(wire.CALLBACK_PROMPT + bad, [sum]))["raised"]["message"]
    raised = json.loads(answers._callback(wire.CALLBACK_PROMPT + json.dumps(
        {"id": 0, "args": [], "kwargs": {"$": "dict", "items": []}}), [lambda: 1 / 0]))["raised"]
    assert raised["type"] == "ZeroDivisionError" and raised["file"] == ""
    monkeypatch.setattr(proxy, "CALLBACK_CALLS", 1)
    assert "more than 1" in json.loads(answers._callback(prompt, [sum]))["raised"]["message"]


def test_a_changed_argument_is_changed_in_place_here_too():
    array, read_only = np.zeros(3), np.zeros(2)
    read_only.flags.writeable = False
    rng, other = np.random.default_rng(1), np.random.default_rng(2)
    nested = [np.zeros(2), {"k": np.zeros(1)}, [1]]
    proxy._write_back(array, np.ones(3))
    proxy._write_back(read_only, np.ones(2))
    proxy._write_back(rng, other)
    proxy._write_back(nested, [np.ones(2), {"k": np.ones(1)}, [1, 2]])
    assert array.tolist() == [1, 1, 1] and read_only.tolist() == [0, 0]
    assert rng.integers(0, 10**9) == np.random.default_rng(2).integers(0, 10**9)
    assert nested[0].tolist() == [1, 1] and nested[1]["k"].tolist() == [1] and nested[2] == [1, 2]
    grown: dict[str, Any] = {"a": 1}
    proxy._write_back(grown, {"a": 1, "b": 2})
    pair = (np.zeros(1), 5)
    proxy._write_back(pair, (np.ones(1), 6))
    assert grown == {"a": 1, "b": 2} and pair[0].tolist() == [1] and not proxy._write_back(3, 4)
    assert proxy._signature([["a", 1], ["b", 2]]).parameters.keys() == {"a", "b"}
    assert proxy._signature("nonsense") is None


# Running cells ---------------------------------------------------------------------------------------


class ScriptedKernel:
    """A kernel stand-in whose cells do what their source says: ``ok``, ``error``, ``hang``, ``wedge``, ``die``."""

    def __init__(self, fail_start: int = 0) -> None:
        self.ran: list[str] = []
        self.starts, self.fail_start, self.running, self.pending = 0, fail_start, "", ""

    def start(self) -> None:
        self.starts += 1
        if self.starts <= self.fail_start:
            raise KernelDied("the sandbox could not start the kernel")

    def alive(self) -> bool:
        return True

    def execute(self, code: str, timeout: float) -> dict[str, Any] | None:
        self.ran.append(code)
        self.running = code
        if code.startswith("die"):
            raise KernelDied("the kernel died: killed by SIGKILL")
        if code.startswith(("hang", "wedge")):
            return None
        return {"status": "error", "ename": "ValueError", "evalue": "bad"} if code.startswith("error") else {"status": "ok"}

    def interrupt(self, grace: float = 10.0) -> bool:
        return not self.running.startswith("wedge")


def test_cells_run_on_after_errors_hangs_and_deaths_and_the_kernel_is_restarted_without_them():
    kernel = ScriptedKernel()
    notebook = [(0, "ok a"), (2, "error b"), (3, "hang c"), (4, "wedge d"), (5, "ok e"), (6, "die f"), (7, "ok g")]
    run = cells.run_cells(kernel, notebook, deadline=1e12, cell_timeout=5)  # type: ignore[arg-type]
    assert run.alive and run.errors == ["cell 2: ValueError: bad"] and run.timed_out == [3, 4]
    assert run.crashed == ["cell 6: the kernel died: killed by SIGKILL"] and run.skipped == {4, 6}
    assert run.restarts == 2 and kernel.starts == 3
    assert kernel.ran == ["ok a", "error b", "hang c", "wedge d",  # wedged: a fresh kernel, the cells before again
                          "ok a", "error b", "hang c", "ok e", "die f",  # died: again, without either
                          "ok a", "error b", "hang c", "ok e", "ok g"]


def test_cells_stop_when_the_notebooks_time_or_its_restarts_run_out():
    run = cells.run_cells(ScriptedKernel(), [(0, "ok"), (1, "ok")], deadline=0, cell_timeout=5)  # type: ignore[arg-type]
    assert run.out_of_time == 0 and run.alive
    run = cells.run_cells(ScriptedKernel(), [(0, "hang")], deadline=1e12, cell_timeout=1e13)  # type: ignore[arg-type]
    assert run.out_of_time == 0 and run.alive and not run.timed_out
    run = cells.run_cells(ScriptedKernel(), [(0, "die"), (1, "die"), (2, "die")], deadline=1e12,  # type: ignore[arg-type]
                          cell_timeout=5, restarts=1)
    assert not run.alive and len(run.crashed) == 2 and run.restarts == 1
    run = cells.run_cells(ScriptedKernel(fail_start=1), [(0, "ok")], deadline=1e12, cell_timeout=5)  # type: ignore[arg-type]
    assert not run.alive and run.crashed == ["the kernel did not start: the sandbox could not start the kernel"]
    run = cells.run_cells(ScriptedKernel(fail_start=0), [(0, "die")], deadline=1e12, cell_timeout=5)  # type: ignore[arg-type]
    assert run.alive and run.skipped == {0}


# The sandbox's plan ------------------------------------------------------------------------------------


def test_the_sandbox_binds_each_folder_once_parents_first(tmp_path):
    (tmp_path / "venv" / "lib").mkdir(parents=True)
    spec = sandbox.Spec("root", str(REPO), str(tmp_path / "root"), str(tmp_path / "k" / "kernel.json"), ["python"], {},
                        readonly=[str(tmp_path / "venv"), str(tmp_path / "venv" / "lib"), "/usr/lib", "/nonexistent"])
    plan = sandbox.mount_plan(spec)
    assert str(tmp_path / "venv") in plan and str(tmp_path / "venv" / "lib") not in plan
    assert "/usr" in plan and "/usr/lib" not in plan and "/nonexistent" not in plan
    spec.write(tmp_path / "spec.json")
    assert sandbox.Spec.read(tmp_path / "spec.json") == spec
    assert spec.course_dir == "/course" and spec.socket_dir == "/run/kernel"
    unsealed = sandbox.Spec("none", str(REPO), str(tmp_path / "root"), str(tmp_path / "k" / "kernel.json"), [], {})
    assert unsealed.course_dir == str(tmp_path / "root" / "course") and unsealed.socket_dir == str(tmp_path / "k")
    assert sandbox.exit_code(9) == 137 and sandbox.exit_code(3 << 8) == 3
    assert sandbox.main([str(tmp_path / "absent.json")]) == sandbox.LAUNCH_FAILED


@pytest.mark.skipif(os.geteuid() != 0 or not sealing.Cgroup.available(), reason="needs root and a memory cgroup")
def test_a_cgroup_holds_the_memory_limit_and_is_removed_with_what_ran_in_it():
    group = sealing.Cgroup(f"course-grade-test-{os.getpid()}", 3 << 30)
    try:
        limits = [Path(folder) for folder in group.paths()]
        assert any((folder / name).exists() and int((folder / name).read_text()) == 3 << 30
                   for folder in limits for name in ("memory.limit_in_bytes", "memory.max"))
    finally:
        group.remove()
    assert not any(folder.exists() for folder in limits)
    with pytest.raises(sealing.SealError):
        sealing.Cgroup(f"course-grade-test-{os.getpid()}/no/such/parent", 1 << 30)
