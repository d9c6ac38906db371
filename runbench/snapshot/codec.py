"""The snapshot codec: dataclasses <-> JSON values, driven by the type hints.

`encode` maps a frozen dataclass (and what it holds) to JSON values: a dataclass becomes an object of its
fields, a tuple a list, a mapping an object, an enum its value. `decode(tp, value)` reverses it, checking
every value against the type hint it is decoded to:

- str, int, bool: exactly that JSON type (a bool is no int, an int no str); float: any finite number
  (an int is widened), never a bool.
- an Enum: by value; anything else names the allowed values.
- tuple[X, ...]: a list of X; tuple[X, Y]: a list of exactly that length, each position its own type.
- Mapping[str, X] / dict[str, X]: an object whose values are X.
- a union: each arm in order; None only where the union holds it.
- Any: any JSON value (objects with str keys, lists, str, int, finite float, bool, None), as it is.
- a dataclass: an object; a field absent from it takes its default (an older snapshot), a field without a
  default is required; keys naming no field are ignored (a newer snapshot).

A value that does not fit raises DecodeError (a ValueError), whose message names where it happened and
never echoes more than a short repr of the data: `containers[3].mounts[0].type: expected str, got int`.
A type hint the codec does not handle is a bug, not bad data: NotImplementedError.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

__all__ = ["DecodeError", "SnapshotFormatError", "decode", "encode"]


class SnapshotFormatError(ValueError):
    """A snapshot file that is not a runbench snapshot or is malformed."""


class DecodeError(ValueError):
    """A JSON value that does not fit the type it is decoded to; `path` says where (`errors[0].fact`)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path = path
        self.problem = problem


# --- encode -------------------------------------------------------------------------------------

_SCALARS = frozenset({str, int, float, bool, type(None)})
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def encode(value: Any) -> Any:
    """The JSON value of `value`: dataclasses as objects, tuples and lists as lists, enums as their value."""
    cls = type(value)
    if cls in _SCALARS:
        return value
    names = _FIELD_NAMES.get(cls)
    if names is not None:
        return {name: encode(getattr(value, name)) for name in names}
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(value))
        return encode(value)
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    if isinstance(value, Mapping):
        return {_encode_key(k): encode(v) for k, v in value.items()}
    return value


def _encode_key(key: Any) -> str:
    if isinstance(key, Enum):
        return str(key.value)
    return str(key)


# --- decode -------------------------------------------------------------------------------------

Decoder = Callable[[Any], Any]

_SHOW_MAX = 40
_PATH_MAX = 160


class _Invalid(Exception):
    """Raised inside the decoders; the path grows (innermost first) as it travels up to `decode`.

    `shallow`: the value is not even the right kind of JSON value (a str where an object belongs), so a
    union reports its own arms instead of this arm's complaint."""

    def __init__(self, problem: str, *, shallow: bool = False) -> None:
        super().__init__(problem)
        self.problem = problem
        self.shallow = shallow
        self.path: list[str] = []

    def at(self, segment: str) -> _Invalid:
        self.path.append(segment)
        self.shallow = False  # the value had the right kind; something inside it did not fit
        return self


def decode(tp: Any, value: Any) -> Any:
    """`value` (a JSON value) as an instance of the type hint `tp`; DecodeError names where it does not fit."""
    try:
        return _decoder(tp)(value)
    except _Invalid as exc:
        path = "".join(reversed(exc.path)).removeprefix(".")
        if len(path) > _PATH_MAX:  # deep inside an Any: keep where it starts and where it ends
            path = f"{path[:40]}...{path[-(_PATH_MAX - 43) :]}"
        raise DecodeError(path, exc.problem) from None


def _show(value: Any, limit: int = _SHOW_MAX) -> str:
    """A short, printable repr of data from the snapshot (repr escapes control and bidi characters)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind(value: Any) -> str:
    """The JSON kind of a value, for messages."""
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _expected(what: str, value: Any) -> _Invalid:
    return _Invalid(f"expected {what}, got {_kind(value)}", shallow=True)


def _type_name(tp: Any) -> str:
    """A type hint as a message names it: `tuple[ProcessFacts, ...] | None`."""
    if tp is type(None) or tp is None:
        return "None"
    if tp is Ellipsis:
        return "..."
    if tp is Any:
        return "Any"
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is not None:
        args = ", ".join(_type_name(a) for a in typing.get_args(tp)) or "()"
        return f"{getattr(origin, '__name__', origin)}[{args}]"
    return tp.__name__ if isinstance(tp, type) else str(tp)


_DECODERS: dict[Any, Decoder] = {}


def _decoder(tp: Any) -> Decoder:
    """The decoder of a type hint, built once and cached."""
    try:
        return _DECODERS[tp]
    except KeyError:
        pass
    decoder = _build(tp)
    _DECODERS[tp] = decoder
    return decoder


def _build(tp: Any) -> Decoder:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return _union(typing.get_args(tp))
    if tp is tuple:
        return _variadic_tuple(Any)
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return _variadic_tuple(args[0])
        return _fixed_tuple(args)  # tuple[()] has no args: the empty tuple
    if origin in (Mapping, dict) or tp in (Mapping, dict):
        args = typing.get_args(tp)
        return _mapping(*args) if args else _mapping(str, Any)
    if tp is Any:
        return _any
    if isinstance(tp, type):
        if dataclasses.is_dataclass(tp):
            return _DataclassDecoder(tp)
        if issubclass(tp, Enum):
            return _enum(tp)
        if tp in _SCALAR_DECODERS:
            return _SCALAR_DECODERS[tp]
    if tp is None or tp is type(None):
        return _none
    raise NotImplementedError(f"snapshot codec: no decoder for the type hint {tp!r}")


# scalars


def _str(value: Any) -> Any:
    if isinstance(value, str):
        return value
    raise _expected("str", value)


def _int(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _expected("int", value)


def _bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    raise _expected("bool", value)


def _float(value: Any) -> Any:
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        raise _Invalid(f"expected a finite number, got {_show(value)}")
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    raise _expected("float", value)


def _none(value: Any) -> Any:
    if value is None:
        return None
    raise _expected("None", value)


_SCALAR_DECODERS: dict[type, Decoder] = {str: _str, int: _int, bool: _bool, float: _float, type(None): _none}


_JSON_SCALARS = frozenset({str, int, bool, type(None)})  # exact types: a str enum is no JSON value


MAX_ANY_DEPTH = 32  # daemon.json values and the like: real ones nest a few levels


def _any(value: Any, depth: int = 0) -> Any:
    """Any JSON value, checked all the way down (at most MAX_ANY_DEPTH levels) and passed through as it is."""
    cls = type(value)
    if cls in _JSON_SCALARS:
        return value
    if cls is float:
        return _float(value)
    if depth >= MAX_ANY_DEPTH and isinstance(value, list | dict):
        raise _Invalid(f"nested deeper than {MAX_ANY_DEPTH} levels")
    if isinstance(value, list):
        for i, item in enumerate(value):
            try:
                _any(item, depth + 1)
            except _Invalid as exc:
                raise exc.at(f"[{i}]") from None
        return value
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Invalid(f"object key {_show(key)} is not a str")
            try:
                _any(item, depth + 1)
            except _Invalid as exc:
                raise exc.at(f"[{_show(key)}]") from None
        return value
    raise _expected("a JSON value", value)


def _enum(cls: type[Enum]) -> Decoder:
    by_value: dict[Any, Enum] = {m.value: m for m in cls}
    allowed = ", ".join(str(m.value) for m in cls)

    def decode_enum(value: Any) -> Any:
        if isinstance(value, str | int | float | bool):  # hashable JSON scalars only
            member = by_value.get(value)
            # exact type: True is no 1, 1.0 no 1, and a str no int
            if member is not None and type(member.value) is type(value):
                return member
        raise _Invalid(f"{_show(value)} is not one of {allowed}")

    return decode_enum


# containers


def _variadic_tuple(item_tp: Any) -> Decoder:
    item = _decoder(item_tp)

    def decode_tuple(value: Any) -> Any:
        if not isinstance(value, list):
            raise _expected("list", value)
        out: list[Any] = []
        for i, v in enumerate(value):
            try:
                out.append(item(v))
            except _Invalid as exc:
                raise exc.at(f"[{i}]") from None
        return tuple(out)

    return decode_tuple


def _fixed_tuple(item_tps: tuple[Any, ...]) -> Decoder:
    items = [_decoder(tp) for tp in item_tps]
    size = len(items)

    def decode_tuple(value: Any) -> Any:
        if not isinstance(value, list):
            raise _expected("list", value)
        if len(value) != size:
            raise _Invalid(f"expected {size} items, got {len(value)}")
        out: list[Any] = []
        for i, (item, v) in enumerate(zip(items, value, strict=True)):
            try:
                out.append(item(v))
            except _Invalid as exc:
                raise exc.at(f"[{i}]") from None
        return tuple(out)

    return decode_tuple


def _mapping(key_tp: Any, value_tp: Any) -> Decoder:
    if not (key_tp is str or (isinstance(key_tp, type) and issubclass(key_tp, Enum) and issubclass(key_tp, str))):
        raise NotImplementedError(f"snapshot codec: mapping keys must be str or a str enum, not {key_tp!r}")
    key = _decoder(key_tp)
    item = _decoder(value_tp)

    def decode_mapping(value: Any) -> Any:
        if not isinstance(value, dict):
            raise _expected("object", value)
        out: dict[Any, Any] = {}
        for k, v in value.items():
            try:
                out[key(k)] = item(v)
            except _Invalid as exc:
                raise exc.at(f"[{_show(k)}]") from None
        return out

    return decode_mapping


def _union(arms: tuple[Any, ...]) -> Decoder:
    nullable = type(None) in arms
    decoders = [_decoder(a) for a in arms if a is not type(None)]
    names = " | ".join(_type_name(a) for a in arms)

    def decode_union(value: Any) -> Any:
        if value is None and nullable:
            return None
        deep: list[_Invalid] = []
        for decoder in decoders:
            try:
                return decoder(value)
            except _Invalid as exc:
                if not exc.shallow:
                    deep.append(exc)
        if len(deep) == 1:  # the one arm this kind of value could be: its complaint is the useful one
            raise deep[0]
        raise _expected(names, value)

    return decode_union


class _DataclassDecoder:
    """Decodes an object to a dataclass; the fields' type hints are resolved on first use (once per class)."""

    __slots__ = ("cls", "fields")

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.fields: list[tuple[str, Decoder, bool]] | None = None  # name, decoder, required

    def _resolve(self) -> list[tuple[str, Decoder, bool]]:
        hints = typing.get_type_hints(self.cls)
        fields = [
            (
                f.name,
                _decoder(hints[f.name]),
                f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
            )
            for f in dataclasses.fields(self.cls)
            if f.init
        ]
        self.fields = fields
        return fields

    def __call__(self, value: Any) -> Any:
        fields = self.fields if self.fields is not None else self._resolve()
        if not isinstance(value, dict):
            raise _expected("object", value)
        kwargs: dict[str, Any] = {}
        for name, decoder, required in fields:
            if name in value:
                try:
                    kwargs[name] = decoder(value[name])
                except _Invalid as exc:
                    raise exc.at(f".{name}") from None
            elif required:
                raise _Invalid("required field is missing").at(f".{name}")
        try:
            return self.cls(**kwargs)
        except (TypeError, ValueError) as exc:  # a __post_init__ that refuses the values
            raise _Invalid(f"not a valid {self.cls.__name__}: {_show(str(exc), 80)}") from None
