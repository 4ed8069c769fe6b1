"""The submission's side of the grader: run the learner's functions on what is sent, answer in plain data.

After a submission's notebook has run, the grader installs this module and
:mod:`course_tools.grading.wire` in the submission's kernel (see :func:`install_source`) and asks
it, through IPython's user expressions, to

- :func:`describe` the names the chapter's exercises check: defined or not, callable or not, their
  parameters, and the course's functions and classes that the answer reaches (itself, the globals,
  closures and modules its code names, recursively through the learner's own functions), so that
  the grader can see whether it calls the exercise's reference;
- :func:`call` one of them on the arguments sent, and answer with the result, the arguments that the
  call changed in place, or the exception it raised. A function of the checker's among the arguments
  (a stand-in decoder or model) arrives as a stub that asks the grader to run it.

All of this runs in the learner's process, so the grader trusts none of it: what comes back counts
only as the learner's answer, and the checkers judge it in the grader's own process.
"""

from __future__ import annotations

import builtins
import dis
import functools
import inspect
import json
import os
import sys
import types
from pathlib import Path
from typing import Any

from course_tools.grading import wire

_CONTAINER_ITEMS = 100  # a list, tuple or dict in the learner's globals is searched if it is no longer
_VISITS = 5000  # objects visited when following an answer's code


def install_source() -> str:
    """The code that installs this module and :mod:`~course_tools.grading.wire` in a kernel (no files)."""
    here = Path(__file__).resolve().parent
    sources = [(f"course_tools.grading.{name}", (here / f"{name}.py").read_text(encoding="utf-8"))
               for name in ("wire", "agent")]
    return (
        "def _course_grade_install(sources):\n"
        "    import sys, types\n"
        "    for package in ('course_tools', 'course_tools.grading'):\n"
        "        sys.modules[package] = types.ModuleType(package)\n"
        "        sys.modules[package].__path__ = []\n"
        "    sys.modules['course_tools'].grading = sys.modules['course_tools.grading']\n"
        "    for name, source in sources:\n"
        "        module = sys.modules[name] = types.ModuleType(name)\n"
        "        module.__file__ = '<course-grade ' + name + '>'\n"
        "        setattr(sys.modules['course_tools.grading'], name.rpartition('.')[2], module)\n"
        "        exec(compile(source, module.__file__, 'exec'), module.__dict__)\n"
        f"_course_grade_install({sources!r})\n"
        "del _course_grade_install\n"
    )


_MODULE = "__import__('sys').modules['course_tools.grading.agent']"
RESULT = f"{_MODULE}.last"  # the user expression that reads the answer of the last request
last = ""


def statement(function: str, request: dict[str, Any]) -> str:
    """The code that runs ``function`` of the installed agent on ``request``, leaving its answer in ``last``.

    It runs as code, not as a user expression, because a callback needs ``input()``, which IPython
    forwards to the grader only while code runs.
    """
    return f"{_MODULE}.{function}({json.dumps(request)!r})"


def _namespace() -> dict[str, Any]:
    """The notebook's namespace: IPython's user namespace in a kernel, else ``__main__``'s."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell.user_ns if shell is not None else vars(sys.modules["__main__"])


def _answer(outcome: dict[str, Any]) -> str:
    global last
    last = json.dumps(outcome, ensure_ascii=True, allow_nan=False)
    return last


# Describing the answers ------------------------------------------------------------------------------


def describe(request: str) -> str:
    """For each name in the request: what the notebook defines under it, as plain data (JSON)."""
    try:
        asked = json.loads(request)
        namespace, utils_dir = _namespace(), str(asked["course"]).rstrip("/") + "/utils/"
        names = {}
        for name in asked["names"]:
            if name not in namespace:
                names[name] = {"defined": False}
                continue
            value = namespace[name]
            names[name] = {"defined": True, "callable": callable(value), "type": wire.type_name(value),
                           "parameters": _parameters(value), "course": course_names_reached(value, utils_dir)}
        return _answer({"names": names})
    except BaseException as error:  # the learner's code may have broken anything in this process
        return _answer({"agent": wire.describe_exception(error)})


def _parameters(value: Any) -> list[list[Any]] | None:
    """``[name, kind]`` of each parameter (kind as :class:`inspect.Parameter`'s number), or None."""
    try:
        parameters = inspect.signature(value).parameters.values()
        return [[parameter.name, int(parameter.kind)] for parameter in parameters]
    except (TypeError, ValueError):
        return None


def _library_prefixes() -> tuple[str, ...]:
    found = {os.path.join(os.path.realpath(path), "") for path in
             (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    return tuple(sorted(found)) + ("<frozen",)


def _course_name(value: Any, utils_dir: str) -> str | None:
    """``utils.module.name`` when ``value`` is a function or class of the course's own code, else None."""
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, type)):
        module = getattr(value, "__module__", None)
        if isinstance(module, str) and (module == "utils" or module.startswith("utils.")):
            return f"{module}.{getattr(value, '__qualname__', getattr(value, '__name__', '?'))}"
    if isinstance(value, types.FunctionType):
        filename = os.path.realpath(value.__code__.co_filename)
        if filename.startswith(utils_dir) and filename.endswith(".py"):
            module = "utils." + filename[len(utils_dir):-3].replace(os.sep, ".")
            return f"{module.removesuffix('.__init__')}.{value.__code__.co_qualname}"
    return None


def _names(code: types.CodeType) -> tuple[set[str], set[str], set[str]]:
    """The global names, attribute names and imported modules that ``code`` (and code nested in it) uses."""
    globals_used, attributes, imports = set(), set(), set()
    for instruction in dis.get_instructions(code):
        if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
            globals_used.add(instruction.argval)
        elif instruction.opname in ("LOAD_ATTR", "LOAD_METHOD", "IMPORT_FROM", "LOAD_SUPER_ATTR"):
            attributes.add(instruction.argval)
        elif instruction.opname == "IMPORT_NAME":
            imports.add(instruction.argval)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            nested = _names(constant)
            globals_used |= nested[0]
            attributes |= nested[1]
            imports |= nested[2]
    return globals_used, attributes, imports


def course_names_reached(answer: Any, utils_dir: str) -> list[str]:
    """The course's functions and classes that ``answer`` is or reaches through the learner's code.

    Follows the globals, closures, defaults and imports named by the code of every function that is
    not library code (the notebook's, or a file of the learner's), the attributes that code reads on
    the modules it reaches (``text.bag_of_words``, ``utils.data.text.bag_of_words``), the methods of
    the learner's classes, ``functools.partial`` and bound methods, and short containers. Code that
    hides a call from inspection (``getattr`` on a built string, ``exec``) is not found.
    """
    library = _library_prefixes()
    found: set[str] = set()
    seen: set[tuple[int, frozenset[str] | None]] = set()
    todo: list[tuple[Any, frozenset[str]]] = [(answer, frozenset())]
    while todo and len(seen) < _VISITS:
        value, attributes = todo.pop()
        key = (id(value), attributes if isinstance(value, types.ModuleType) else None)
        if key in seen:
            continue
        seen.add(key)
        name = _course_name(value, utils_dir)
        if name:
            found.add(name)
        elif isinstance(value, types.ModuleType):
            todo += _module_attributes(value, attributes, utils_dir, library)
        elif isinstance(value, types.FunctionType):
            todo += _function_references(value, library)
        elif isinstance(value, functools.partial):
            todo += [(item, attributes) for item in (value.func, *value.args, *value.keywords.values())]
        elif isinstance(value, (types.MethodType, staticmethod, classmethod)):
            todo.append((value.__func__, attributes))
        elif isinstance(value, type):
            if _learner_class(value, library):
                todo += [(member, attributes) for member in vars(value).values()]
        elif isinstance(value, (list, tuple, set, frozenset)) and len(value) <= _CONTAINER_ITEMS:
            todo += [(item, attributes) for item in value]
        elif isinstance(value, dict) and len(value) <= _CONTAINER_ITEMS:
            todo += [(item, attributes) for item in value.values()]
        elif callable(value) and not isinstance(value, types.BuiltinFunctionType):
            todo.append((type(value), attributes))  # a callable instance: its class's methods
    return sorted(found)


def _in_library(filename: Any, library: tuple[str, ...]) -> bool:
    """Whether a module or code file is library code (the standard library or site-packages)."""
    if not isinstance(filename, str):
        return filename is None  # a built-in module
    return filename.startswith(library[-1]) or os.path.realpath(filename).startswith(library[:-1])


def _learner_class(kind: type, library: tuple[str, ...]) -> bool:
    """Whether a class is the learner's (defined in the notebook or a file of theirs), not a library's."""
    if kind.__module__ == "__main__":
        return True
    filename = getattr(sys.modules.get(kind.__module__), "__file__", None)
    if isinstance(filename, str) and not _in_library(filename, library):
        return True
    return any(isinstance(member, types.FunctionType)
               and not _in_library(member.__code__.co_filename, library) for member in vars(kind).values())


def _module_attributes(module: types.ModuleType, attributes: frozenset[str], utils_dir: str,
                       library: tuple[str, ...]) -> list[tuple[Any, frozenset[str]]]:
    """What the code read on a module of the course's or the learner's (never a library's)."""
    name = getattr(module, "__name__", "")
    course = isinstance(name, str) and (name == "utils" or name.startswith("utils."))
    if not course and _in_library(getattr(module, "__file__", None), library):
        return []
    members = vars(module)
    reached = [(members[attribute], attributes) for attribute in attributes if attribute in members]
    reached += [(sys.modules[f"{name}.{attribute}"], attributes) for attribute in attributes
                if f"{name}.{attribute}" in sys.modules]
    return reached


def _function_references(function: types.FunctionType,
                          library: tuple[str, ...]) -> list[tuple[Any, frozenset[str]]]:
    """What a learner's function names: its globals, imports, closure, defaults and wrapped function."""
    code = function.__code__
    if _in_library(code.co_filename, library):
        return []
    globals_used, attributes, imports = _names(code)
    context = frozenset(attributes)
    namespace = function.__globals__
    reached = [(namespace[name], context) for name in globals_used if name in namespace]
    for module in imports:
        parts = module.split(".")
        reached += [(sys.modules[".".join(parts[:k])], context) for k in range(1, len(parts) + 1)
                    if ".".join(parts[:k]) in sys.modules]
    for cell in function.__closure__ or ():
        try:
            reached.append((cell.cell_contents, context))
        except ValueError:  # an empty cell
            pass
    defaults = (*(function.__defaults__ or ()), *(function.__kwdefaults__ or {}).values())
    reached += [(value, context) for value in defaults]
    if "__wrapped__" in vars(function):
        reached.append((vars(function)["__wrapped__"], context))
    return reached


# Calling an answer -------------------------------------------------------------------------------------


def _mutable(encoded: Any) -> bool:
    """Whether an encoded argument is of a kind that a call can change in place."""
    return isinstance(encoded, list) or (isinstance(encoded, dict) and
                                         encoded.get("$") in ("ndarray", "dict", "generator", "tuple", "set"))


def _stub(callback_id: int, name: str) -> Any:
    """A function that asks the grader to run its callback ``callback_id`` and returns what that returned."""

    def stub(*args: Any, **kwargs: Any) -> Any:
        request = json.dumps({"id": callback_id, "args": wire.encode(list(args), strict=False),
                              "kwargs": wire.encode(dict(kwargs), strict=False)}, ensure_ascii=True)
        reply = json.loads(builtins.input(wire.CALLBACK_PROMPT + request))
        if "raised" in reply:
            wire.raise_rebuilt(reply["raised"])
        return wire.decode(reply["value"])

    stub.__name__ = stub.__qualname__ = name
    return stub


def call(request: str) -> str:
    """Call the named function on the arguments in ``request``; the outcome as plain data (JSON)."""
    try:
        asked = json.loads(request)
        function = _namespace()[asked["name"]]
        args = wire.decode(asked["args"], callback=_stub, from_grader=True)
        kwargs = wire.decode(asked["kwargs"], callback=_stub, from_grader=True)
    except BaseException as error:
        return _answer({"agent": wire.describe_exception(error)})
    try:
        outcome: dict[str, Any] = {"value": wire.encode(function(*args, **kwargs), strict=False)}
    except BaseException as error:  # the learner's exception, reported as such (KeyboardInterrupt included)
        outcome = {"raised": wire.describe_exception(error)}
    try:
        sent_args = enumerate(zip(asked["args"], args))
        outcome["changed"] = {str(index): again for index, (sent, value) in sent_args
                              if _mutable(sent) and (again := wire.encode(value, strict=False)) != sent}
        sent_kwargs = zip(kwargs.items(), asked["kwargs"]["items"])
        outcome["changed_kwargs"] = {key: again for (key, value), (_, sent) in sent_kwargs if _mutable(sent)
                                     and (again := wire.encode(value, strict=False)) != sent}
        return _answer(outcome)
    except BaseException as error:
        return _answer({"agent": wire.describe_exception(error)})
