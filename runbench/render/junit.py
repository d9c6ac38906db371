"""JUnit XML (`.xml`) for CI test reports (Jenkins, GitLab): `<testsuites>`, one `<testsuite>` per section,
one `<testcase>` per check x subject (classname = the check id, name = the subject's key: unique together,
as the stable finding key is). A failure is `<failure>`, an error `<error>`, skip and manual `<skipped>`;
the message attribute holds one line and the element's body everything (GitLab shows only the body):
the problem, the subject, the detail, the evidence, the fix. An incomplete run adds a testsuite
"Collection" with an `<error>` per part the engine did not give.

Host strings are made inert (runbench.textsafe) and then escaped for XML; characters XML 1.0 cannot hold
at all are shown as escapes too. Valid against the Jenkins xunit plugin's JUnit schema (tests/schemas).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from runbench.model import BENCHMARK, Finding, Report, Scope, Status
from runbench.render import RenderOptions
from runbench.render.view import STATUS_WORD, cis_of, section_title
from runbench.textsafe import inert

FIELD = 4000  # characters of one host string in the report

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTR = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\t": "&#9;", "\r": "&#13;"}
)


def _xml_safe(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def text(value: str) -> str:
    """Report text (inert already, or the report's own) escaped for XML element content (str.replace in
    turn, "&" first: what translating by _TEXT gives, several times faster)."""
    return _xml_safe(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def attr(value: str) -> str:
    """Escaped for an attribute value: what translating by _ATTR gives."""
    v = _xml_safe(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return v.replace("\n", "&#10;").replace("\t", "&#9;").replace("\r", "&#13;")


def host(value: str, limit: int | None = FIELD) -> str:
    """A host-derived string: inert, cut at `limit`."""
    return inert(value, limit)


def _body(f: Finding) -> str:
    cis = cis_of(f.check)
    lines = [
        f"{STATUS_WORD[f.status]}  {f.check.title}",
        f"check: {f.check.id} ({f.severity.value}" + (f", CIS {BENCHMARK.version} {cis})" if cis else ")"),
        f"subject: {f.subject.kind.value} {host(f.subject.name)}"
        + (f" ({host(f.subject.id)})" if f.subject.id else ""),
    ]
    if f.detail:
        lines.append(f"detail: {host(f.detail)}")
    if f.evidence:
        lines.append("evidence:")
        lines += [f"  {host(k, 200)}: {host(v)}" for k, v in f.evidence]
    if f.status in (Status.FAIL, Status.MANUAL) and f.check.remediation:
        lines.append(f"fix: {f.check.remediation}")
    return "\n".join(lines)


def _message(f: Finding) -> str:
    head = f"{STATUS_WORD[f.status]}  {f.check.title}"
    return f"{head}: {host(f.detail, 500)}" if f.detail else head


_ELEMENT = {Status.FAIL: "failure", Status.ERROR: "error", Status.SKIP: "skipped", Status.MANUAL: "skipped"}


def _testcases(findings: list[Finding], seen: set[tuple[str, str]]) -> Iterator[str]:
    for f in findings:
        name = host(f.subject.key or f.subject.name, 500)
        classname = f.check.id
        unique = name
        n = 2
        while (classname, unique) in seen:  # finding keys are unique; this only guards against a bug
            unique = f"{name} ({n})"
            n += 1
        seen.add((classname, unique))
        head = f'    <testcase classname="{attr(classname)}" name="{attr(unique)}" time="0"'
        element = _ELEMENT.get(f.status)
        if element is None:
            yield head + "/>"
            continue
        kind = f' type="{f.severity.value}"' if f.status is Status.FAIL else ""
        yield (
            f'{head}>\n      <{element} message="{attr(_message(f))}"{kind}>{text(_body(f))}</{element}>\n'
            "    </testcase>"
        )


def render(report: Report) -> str:
    by_scope: dict[Scope, list[Finding]] = {}
    for f in report.findings:
        by_scope.setdefault(f.check.scope, []).append(f)
    timestamp = report.started_at.removesuffix("+00:00").removesuffix("Z")[:19]
    hostname = host(report.host.hostname or "host", 200)
    totals = dict.fromkeys(Status, 0)
    suites: list[str] = []
    seen: set[tuple[str, str]] = set()
    for scope in Scope:
        findings = by_scope.get(scope)
        if not findings:
            continue
        counts = dict.fromkeys(Status, 0)
        for f in findings:
            counts[f.status] += 1
        for s, n in counts.items():
            totals[s] += n
        card = report.sections.get(scope)
        props = [("section", scope.value)]
        if card is not None:
            props += [("score", "" if card.score is None else f"{card.score:.1f}"), ("grade", card.grade)]
        suites.append(
            f'  <testsuite name="{attr(section_title(scope))}" tests="{len(findings)}" '
            f'failures="{counts[Status.FAIL]}" errors="{counts[Status.ERROR]}" '
            f'skipped="{counts[Status.SKIP] + counts[Status.MANUAL]}" time="0" timestamp="{attr(timestamp)}" '
            f'hostname="{attr(hostname)}" package="runbench.{scope.value}">\n'
            "    <properties>\n"
            + "".join(f'      <property name="{attr(k)}" value="{attr(v)}"/>\n' for k, v in props)
            + "    </properties>\n"
            + "\n".join(_testcases(findings, seen))
            + "\n  </testsuite>"
        )
    if report.incomplete:  # what the engine did not give: an error each, so that CI shows the run is incomplete
        cases = "\n".join(
            f'    <testcase classname="runbench.collection" name="{attr(f"not collected {i}")}" time="0">\n'
            f'      <error message="{attr(host(gap, 500))}" type="incomplete">{text(host(gap))}</error>\n'
            "    </testcase>"
            for i, gap in enumerate(report.incomplete, 1)
        )
        suites.append(
            f'  <testsuite name="Collection" tests="{len(report.incomplete)}" failures="0" '
            f'errors="{len(report.incomplete)}" skipped="0" time="0" timestamp="{attr(timestamp)}" '
            f'hostname="{attr(hostname)}" package="runbench.collection">\n{cases}\n  </testsuite>'
        )
        totals[Status.ERROR] += len(report.incomplete)
    tests = sum(totals.values())
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name="{attr(f"runbench {hostname}")}" tests="{tests}" failures="{totals[Status.FAIL]}" '
        f'errors="{totals[Status.ERROR]}" time="{report.duration_s:.3f}">'
    )
    return "\n".join([head, *suites, "</testsuites>"]) + "\n"


class JunitRenderer:
    def render(self, report: Report, options: RenderOptions) -> str:
        return render(report)
