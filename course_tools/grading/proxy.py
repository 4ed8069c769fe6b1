"""The grader's stand-ins for a learner's functions: each call is forwarded to the submission's kernel.

A checker receives an :class:`AnswerProxy` in place of the learner's function and calls it as it
would call the function itself. :class:`Answers` sends the arguments to the kernel's agent
(:mod:`course_tools.grading.agent`) in the plain format of :mod:`course_tools.grading.wire` and gives
the checker back what the function did, as in one process:

- the value it returned (plain data; anything else as an :class:`~course_tools.grading.wire.Opaque`
  stand-in that no checker accepts);
- an argument changed in place is changed in place here too (an array written into, a list
  appended to, a random generator's state advanced by its draws);
- an exception is raised again as a class of the same name derived from the same built-in class
  (``NotImplementedError`` stays one, so "not attempted" works), from a frame of the same file;
- a function of the checker's passed as an argument (a stand-in decoder or model) runs here, in the
  grader's process, when the learner's code calls its stub in the kernel.

What a proxy cannot do becomes an exception that no checker catches (a ``BaseException``):
:class:`CallTimedOut`, :class:`NotCarried` (a value this format cannot carry), :class:`BadReply`
(the kernel's answer could not be read) and :class:`~course_tools.grading.kernel.KernelDied`; the
grader turns each into a row that says so.
"""

from __future__ import annotations

import ast
import inspect
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from course_tools.grading import agent, wire
from course_tools.grading.kernel import MAX_MESSAGE, Kernel

CALLBACK_CALLS = 200_000  # calls of the checker's functions that one check may make
CALLBACK_ELEMENTS = 1_000_000  # items in the arguments of one such call
INTERRUPT_GRACE = 10.0  # seconds for an interrupted call to end before the kernel is restarted


class CallTimedOut(BaseException):
    """A call of the learner's function ran past the check's time; ``recovered``: the kernel lives on."""

    def __init__(self, message: str, recovered: bool) -> None:
        super().__init__(message)
        self.recovered = recovered


class NotCarried(BaseException):
    """A checker passed a value that the wire format cannot carry to the kernel."""


class BadReply(BaseException):
    """The kernel's answer to a request could not be read as the agent's."""


class Answers:
    """The learner's functions in one kernel, reached through the agent installed there."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.deadline = float("inf")
        self.callback_calls = 0
        self.objects: list[str] = []  # library objects the answer returned in this check (they stay behind)

    def install(self, timeout: float) -> None:
        """Install the agent in the kernel (after the notebook ran)."""
        reply = self.kernel.execute(agent.install_source(), timeout, silent=True)
        if reply is None:
            self.kernel.interrupt()
            raise BadReply(f"installing the grader's agent in the kernel took longer than {timeout:g} s")
        if reply.get("status") != "ok":
            raise BadReply(f"the grader's agent could not be installed in the kernel ({_error(reply)})")

    def _request(self, function: str, request: dict[str, Any], timeout: float,
                 on_input: Callable[[str], str] | None = None) -> dict[str, Any]:
        reply = self.kernel.execute(agent.statement(function, request), timeout, silent=True,
                                    user_expressions={"answer": agent.RESULT}, on_input=on_input)
        if reply is None:
            recovered = self.kernel.interrupt(INTERRUPT_GRACE)
            raise CallTimedOut(f"gave no answer the grader could read within the {timeout:.0f} s left for this "
                               f"check (it ran too long, or answered with more than {MAX_MESSAGE >> 20} MiB)",
                               recovered)
        if reply.get("status") != "ok":
            raise BadReply(f"the kernel could not run the grader's request ({_error(reply)})")
        try:
            expression = reply["user_expressions"]["answer"]
            if expression.get("status") != "ok":
                raise BadReply(f"the agent's answer could not be read ({_error(expression)})")
            outcome = json.loads(ast.literal_eval(expression["data"]["text/plain"]))
        except BadReply:
            raise
        except Exception as error:  # anything the kernel sent instead of the agent's answer
            raise BadReply(f"the kernel's answer is not the agent's ({type(error).__name__}: "
                           f"{str(error)[:200]})") from None
        if not isinstance(outcome, dict):
            raise BadReply("the kernel's answer is not the agent's (not a JSON object)")
        if "agent" in outcome:
            raise BadReply(f"the grader's agent failed in the kernel ({_described(outcome['agent'])})")
        return outcome

    def describe(self, names: list[str], timeout: float) -> dict[str, dict[str, Any]]:
        """What the notebook defines under each name (see :func:`course_tools.grading.agent.describe`)."""
        outcome = self._request("describe", {"names": names, "course": self.kernel.course_dir}, timeout)
        found = outcome.get("names")
        if not isinstance(found, dict):
            raise BadReply("the agent's description holds no names")
        return {name: found[name] if isinstance(found.get(name), dict) else {"defined": False}
                for name in names}

    def proxy(self, name: str, info: dict[str, Any]) -> Any:
        """The stand-in a checker gets for ``name``: an :class:`AnswerProxy`, or a non-callable stand-in."""
        if not info.get("callable"):
            kind = str(info.get("type", "object"))
            return wire.decode({"$": "opaque", "type": kind, "kinds": [], "repr": ""})
        return AnswerProxy(self, name, _signature(info.get("parameters")))

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Call the learner's ``name`` in the kernel on ``args``; what it did, as in one process."""
        callbacks: list[Callable[..., Any]] = []

        def register(function: Callable[..., Any]) -> int:
            callbacks.append(function)
            return len(callbacks) - 1

        try:
            sent = {"name": name, "args": wire.encode(list(args), callback=register),
                    "kwargs": wire.encode(dict(kwargs), callback=register)}
        except wire.CannotCarry as error:
            raise NotCarried(f"the checker passes {error} to `{name}`, which the grader cannot send to the "
                             "submission's kernel") from None
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise CallTimedOut("ran out of the time for this check", recovered=True)
        outcome = self._request("call", sent, left, lambda prompt: self._callback(prompt, callbacks))
        try:
            for index, value in (outcome.get("changed") or {}).items():
                _write_back(args[int(index)], wire.decode(value))
            for key, value in (outcome.get("changed_kwargs") or {}).items():
                _write_back(kwargs[key], wire.decode(value))
            if "raised" not in outcome:
                value = wire.decode(outcome["value"])
                self.objects += wire.library_objects(value)
                return value
            raised = outcome["raised"]
            wire.rebuild_exception(raised)  # readable, before it is raised for the checker
        except (wire.WireError, KeyError, IndexError, ValueError, TypeError, RecursionError) as problem:
            raise BadReply(f"the kernel's answer could not be read ({type(problem).__name__}: "
                           f"{str(problem)[:200]})") from None
        wire.raise_rebuilt(raised)

    def _callback(self, prompt: str, callbacks: list[Callable[..., Any]]) -> str:
        """Run one of the checker's functions for the learner's stub; its result or exception, as JSON."""
        if not prompt.startswith(wire.CALLBACK_PROMPT):
            return ""  # the learner's own input(): an empty line
        self.callback_calls += 1
        try:
            if self.callback_calls > CALLBACK_CALLS:
                raise RuntimeError(f"called more than {CALLBACK_CALLS} times in one check")
            request = json.loads(prompt[len(wire.CALLBACK_PROMPT):])
            function = callbacks[request["id"]] if type(request["id"]) is int and request["id"] >= 0 else None
            if function is None:
                raise ValueError("no such function")
            args = wire.decode(request["args"], limits=wire.Limits(elements=CALLBACK_ELEMENTS))
            kwargs = wire.decode(request["kwargs"], limits=wire.Limits(elements=CALLBACK_ELEMENTS))
            if type(args) is not list or type(kwargs) is not dict or not all(type(k) is str for k in kwargs):
                raise ValueError("malformed arguments")
        except (ValueError, KeyError, TypeError, IndexError, RecursionError, RuntimeError) as error:
            return json.dumps({"raised": {"type": "RuntimeError", "bases": ["RuntimeError"],
                                          "message": f"the grader refused this call: {error}", "file": ""}})
        try:
            return json.dumps({"value": wire.encode(function(*args, **kwargs), strict=False)})
        except Exception as error:  # the checker's function rejects the learner's input: the learner's error
            return json.dumps({"raised": {**wire.describe_exception(error), "file": ""}})


class AnswerProxy:
    """What a checker calls instead of the learner's function; the call runs in the submission's kernel."""

    def __init__(self, answers: Answers, name: str, signature: inspect.Signature | None) -> None:
        self._answers, self.__name__ = answers, name
        self.__qualname__ = name
        if signature is not None:
            self.__signature__ = signature

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._answers.call(self.__name__, args, kwargs)

    def __repr__(self) -> str:
        return f"<the submission's {self.__name__}>"


def _signature(parameters: Any) -> inspect.Signature | None:
    """The learner's parameters (names and kinds, no defaults), so that a message can use their names."""
    try:
        return inspect.Signature([inspect.Parameter(str(name), inspect._ParameterKind(int(kind)))
                                  for name, kind in parameters])
    except (TypeError, ValueError):
        return None


def _write_back(original: Any, changed: Any) -> bool:
    """Change ``original`` in place as the call changed the kernel's copy of it; whether it could."""
    if isinstance(original, np.ndarray) and isinstance(changed, np.ndarray):
        if original.shape == changed.shape and original.dtype == changed.dtype and original.flags.writeable:
            np.copyto(original, changed)
        return True
    if isinstance(original, np.random.Generator) and isinstance(changed, np.random.Generator):
        if type(original.bit_generator) is type(changed.bit_generator):
            original.bit_generator.state = changed.bit_generator.state
        return True
    if isinstance(original, list) and isinstance(changed, list):
        if len(original) == len(changed):
            for index, item in enumerate(changed):
                if not _write_back(original[index], item):
                    original[index] = item
        else:
            original[:] = changed
        return True
    if isinstance(original, dict) and isinstance(changed, dict):
        if list(original) == list(changed):
            for key, item in changed.items():
                if not _write_back(original[key], item):
                    original[key] = item
        else:
            original.clear()
            original.update(changed)
        return True
    if isinstance(original, tuple) and isinstance(changed, tuple) and len(original) == len(changed):
        for old, new in zip(original, changed):
            _write_back(old, new)
        return True
    return False


def _error(reply: dict[str, Any]) -> str:
    return f"{str(reply.get('ename', 'an error'))[:100]}: {str(reply.get('evalue', ''))[:300]}"


def _described(info: Any) -> str:
    return f"{info.get('type', '?')}: {str(info.get('message', ''))[:300]}" if isinstance(info, dict) else "?"
