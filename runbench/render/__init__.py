"""Renderers: one per OutputFormat, each reading only the Report (and, for a comparison, the Changes since a
previous report, in RenderOptions).

`renderer(fmt)` gives the Renderer of a format (imported lazily: only the terminal renderer loads rich, only
the HTML renderer Jinja2); `OutputFormat.for_path` tells a report file's format from its extension.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath
from typing import TYPE_CHECKING, Protocol

from runbench.model import Report, Status

if TYPE_CHECKING:
    from runbench.render.changes import Changes


class OutputFormat(StrEnum):
    TERMINAL = "terminal"  # styled for a terminal (stdout only)
    TEXT = "text"  # the terminal report as plain ASCII text
    JSON = "json"
    HTML = "html"  # one self-contained file for a browser
    JUNIT = "junit"  # JUnit XML for CI test reports (Jenkins, GitLab)
    SARIF = "sarif"  # SARIF 2.1.0 for code scanning (GitHub)
    PROMETHEUS = "prometheus"  # node_exporter textfile collector
    MARKDOWN = "markdown"  # summary and failures for tickets, PR comments, $GITHUB_STEP_SUMMARY

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
    OutputFormat.HTML: ("html", "htm"),
    OutputFormat.JUNIT: ("xml",),
    OutputFormat.SARIF: ("sarif",),
    OutputFormat.PROMETHEUS: ("prom",),
    OutputFormat.MARKDOWN: ("md", "markdown"),
}


@dataclass(frozen=True, slots=True)
class RenderOptions:
    verbose: bool = False  # also passing and skipped results
    quiet: bool = False  # only what went wrong
    color: bool = False  # ANSI styles (terminal format only)
    width: int = 100  # columns of text output
    changes: Changes | None = None  # what changed since a previous report, when one is known
    worst: int = 15  # rows of each subject table (containers, images) without verbose


class Renderer(Protocol):
    def render(self, report: Report, options: RenderOptions) -> str | bytes: ...


def quiet_says_nothing(report: Report) -> bool:
    """Whether the quiet terminal report (only what went wrong: parts not collected, collection errors,
    results that could not be evaluated) is empty."""
    return not report.incomplete and not report.errors and not any(f.status is Status.ERROR for f in report.findings)


class _Terminal:
    """The terminal and text renderers, loaded (rich and the grouped view) only when there is something to
    print: `-q -o report.json` on a clean run prints nothing and needs neither."""

    def __init__(self, load: Callable[[], Renderer]) -> None:
        self.load = load

    def render(self, report: Report, options: RenderOptions) -> str | bytes:
        if options.quiet and quiet_says_nothing(report):
            return ""
        return self.load().render(report, options)


def _load_terminal() -> Renderer:
    from runbench.render.terminal import TerminalRenderer

    return TerminalRenderer()


def _load_text() -> Renderer:
    from runbench.render.terminal import TextRenderer

    return TextRenderer()


def _terminal() -> Renderer:
    return _Terminal(_load_terminal)


def _text() -> Renderer:
    return _Terminal(_load_text)


def _json() -> Renderer:
    from runbench.render.json import JsonRenderer

    return JsonRenderer()


def _html() -> Renderer:
    from runbench.render.html import HtmlRenderer

    return HtmlRenderer()


def _junit() -> Renderer:
    from runbench.render.junit import JunitRenderer

    return JunitRenderer()


def _sarif() -> Renderer:
    from runbench.render.sarif import SarifRenderer

    return SarifRenderer()


def _prometheus() -> Renderer:
    from runbench.render.prometheus import PrometheusRenderer

    return PrometheusRenderer()


def _markdown() -> Renderer:
    from runbench.render.markdown import MarkdownRenderer

    return MarkdownRenderer()


_RENDERERS: Mapping[OutputFormat, Callable[[], Renderer]] = {
    OutputFormat.TERMINAL: _terminal,
    OutputFormat.TEXT: _text,
    OutputFormat.JSON: _json,
    OutputFormat.HTML: _html,
    OutputFormat.JUNIT: _junit,
    OutputFormat.SARIF: _sarif,
    OutputFormat.PROMETHEUS: _prometheus,
    OutputFormat.MARKDOWN: _markdown,
}


def renderer(fmt: OutputFormat) -> Renderer:
    return _RENDERERS[fmt]()
