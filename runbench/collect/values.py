"""Readers of JSON values from Engine API answers, shared by the parsers.

Answers are shape-checked before they are parsed (runbench.collect.shape), so these meet only the
types the engine sends or null/absent fields, which read as empty. `text`/`items` are lenient (a
number becomes its text, a tuple a list); `only_text`/`only_list` take nothing but a str/list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def number(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def texts(value: Any) -> tuple[str, ...]:
    return tuple(text(v) for v in items(value))


def only_text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def only_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
