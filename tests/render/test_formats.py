"""HTML, JUnit, SARIF, Prometheus and Markdown: valid for their consumers (schemas, parsers) and inert
with hostile host strings (`<img onerror>`, `</script>`, `javascript:` URLs, U+2028, quotes, controls).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from runbench.model import Report, Status
from runbench.render import OutputFormat, RenderOptions, junit, markdown, prometheus, renderer, sarif
from runbench.render import html as html_render
from runbench.render.changes import PreviousReportError, compare, parse_previous
from runbench.resources import resource_dir
from runbench.textsafe import inert
from tests.render.fixture import (
    HOSTILE,
    IMG_TAG,
    JS_URL,
    SCRIPT_END,
    fixed_changes,
    fixed_report,
    hostile_report,
    previous_json,
)
from tests.render.generated import generated_report

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
REPORTS = [fixed_report, hostile_report]
IDS = ["fixed", "hostile"]


def render(fmt: OutputFormat, report: Report, **options: Any) -> str:
    out = renderer(fmt).render(report, RenderOptions(**options))
    assert isinstance(out, str)
    return out


# ---- HTML -----------------------------------------------------------------------------------------------


class _Page(HTMLParser):
    """Every element and attribute of a page, and the text of its scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.styles: list[str] = []
        self._in: str | None = None
        self._attrs: dict[str, str | None] = {}
        self._buf: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._in, self._attrs, self._buf = tag, dict(attrs), []

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            body = "".join(self._buf)
            if tag == "script":
                self.scripts.append((self._attrs, body))
            else:
                self.styles.append(body)
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self._buf.append(data)
        else:
            self.text.append(data)


def parse_html(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    return page


@pytest.mark.parametrize("report", REPORTS, ids=IDS)
def test_html_is_one_self_contained_file(report: Any) -> None:
    page = parse_html(render(OutputFormat.HTML, report(), changes=fixed_changes()))
    assert len(page.styles) == 1 and "url(" not in page.styles[0] and "@import" not in page.styles[0]
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            if name in ("src", "srcset", "action", "formaction", "data", "poster", "background"):
                raise AssertionError(f"<{tag} {name}={value!r}>: a reference to load something")
            if name == "href":
                assert value and (value.startswith("#") or value.startswith("https://")), f"<{tag} href={value!r}>"
        assert tag not in ("link", "img", "iframe", "object", "embed", "base", "frame", "audio", "video", "form:action")


@pytest.mark.parametrize("report", REPORTS, ids=IDS)
def test_html_runs_only_its_own_script(report: Any) -> None:
    text = render(OutputFormat.HTML, report(), changes=fixed_changes())
    page = parse_html(text)
    runnable = [body for attrs, body in page.scripts if attrs.get("type") != "application/json"]
    js = (resource_dir("reports") / "report.js").read_text(encoding="utf-8")
    assert runnable == [js]
    for attrs, body in page.scripts:
        if attrs.get("type") == "application/json":
            json.loads(body)  # data, parsed by the script, never run
            assert "<" not in body and ">" not in body and "&" not in body and body.isascii()
    for tag, attrs in page.tags:
        handlers = [name for name in attrs if name.startswith("on")]
        assert not handlers, f"<{tag}> has event handler attributes {handlers}"
        assert not any((v or "").strip().lower().startswith("javascript:") for v in attrs.values()), (tag, attrs)
    csp = next(a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    digest = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode()
    assert csp is not None and f"script-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";")[0]


def test_hostile_strings_are_text_in_html() -> None:
    text = render(OutputFormat.HTML, hostile_report())
    assert IMG_TAG not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert SCRIPT_END not in text and "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "\u2028" not in text and "\u2029" not in text and "\\u2028line" in text  # shown, inert
    assert "\x1b" not in text and "\\x1b[31mEVIL" in text
    assert "\x00" not in text and "\ud800" not in text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    page = parse_html(text)
    hrefs = [a.get("href") for t, a in page.tags if t == "a"]
    assert JS_URL not in hrefs and not any("onmouseover" in (h or "") for h in hrefs)
    assert "https://docs.docker.com/engine/network/drivers/bridge/" in hrefs  # the catalog's safe reference
    body = "".join(page.text)
    assert IMG_TAG in body and "</script><script>alert(1)</script>" in body  # the reader sees the exact text
    assert len(text) < 3_000_000  # the 100 kB label was cut


def test_html_shows_what_a_reader_needs() -> None:
    text = render(OutputFormat.HTML, fixed_report(), changes=fixed_changes())
    body = " ".join("".join(parse_html(text).text).split())
    for shown in (
        "host1",
        "Docker 24.0.7 (API 1.43)",
        "CIS Docker Benchmark v1.8.0",
        "0.4 s",
        "76.1",
        "grade D",
        "coverage 9/11 checks (82%)",
        "capped at D by 1 critical failure(s)",
        "Incomplete run",
        "container ghost not inspected",
        "Policy NOT MET",
        "CRITICAL FAIL Container is not privileged — legacy",
        "Why it matters",
        "How to fix",
        "Fix container.privileged: do this (compose: that).",
        "CIS v1.8.0 5.5",
        "all 5 containers but worker",
        "Since the previous report",
        "New failures (1)",
        "Fixed (1)",
        "No longer judged (1)",
        "old-job",
        "+3.3",
        "Errors while collecting (1)",
    ):
        assert shown in body, shown


def test_html_of_1000_containers_is_small_and_fast() -> None:
    report = generated_report(1000)
    start = time.perf_counter()
    text = render(OutputFormat.HTML, report)
    elapsed = time.perf_counter() - start
    assert len(text.encode("utf-8")) < 10_000_000
    assert elapsed < 5.0, f"{elapsed:.2f} s"
    page = parse_html(text)
    heat = [json.loads(body) for attrs, body in page.scripts if attrs.get("class") == "heat-data"]
    assert len(heat[0]["rows"]) == 1000 and heat[0]["page"] == html_render.HEAT_PAGE
    drawn = text.count('<tr><th scope="row" title="score')
    assert drawn <= 2 * html_render.HEAT_PAGE  # the first page of each heat map; the script draws the rest


def test_json_for_script_escapes_what_ends_a_script() -> None:
    out = html_render.json_for_script({"x": "</script><!-- \u2028 \u2029 & >"})
    assert "<" not in out and ">" not in out and "&" not in out and out.isascii()
    assert json.loads(out) == {"x": "</script><!-- \u2028 \u2029 & >"}


# ---- JUnit ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def junit_schema() -> Any:
    xmlschema = pytest.importorskip("xmlschema", reason="xmlschema (test extra) validates JUnit XML")
    return xmlschema.XMLSchema(str(SCHEMAS / "junit-10.xsd"))


@pytest.mark.parametrize("report", REPORTS, ids=IDS)
def test_junit_is_valid(report: Any, junit_schema: Any) -> None:
    text = render(OutputFormat.JUNIT, report())
    junit_schema.validate(text)
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    cases = [c for c in root.findall("./testsuite/testcase") if c.get("classname") != "runbench.collection"]
    gaps = root.findall("./testsuite[@name='Collection']/testcase/error")
    assert len(gaps) == len(report().incomplete) == 1
    assert len(cases) + len(gaps) == len(report().findings) + 1 == int(root.get("tests", "0"))
    names = [(c.get("classname"), c.get("name")) for c in cases]
    assert len(set(names)) == len(names), "classname + name must be unique"
    assert {s.get("name") for s in root.findall("testsuite")} >= {"Container runtime", "Images"}


def test_junit_statuses_and_bodies() -> None:
    root = ET.fromstring(render(OutputFormat.JUNIT, fixed_report()).encode("utf-8"))
    by = {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}
    failure = by[("container.privileged", "legacy")].find("failure")
    assert failure is not None and failure.get("type") == "critical"
    assert failure.get("message") == "FAIL  Container is not privileged: runs with --privileged"
    assert failure.text is not None
    assert "detail: runs with --privileged" in failure.text and "HostConfig.Privileged: true" in failure.text
    assert "fix: Fix container.privileged" in failure.text  # GitLab shows the body, not the message
    assert by[("container.sshd", "web")].find("error") is not None
    assert by[("container.apparmor", "web")].find("skipped") is not None  # skip
    assert by[("container.open_ports", "web")].find("skipped") is not None  # manual
    assert list(by[("container.privileged", "db")]) == []  # pass
    suite = next(s for s in root.iter("testsuite") if s.get("name") == "Container runtime")
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("7", "1", "7")


def test_hostile_strings_in_junit_are_escaped_and_inert() -> None:
    text = render(OutputFormat.JUNIT, hostile_report())
    assert IMG_TAG not in text and "\x1b" not in text and "\x00" not in text
    root = ET.fromstring(text.encode("utf-8"))
    names = [c.get("name") for c in root.iter("testcase")]
    assert inert("evil" + HOSTILE, 500) in names
    assert "\\ufffe\\uffff" in text  # characters XML cannot hold at all, shown as escapes


# ---- SARIF ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator() -> Any:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema (test extra) validates SARIF")
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.mark.parametrize("report", REPORTS, ids=IDS)
def test_sarif_is_valid_against_the_official_schema(report: Any, sarif_validator: Any) -> None:
    data = json.loads(render(OutputFormat.SARIF, report()))
    errors = sorted(sarif_validator.iter_errors(data), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def test_sarif_as_code_scanning_wants_it() -> None:
    report = fixed_report()
    data = json.loads(render(OutputFormat.SARIF, report))
    (run,) = data["runs"]
    assert data["version"] == "2.1.0"
    assert run["automationDetails"]["id"] == "runbench/host1/"
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [m.id for m in report.checks]
    priv = next(r for r in rules if r["id"] == "container.privileged")
    assert priv["shortDescription"]["text"] == "Container is not privileged"
    assert priv["help"]["text"].startswith("Fix: Fix container.privileged")
    assert "**Fix:**" in priv["help"]["markdown"]
    assert priv["properties"]["security-severity"] == "9.5" and "security" in priv["properties"]["tags"]
    severities = {r["id"]: r["properties"]["security-severity"] for r in rules}
    assert (severities["container.apparmor"], severities["container.memory_limit"]) == ("8.0", "5.5")
    assert severities["host.audit_dockerd"] == "3.0"
    results = run["results"]
    assert len(results) == report.count(Status.FAIL) + report.count(Status.MANUAL)
    res = next(r for r in results if r["ruleId"] == "container.privileged")
    assert rules[res["ruleIndex"]]["id"] == "container.privileged"
    assert (res["kind"], res["level"]) == ("fail", "error")
    assert res["message"]["text"] == "FAIL  Container is not privileged — container legacy: runs with --privileged"
    location = res["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "runbench/host1/container/legacy"
    assert location["physicalLocation"]["region"]["startLine"] == 1
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "docker://host1/container/legacy"
    key = "container.privileged:legacy"
    assert res["partialFingerprints"]["runbenchFindingKey/v1"] == hashlib.sha256(key.encode()).hexdigest()
    review = next(r for r in results if r["ruleId"] == "container.open_ports")
    assert (review["kind"], review["level"]) == ("review", "none")
    medium = next(r for r in results if r["ruleId"] == "container.memory_limit")
    assert medium["level"] == "warning"
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert any("container.sshd could not be evaluated on container web" in n["message"]["text"] for n in notes)
    assert run["invocations"][0]["executionSuccessful"] is False  # the run is incomplete


def test_sarif_locations_have_no_scheme_code_scanning_would_refuse() -> None:
    for report in (fixed_report(), hostile_report()):
        data = json.loads(render(OutputFormat.SARIF, report))
        for result in data["runs"][0]["results"]:
            uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            parts = urlsplit(uri)
            assert parts.scheme == "" and parts.netloc == "", uri
            assert uri.isascii() and " " not in uri and ":" not in uri, uri


def test_sarif_fingerprints_follow_the_finding_key() -> None:
    report = fixed_report()
    assert sarif.fingerprint("container.privileged:legacy") == sarif.fingerprint("container.privileged:legacy")
    keys = {r["partialFingerprints"]["runbenchFindingKey/v1"] for r in sarif.sarif(report)["runs"][0]["results"]}
    assert len(keys) == report.count(Status.FAIL) + report.count(Status.MANUAL)


def test_hostile_strings_in_sarif_are_inert() -> None:
    data = json.loads(render(OutputFormat.SARIF, hostile_report()))
    texts = json.dumps(data, ensure_ascii=False)
    assert "\x1b" not in texts and "\u2028" not in texts and "\x00" not in texts
    assert IMG_TAG in texts  # data, not markup: SARIF viewers escape text; it is inert (no controls)


# ---- Prometheus -----------------------------------------------------------------------------------------


def _families(text: str) -> dict[str, Any]:
    parser = pytest.importorskip("prometheus_client.parser", reason="prometheus_client (test extra) parses .prom")
    return {f.name: f for f in parser.text_string_to_metric_families(text)}


def test_prometheus_textfile_parses_with_every_metric() -> None:
    text = render(OutputFormat.PROMETHEUS, fixed_report())
    families = _families(text)
    for name in (
        "runbench_score",
        "runbench_score_section",
        "runbench_findings",
        "runbench_check_failed",
        "runbench_container_score",
        "runbench_image_score",
        "runbench_last_run_timestamp_seconds",
        "runbench_scan_duration_seconds",
        "runbench_run_incomplete",
        "runbench_policy_met",
        "runbench_info",
    ):
        assert name in families, name
        assert f"# HELP {name} " in text and f"# TYPE {name} gauge" in text
    value = {(f.name, tuple(sorted(s.labels.items()))): s.value for f in families.values() for s in f.samples}
    assert value[("runbench_score", ())] == 76.1
    assert value[("runbench_check_failed", (("check", "container.memory_limit"), ("severity", "medium")))] == 4
    assert value[("runbench_check_failed", (("check", "container.docker_socket"), ("severity", "critical")))] == 0
    assert value[("runbench_findings", (("severity", "critical"), ("status", "fail")))] == 1
    assert value[("runbench_container_score", (("container", "legacy"),))] == 40.7
    assert value[("runbench_image_score", (("image", "postgres:16"),))] == 0
    assert value[("runbench_run_incomplete", ())] == 1
    assert value[("runbench_last_run_timestamp_seconds", ())] == 1795318200.0
    assert all(s.timestamp is None for f in families.values() for s in f.samples)
    assert len(list(families["runbench_findings"].samples)) == 25  # stable series, zeros included


def test_hostile_label_values_are_escaped() -> None:
    text = render(OutputFormat.PROMETHEUS, hostile_report())
    families = _families(text)
    containers = {s.labels["container"] for s in families["runbench_container_score"].samples}
    assert inert("evil" + HOSTILE, prometheus.LABEL_FIELD) in containers
    for line in text.splitlines():
        assert line.startswith("#") or re.fullmatch(r"[a-z_]+(\{.*\})? [-0-9.e+]+", line), line


# ---- Markdown -------------------------------------------------------------------------------------------


def _md_html(text: str) -> str:
    markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py (rich's dependency) renders Markdown")
    return str(markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(text))


def test_markdown_summary_and_failures() -> None:
    text = render(OutputFormat.MARKDOWN, fixed_report(), changes=fixed_changes())
    assert text.startswith("## runbench: `host1` scored 76.1 (grade D), policy NOT MET")
    out = _md_html(text)
    assert out.count("<table>") == 5  # summary, changes, sections, failures, review
    assert "<code>all 5 containers but worker</code>" in out
    assert "<td><strong>critical</strong></td>" in out


def test_hostile_strings_in_markdown_stay_text() -> None:
    text = render(OutputFormat.MARKDOWN, hostile_report())
    out = _md_html(text)
    assert "<img" not in out and "<script" not in out and 'href="javascript' not in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out
    for line in text.splitlines():
        if line.startswith("|"):
            assert line.endswith("|"), line  # no row broken by a newline or a pipe
    rows = [line for line in text.splitlines() if line.startswith("| **medium** | FAIL Container memory")]
    assert rows and all(len(re.split(r"(?<!\\)\|", r)) == 7 for r in rows)


def test_markdown_code_spans() -> None:
    assert markdown.code("a`b") == "``a`b``"
    assert markdown.code("`x`") == "`` `x` ``"
    assert markdown.code("a|b") == "`a\\|b`" and markdown.code("a|b", table=False) == "`a|b`"
    assert markdown.code("") == ""
    assert markdown.md("<b> *x* [l](u) | _y_") == "\\<b\\> \\*x\\* \\[l\\](u) \\| \\_y\\_"


# ---- changes since a previous report --------------------------------------------------------------------


def test_changes_by_finding_key() -> None:
    changes = fixed_changes()
    assert [(f.check.id, f.subject.name) for f in changes.new_failures] == [("container.memory_limit", "web")]
    assert [(p.check, p.subject) for p in changes.fixed] == [("container.user", "worker")]
    assert [(p.check, p.subject) for p in changes.gone] == [("container.privileged", "old-job")]
    assert changes.previous.score == 72.8 and changes.score_delta == 3.3


def test_a_report_compared_with_itself_has_no_changes() -> None:
    from runbench.render import json as json_render

    report = fixed_report()
    changes = compare(report, parse_previous(json_render.render(report)))
    assert changes.empty and changes.still_failing == report.count(Status.FAIL)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("not json", "not JSON"),
        ("[]", "not a runbench JSON report"),
        ('{"schema": "runbench/snapshot@2"}', "not a runbench JSON report"),
        ('{"schema": "runbench/report@1", "score": {"total": "x"}, "results": []}', "score.total"),
        ('{"schema": "runbench/report@1", "score": {"total": 1}, "results": [1]}', "results[0]"),
        (
            '{"schema": "runbench/report@1", "score": {"total": 1}, "results": [{"subject": {}, "status": "odd"}]}',
            "results[0]",
        ),
    ],
)
def test_a_bad_previous_report_says_why(text: str, why: str) -> None:
    with pytest.raises(PreviousReportError, match=re.escape(why)):
        parse_previous(text)


def test_previous_json_round_trip() -> None:
    previous = parse_previous(previous_json())
    assert previous.started_at == "2026-11-21T03:30:00+00:00" and previous.hostname == "host1"
    assert previous.results["container.privileged:old-job"].status is Status.FAIL


# ---- speed of every format at 1,000 containers ----------------------------------------------------------


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_every_format_renders_1000_containers_quickly(fmt: OutputFormat) -> None:
    report = generated_report(1000)
    start = time.perf_counter()
    out = renderer(fmt).render(report, RenderOptions(width=100))
    elapsed = time.perf_counter() - start
    assert out
    assert elapsed < 5.0, f"{fmt.value}: {elapsed:.2f} s"  # generous for a loaded CI machine; see bench/


def test_renderers_share_one_view() -> None:
    from runbench.render.view import build

    report = fixed_report()
    assert build(report) is build(report)
    assert junit.render(report) and html_render.render(report)  # both through the same view
