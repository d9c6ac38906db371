"""The renderers' fast paths give what the plain ones give: long lists spliced into indented JSON through the
C encoder (the same JSON value), XML escaping by str.replace (the same text as the translation tables)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runbench.model import Report, Status
from runbench.render import OutputFormat, RenderOptions, renderer, sarif
from runbench.render.json import dumps, dumps_spliced, placeholder
from runbench.render.junit import _ATTR, _TEXT, _xml_safe, attr, text
from runbench.render.terminal import TerminalRenderer, TextRenderer
from tests.render.fixture import fixed_report, hostile_report


@pytest.mark.parametrize("indent", [1, 2, 4])
@pytest.mark.parametrize("n", [0, 1, 3])
def test_a_spliced_list_is_the_same_value(indent: int, n: int) -> None:
    items: list[Any] = [{"a": i, "b": ["x", {"c": None}], "t": "é\u2028<"} for i in range(n)]
    data = {"top": 1, "runs": [{"results": placeholder("r"), "more": {"notes": placeholder("n")}}]}
    text = dumps_spliced(data, {"r": items, "n": list(range(n))}, indent=indent)
    want = {"top": 1, "runs": [{"results": items, "more": {"notes": list(range(n))}}]}
    assert json.loads(text) == want
    assert text.isascii()
    if n:
        assert dumps(items[0]) in text  # one compact item per line


def test_the_sarif_file_is_the_sarif_log() -> None:
    for report in (fixed_report(), hostile_report()):
        assert json.loads(sarif.render(report)) == sarif.sarif(report)


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.lists(
        st.sampled_from(["&", "<", ">", '"', "\n", "\t", "\r", " ", "a", "\x00", "\x1b", "\u2028", "&amp;"]),
        max_size=20,
    )
)
def test_xml_escaping_by_replace_is_the_translation(pieces: list[str]) -> None:
    value = "".join(pieces)
    assert text(value) == _xml_safe(value).translate(_TEXT)
    assert attr(value) == _xml_safe(value).translate(_ATTR)


def _clean(report: Report) -> Report:
    findings = tuple(x for x in report.findings if x.status is not Status.ERROR)
    return replace(report, findings=findings, errors=(), incomplete=())


@pytest.mark.parametrize("fmt", [OutputFormat.TERMINAL, OutputFormat.TEXT])
def test_the_quiet_report_is_skipped_only_when_it_would_be_empty(fmt: OutputFormat) -> None:
    full = {OutputFormat.TERMINAL: TerminalRenderer, OutputFormat.TEXT: TextRenderer}[fmt]()
    reports = [
        fixed_report(),
        hostile_report(),
        _clean(fixed_report()),
        replace(_clean(fixed_report()), errors=fixed_report().errors),
    ]
    for report in reports:
        for quiet in (True, False):
            options = RenderOptions(quiet=quiet, width=100)
            assert renderer(fmt).render(report, options) == full.render(report, options)
    assert renderer(fmt).render(_clean(fixed_report()), RenderOptions(quiet=True)) == ""
