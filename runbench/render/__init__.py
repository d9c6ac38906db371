"""Renderers: one per OutputFormat, each reading only the Report.

`renderer(fmt)` gives the Renderer of a format (imported lazily: only the terminal renderer loads rich);
`OutputFormat.for_path` tells a report file's format from its extension.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath
from typing import Protocol

from runbench.model import Report


class OutputFormat(StrEnum):
    TERMINAL = "terminal"  # styled for a terminal (stdout only)
    TEXT = "text"  # the terminal report as plain text
    JSON = "json"

    @property
    def extensions(self) -> tuple[str, ...]:
        """File extensions of this format (without the dot); empty for stdout-only formats."""
        return _EXTENSIONS[self]

    @classmethod
    def for_path(cls, path: str) -> OutputFormat | None:
        ext = PurePath(path).suffix.lower().lstrip(".")
        return next((f for f in cls if ext in f.extensions), None)

    @classmethod
    def known_extensions(cls) -> tuple[str, ...]:
        return tuple(f".{e}" for f in cls for e in f.extensions)


_EXTENSIONS: Mapping[OutputFormat, tuple[str, ...]] = {
    OutputFormat.TERMINAL: (),
    OutputFormat.TEXT: ("txt",),
    OutputFormat.JSON: ("json",),
}


@dataclass(frozen=True, slots=True)
class RenderOptions:
    verbose: bool = False  # also passing and skipped results
    quiet: bool = False  # only what went wrong
    color: bool = False  # ANSI styles (terminal format only)
    width: int = 100  # columns of text output


class Renderer(Protocol):
    def render(self, report: Report, options: RenderOptions) -> str | bytes: ...


def _terminal() -> Renderer:
    from runbench.render.terminal import TerminalRenderer

    return TerminalRenderer()


def _text() -> Renderer:
    from runbench.render.terminal import TextRenderer

    return TextRenderer()


def _json() -> Renderer:
    from runbench.render.json import JsonRenderer

    return JsonRenderer()


_RENDERERS: Mapping[OutputFormat, Callable[[], Renderer]] = {
    OutputFormat.TERMINAL: _terminal,
    OutputFormat.TEXT: _text,
    OutputFormat.JSON: _json,
}


def renderer(fmt: OutputFormat) -> Renderer:
    return _RENDERERS[fmt]()
