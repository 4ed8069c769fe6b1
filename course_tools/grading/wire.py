"""The plain-data format in which values cross between the grader and a submission's kernel.

A value crosses as JSON. ``None``, bools, ints, strings and finite floats are themselves and a list is
a JSON array; every other value is a JSON object whose ``"$"`` names its kind:

- ``float`` (NaN and the infinities), ``tuple``, ``dict`` (keys of any kind, order kept), ``set``,
  ``frozenset``, ``bytes``, ``complex``, ``range``;
- ``ndarray``: dtype, shape and the raw bytes in base64 (exact, NaN included), or the items for an
  array of Python objects; ``scalar``: a NumPy scalar, its dtype and bytes;
- ``generator``: a NumPy random generator, as its bit generator's state (the grader copies the state
  the learner's draws left back into its own generator, so that a run of calls draws what it would
  in one process);
- ``course``: one of :data:`COURSE_TYPES`, the course's own value types, rebuilt on the kernel's side
  by name from the course's modules in its working copy (only from the grader to the kernel);
- ``callback``: a function of the checker's that the learner's code calls (a stand-in decoder or
  model); the kernel gets a stub that asks the grader to make the call (only from the grader);
- ``opaque``: anything else the learner returned, as its type's name and a short repr.

Nothing is pickled, and decoding builds only these kinds, within :class:`Limits`. Exceptions cross
the same way (:func:`describe_exception`, :func:`rebuild_exception`). This module runs on both sides:
the grader imports it and sends its source to the kernel, so it imports only the standard library and
NumPy.
"""

from __future__ import annotations

import base64
import builtins
import importlib
import keyword
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

CALLBACK_PROMPT = "\x1ecourse-grade-callback\x1e"  # what a kernel's stub puts before its request
COURSE_TYPES = ("utils.data.text.CharVocab",)  # the course's value types that cross by name
LIBRARY_OBJECTS = ("keras", "tensorflow", "torch", "jax", "jaxlib")  # objects that hold their own behaviour
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
SAFE_EXCEPTIONS = (
    "NotImplementedError", "ZeroDivisionError", "FloatingPointError", "OverflowError", "ArithmeticError",
    "IndexError", "KeyError", "LookupError", "ValueError", "TypeError", "AttributeError", "NameError",
    "RecursionError", "RuntimeError", "AssertionError", "MemoryError", "OSError",
)  # the built-in classes a rebuilt exception may derive from (all take one message and raise no surprises)
_OPAQUE_REPR = 200


class WireError(ValueError):
    """A value that does not follow this format, or goes past its limits."""


class CannotCarry(TypeError):
    """A value of a kind this format does not carry (the message says which)."""


@dataclass
class Limits:
    """What one decoded value may hold: nesting depth and the number of items and array elements."""

    depth: int = 64
    elements: int = 20_000_000

    def spend(self, n: int) -> None:
        self.elements -= n
        if self.elements < 0:
            raise WireError("the value holds more items than the grader accepts.")


def type_name(value: Any) -> str:
    """``module.QualifiedName`` of the type of ``value``."""
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


# Encoding ----------------------------------------------------------------------------------------


def encode(value: Any, *, callback: Callable[[Any], int] | None = None, strict: bool = True,
           depth: int = 64) -> Any:
    """``value`` as plain JSON data.

    ``strict`` (the grader's side) raises :class:`CannotCarry` for a kind this format lacks, and gives
    callables to ``callback``, which returns the id the kernel will call them by; otherwise (the
    kernel's side) an array-like (a backend tensor) becomes an ndarray and anything else ``opaque``.
    """
    if depth <= 0:
        if strict:
            raise CannotCarry("a value nested too deeply")
        return _opaque(value)
    inner = dict(callback=callback, strict=strict, depth=depth - 1)
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {"$": "float", "v": repr(value)}
    if isinstance(value, np.ndarray):
        return _encode_array(value, inner)
    if isinstance(value, np.generic):
        if value.dtype.kind == "O":
            return encode(value.item(), **inner)
        return {"$": "scalar", "dtype": value.dtype.str, "b64": _b64(value.tobytes())}
    if isinstance(value, np.random.Generator):
        return {"$": "generator", "state": encode(value.bit_generator.state, **inner)}
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return _encode_container(value, inner)
    if isinstance(value, (bool, int, float, str)):  # subclasses (a learner's IntEnum, say): their plain value
        return encode((bool if isinstance(value, bool) else int if isinstance(value, int)
                       else float if isinstance(value, float) else str)(value), **inner)
    if isinstance(value, bytes):
        return {"$": "bytes", "b64": _b64(bytes(value))}
    if isinstance(value, complex):
        return {"$": "complex", "re": encode(value.real), "im": encode(value.imag)}
    if isinstance(value, range):
        return {"$": "range", "start": value.start, "stop": value.stop, "step": value.step}
    if strict:
        if type_name(value) in COURSE_TYPES:
            return {"$": "course", "type": type_name(value), "attrs": encode(dict(vars(value)), **inner)}
        if callable(value) and not isinstance(value, type) and callback is not None:
            return {"$": "callback", "id": callback(value), "name": _identifier(type(value).__name__)}
        raise CannotCarry(f"a {type_name(value)}")
    array = _as_array(value)
    if array is not None:
        return _encode_array(array, inner)
    return _opaque(value)


def _encode_container(value: Any, inner: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return {"$": "dict", "items": [[encode(k, **inner), encode(v, **inner)] for k, v in value.items()]}
    items = [encode(item, **inner) for item in value]
    if isinstance(value, list):
        return items
    kind = "tuple" if isinstance(value, tuple) else "frozenset" if isinstance(value, frozenset) else "set"
    return {"$": kind, "items": items}


def _encode_array(array: np.ndarray, inner: dict[str, Any]) -> Any:
    shape = [int(n) for n in array.shape]
    writeable = bool(array.flags.writeable)
    if array.dtype.kind == "O":
        return {"$": "ndarray", "dtype": "|O", "shape": shape, "writeable": writeable,
                "items": [encode(item, **inner) for item in array.ravel(order="C").tolist()]}
    if array.dtype.fields is not None or array.dtype.kind == "V":
        if inner["strict"]:
            raise CannotCarry(f"a structured array ({array.dtype})")
        return _opaque(array)
    return {"$": "ndarray", "dtype": array.dtype.str, "shape": shape, "writeable": writeable,
            "b64": _b64(np.ascontiguousarray(array).tobytes())}


def _as_array(value: Any) -> np.ndarray | None:
    """A backend tensor (or anything else with ``__array__``) as an ndarray, or None."""
    if not hasattr(type(value), "__array__"):
        return None
    try:
        return np.asarray(value)
    except Exception:  # a tensor that needs detaching first (PyTorch), or a broken __array__
        try:
            return np.asarray(value.detach().cpu().numpy())
        except Exception:
            return None


def _opaque(value: Any) -> dict[str, Any]:
    try:
        shown = repr(value)
    except Exception:  # a learner's __repr__ may raise anything
        shown = "<no repr>"
    kinds = [f"{kind.__module__}.{kind.__qualname__}" for kind in type(value).__mro__[:-1]][:12]
    return {"$": "opaque", "type": type_name(value), "kinds": kinds, "repr": shown[:_OPAQUE_REPR]}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# Decoding ----------------------------------------------------------------------------------------


class Opaque:
    """A stand-in for a value of a kind that did not cross: its type's name, classes and repr only."""

    type_name = ""
    kinds: tuple[str, ...] = ()  # the qualified names of its type and the type's bases
    shown = ""

    def library_object(self) -> bool:
        """Whether the value was an object of a machine-learning library (a Keras model, a layer...)."""
        return any(kind.split(".")[0] in LIBRARY_OBJECTS for kind in self.kinds)

    def __repr__(self) -> str:
        return self.shown


def decode(data: Any, *, callback: Callable[[int, str], Any] | None = None, from_grader: bool = False,
           limits: Limits | None = None) -> Any:
    """The value that :func:`encode` turned into ``data``.

    ``from_grader`` (the kernel's side) allows ``course`` values and callbacks (``callback(id, name)``
    makes the stub); data from a kernel may hold neither. Raises :class:`WireError` on anything else.
    """
    limits = limits or Limits()
    return _decode(data, callback, from_grader, limits, limits.depth)


def _decode(data: Any, callback: Any, from_grader: bool, limits: Limits, depth: int) -> Any:
    if depth <= 0:
        raise WireError("the value is nested too deeply.")
    if data is None or type(data) in (bool, int, str):
        limits.spend(1)
        return data
    if type(data) is float:
        limits.spend(1)
        return data
    again = lambda item: _decode(item, callback, from_grader, limits, depth - 1)  # noqa: E731
    if type(data) is list:
        limits.spend(len(data))
        return [again(item) for item in data]
    if type(data) is not dict or not isinstance(data.get("$"), str):
        raise WireError(f"a value of kind {type(data).__name__} is not part of the format.")
    kind = data["$"]
    try:
        if kind == "float":
            if data["v"] not in ("nan", "inf", "-inf"):
                raise WireError(f"{data['v']!r} is not a special float.")
            return float(data["v"])
        if kind in ("tuple", "set", "frozenset"):
            items = _list(data["items"], limits)
            made = [again(item) for item in items]
            return tuple(made) if kind == "tuple" else set(made) if kind == "set" else frozenset(made)
        if kind == "dict":
            pairs = _list(data["items"], limits)
            if not all(type(pair) is list and len(pair) == 2 for pair in pairs):
                raise WireError("a dict's items must be [key, value] pairs.")
            return {again(key): again(value) for key, value in pairs}
        if kind == "bytes":
            return _unb64(data["b64"], limits)
        if kind == "complex":
            return complex(_number(again(data["re"])), _number(again(data["im"])))
        if kind == "range":
            return range(*(_int(data[key]) for key in ("start", "stop", "step")))
        if kind == "ndarray":
            return _decode_array(data, again, limits)
        if kind == "scalar":
            dtype = _dtype(data["dtype"])
            raw = _unb64(data["b64"], limits)
            if len(raw) != dtype.itemsize:
                raise WireError("a scalar's bytes do not match its dtype.")
            return np.frombuffer(raw, dtype=dtype)[0]
        if kind == "generator":
            return _generator(again(data["state"]))
        if kind == "opaque":
            kinds = [str(name)[:200] for name in _list(data.get("kinds", []), limits)][:12]
            return _opaque_value(str(data["type"]), str(data["repr"]), kinds)
        if kind == "course" and from_grader:
            return _course_value(str(data["type"]), again(data["attrs"]))
        if kind == "callback" and from_grader and callback is not None:
            return callback(_int(data["id"]), _identifier(str(data["name"])))
    except (KeyError, TypeError, OverflowError) as exc:
        raise WireError(f"a malformed {kind!r} value ({type(exc).__name__}: {exc}).") from None
    raise WireError(f"values of kind {kind!r} are not accepted here.")


def _list(value: Any, limits: Limits) -> list[Any]:
    if type(value) is not list:
        raise WireError("expected a list of items.")
    limits.spend(len(value))
    return value


def _int(value: Any) -> int:
    if type(value) is not int:
        raise WireError(f"expected an int, got {type(value).__name__}.")
    return value


def _number(value: Any) -> float:
    if type(value) not in (int, float):
        raise WireError(f"expected a number, got {type(value).__name__}.")
    return float(value)


def _unb64(text: Any, limits: Limits) -> bytes:
    if type(text) is not str:
        raise WireError("expected base64 text.")
    limits.spend(len(text) // 8)
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise WireError("malformed base64 text.") from None


def _dtype(text: Any) -> np.dtype:
    try:
        dtype = np.dtype(str(text))
    except (TypeError, ValueError):
        raise WireError(f"{text!r} is not a NumPy dtype.") from None
    if dtype.kind in "OV" or dtype.fields is not None:
        raise WireError(f"arrays of dtype {dtype} cross as items, not bytes.")
    return dtype


def _decode_array(data: dict[str, Any], again: Callable[[Any], Any], limits: Limits) -> np.ndarray:
    shape = tuple(_int(n) for n in _list(data["shape"], limits))
    if any(n < 0 for n in shape):
        raise WireError("an array's shape has a negative length.")
    size = math.prod(shape)
    limits.spend(size)
    if data["dtype"] == "|O":
        items = _list(data["items"], limits)
        if len(items) != size:
            raise WireError("an object array's items do not match its shape.")
        array = np.empty(size, dtype=object)
        for index, item in enumerate(items):
            array[index] = again(item)
        array = array.reshape(shape)
    else:
        dtype = _dtype(data["dtype"])
        raw = _unb64(data["b64"], limits)
        if len(raw) != size * dtype.itemsize:
            raise WireError("an array's bytes do not match its shape and dtype.")
        array = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    array.flags.writeable = bool(data.get("writeable", True))
    return array


def _generator(state: Any) -> np.random.Generator:
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in BIT_GENERATORS:
        raise WireError(f"{name!r} is not a NumPy bit generator the grader knows.")
    bit_generator = getattr(np.random, name)()
    try:
        bit_generator.state = state
    except (TypeError, ValueError, KeyError) as exc:
        raise WireError(f"a malformed {name} state ({exc}).") from None
    return np.random.Generator(bit_generator)


def _course_value(name: str, attrs: Any) -> Any:
    if name not in COURSE_TYPES or not isinstance(attrs, dict):
        raise WireError(f"{name!r} is not one of the course's value types.")
    module, _, qualname = name.rpartition(".")
    kind = getattr(importlib.import_module(module), qualname)
    value = kind.__new__(kind)
    value.__dict__.update(attrs)
    return value


def _identifier(name: str) -> str:
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in name)[:60] or "value"
    return f"{name}_" if keyword.iskeyword(name) or not name.isidentifier() else name


_OPAQUE_TYPES: dict[str, type] = {}


def _opaque_value(name: str, shown: str, kinds: list[str]) -> Opaque:
    """An :class:`Opaque` whose type is named like the original's, so that a message says what came back."""
    short = _identifier(name.rpartition(".")[2])
    kind = _OPAQUE_TYPES.get(short)
    if kind is None:
        kind = _OPAQUE_TYPES.setdefault(short, type(short, (Opaque,), {"__module__": "submission"}))
    value = kind()
    value.type_name, value.shown, value.kinds = name[:200], shown[:_OPAQUE_REPR], tuple(kinds)
    return value


# Exceptions ----------------------------------------------------------------------------------------


def describe_exception(error: BaseException) -> dict[str, Any]:
    """What an exception was, as plain data: its type, built-in bases, message and where it was raised."""
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    try:
        message = str(error)
    except Exception:  # a learner's exception whose __str__ raises
        message = "<no message>"
    return {"type": type(error).__name__, "module": type(error).__module__,
            "bases": [kind.__name__ for kind in type(error).__mro__ if kind.__module__ == "builtins"],
            "message": message[:2000],
            "file": frame.tb_frame.f_code.co_filename if frame is not None else ""}


_EXCEPTION_TYPES: dict[tuple[str, str, str], type] = {}


def rebuild_exception(info: Any) -> BaseException:
    """An exception that stands for the one :func:`describe_exception` described.

    Its class has the original's name and derives from the first of its built-in bases that is in
    :data:`SAFE_EXCEPTIONS` (``NotImplementedError`` stays one, ``numpy.AxisError`` is a ``ValueError``),
    else from ``Exception``; ``str()`` gives the original message.
    """
    if not isinstance(info, dict):
        raise WireError("an exception must be described by a dict.")
    bases = [name for name in info.get("bases", []) if isinstance(name, str)]
    base_name = next((name for name in bases if name in SAFE_EXCEPTIONS), "Exception")
    name = _identifier(str(info.get("type", "Exception")))
    module = str(info.get("module", "submission"))[:100]
    key = (name, module, base_name)
    kind = _EXCEPTION_TYPES.get(key)
    if kind is None:
        kind = _EXCEPTION_TYPES.setdefault(key, type(name, (getattr(builtins, base_name),), {
            "__module__": module, "__str__": lambda self: self.args[0] if self.args else ""}))
    return kind(str(info.get("message", ""))[:2000])


def raise_rebuilt(info: Any) -> None:
    """Raise :func:`rebuild_exception` ``(info)`` from a frame of the file it was raised in.

    A checker may ask where an exception came from (NumPy's code or the learner's): the last frame
    of the traceback names the same file as in the submission's kernel.
    """
    error = rebuild_exception(info)
    where = str(info.get("file", "")) or "<submission>"
    exec(compile("raise error", where, "exec"), {"error": error})  # noqa: S102 - a fixed statement


def library_objects(value: Any, depth: int = 3) -> list[str]:
    """The type names of the library objects (see :meth:`Opaque.library_object`) in a decoded value."""
    if isinstance(value, Opaque):
        return [value.type_name] if value.library_object() else []
    if depth and isinstance(value, (list, tuple, set, frozenset)):
        return [name for item in list(value)[:100] for name in library_objects(item, depth - 1)]
    if depth and isinstance(value, dict):
        return [name for item in list(value.values())[:100] for name in library_objects(item, depth - 1)]
    return []
