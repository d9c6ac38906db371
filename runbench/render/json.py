"""The JSON report (schema runbench/report@1).

ASCII only (every other character, controls and bidi marks included, is a \\u escape, so a report shown with
`cat` cannot drive a terminal) and finite numbers only: a NaN or an infinity in a report is a bug, and
rendering it raises ValueError instead of writing JSON that strict parsers reject.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from json.encoder import encode_basestring_ascii as _encode_str
from typing import Any

from runbench.model import BENCHMARK, CheckMeta, Evidence, Finding, Report, ScoreCard, Severity, Status, Subject
from runbench.render import RenderOptions

REPORT_SCHEMA = "runbench/report@1"


def dumps(data: Any, *, indent: int | None = None) -> str:
    """`json.dumps` as every runbench JSON output wants it: ASCII only, finite numbers only."""
    return json.dumps(data, indent=indent, ensure_ascii=True, allow_nan=False)


def placeholder(name: str) -> str:
    """A value to put where a long list goes in `dumps_spliced` (no real value holds a NUL)."""
    return f"\x00{name}\x00"


def dumps_spliced(data: Any, lists: Mapping[str, Sequence[Any]], *, indent: int) -> str:
    """`dumps(data, indent=indent)`, with each `placeholder(name)` in `data` replaced by the list
    `lists[name]`, one compact item per line: the same JSON value, but a long list goes through the C
    encoder (json's pure-Python encoder, which any indent selects, is ten times slower)."""
    text = dumps(data, indent=indent)
    for name, items in lists.items():
        quoted = dumps(placeholder(name))
        at = text.index(quoted)
        line_start = text.rfind("\n", 0, at) + 1
        pad = " " * (len(text[line_start:at]) - len(text[line_start:at].lstrip(" ")) + indent)
        body = (
            "[]" if not items else "[\n" + ",\n".join(pad + dumps(item) for item in items) + "\n" + pad[indent:] + "]"
        )
        text = text[:at] + body + text[at + len(quoted) :]
    return text


def _finite(name: str, value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise ValueError(f"the report holds a non-finite number: {name} = {value!r}")
    return value


def _card(card: ScoreCard) -> dict[str, Any]:
    return {
        "score": _finite("score", card.score),
        "grade": card.grade,
        "evaluated": card.evaluated,
        "selected": card.selected,
        "coverage": round(card.coverage, 3),
    }


def check_json(meta: CheckMeta) -> dict[str, Any]:
    return {
        "id": meta.id,
        "title": meta.title,
        "scope": meta.scope.value,
        "severity": meta.severity.value,
        "level": meta.level,
        "cis": dict(meta.cis),
        "rationale": meta.rationale,
        "remediation": meta.remediation,
        "references": list(meta.references),
    }


def _subject(s: Subject) -> dict[str, Any]:
    """kind, id, name, key, and what the engine said of it beside (a container's image and state)."""
    out = {"kind": s.kind.value, "id": s.id, "name": s.name, "key": s.key}
    for k, v in s.attrs:
        out.setdefault(k, v)
    return out


def finding_json(f: Finding) -> dict[str, Any]:
    return {
        "check": f.check.id,
        "title": f.check.title,
        "scope": f.check.scope.value,
        "severity": f.severity.value,
        "cis": dict(f.check.cis),
        "status": f.status.value,
        "key": f.key,
        "subject": _subject(f.subject),
        "detail": f.detail,
        "evidence": dict(f.evidence),
        "remediation": f.check.remediation if f.status in (Status.FAIL, Status.MANUAL) else "",
    }


def report_json(report: Report, *, with_results: bool = True) -> dict[str, Any]:
    data = {
        "schema": REPORT_SCHEMA,
        "runbench_version": report.runbench_version,
        "collected_by": report.collected_by or report.runbench_version,
        "benchmark": {"name": BENCHMARK.name, "version": BENCHMARK.version, "also": list(BENCHMARK.also)},
        "host": {
            "hostname": report.host.hostname,
            "engine_version": report.host.engine_version,
            "api_version": report.host.api_version,
            "os": report.host.os,
            "kernel": report.host.kernel,
        },
        "started_at": report.started_at,
        "duration_s": _finite("duration_s", report.duration_s),
        "policy": {"met": report.policy.met, "reasons": list(report.policy.reasons)},
        "score": {
            "total": _finite("score.total", report.total.score),
            "grade": report.total.grade,
            "coverage": round(report.total.coverage, 3),
            "evaluated_checks": report.total.evaluated,
            "selected_checks": report.total.selected,
            "sections": {k.value: _card(v) for k, v in report.sections.items()},
            "containers": {k: _finite("container score", v.score) for k, v in report.containers.items()},
            "images": {k: _finite("image score", v.score) for k, v in report.images.items()},
        },
        "complete": not report.incomplete,
        "incomplete": list(report.incomplete),
        "notes": list(report.notes),
        "counts": {s.value: report.count(s) for s in Status},
        "results": [],
        "errors": [{"area": e.area, "subject": e.subject, "what": e.what, "why": e.why} for e in report.errors],
    }
    if with_results:
        data["results"] = [finding_json(f) for f in report.findings]
    else:
        del data["results"]
    return data


def render(report: Report) -> str:
    """Indented JSON with one result per line: readable, and the results go through the C encoder."""
    return "".join(chunks(report))


def chunks(report: Report, batch: int = 2000) -> Iterator[str]:
    """`render(report)` in pieces of about `batch` results each, for writing to a file as it is made: a
    thousand containers' report (tens of MB) is never held whole in memory."""
    data = report_json(report, with_results=False)
    head = dumps(data, indent=2)
    if not report.findings:
        yield head[:-2] + ',\n  "results": []\n}\n'
        return
    yield head[:-2] + ',\n  "results": [\n    '
    lines: list[str] = []
    first = True
    for line in _result_lines(report.findings):
        lines.append(line)
        if len(lines) >= batch:
            yield ("" if first else ",\n    ") + ",\n    ".join(lines)
            first = False
            lines = []
    if lines:
        yield ("" if first else ",\n    ") + ",\n    ".join(lines)
    yield "\n  ]\n}\n"


def _result_lines(findings: Sequence[Finding]) -> Iterator[str]:
    """`dumps(finding_json(f))` for each finding, byte for byte, with what findings share encoded once: the
    check's fields with the severity, status and remediation, the subject, the detail, the evidence (the same
    few values recur across a thousand containers)."""
    enc = _encode_str
    heads: dict[tuple[int, Severity, Status], tuple[str, str]] = {}
    subjects: dict[int, tuple[str, str]] = {}
    details: dict[str, str] = {}
    evidences: dict[Evidence, str] = {}
    for f in findings:
        m = f.check
        hk = (id(m), f.severity, f.status)
        head = heads.get(hk)
        if head is None:
            remediation = m.remediation if f.status in (Status.FAIL, Status.MANUAL) else ""
            head = heads[hk] = (
                f'{{"check": {enc(m.id)}, "title": {enc(m.title)}, "scope": {enc(m.scope.value)}, '
                f'"severity": {enc(f.severity.value)}, "cis": {dumps(dict(m.cis))}, "status": {enc(f.status.value)}, '
                f'"key": "{enc(m.id)[1:-1]}:',
                f', "remediation": {enc(remediation)}}}',
            )
        s = f.subject
        subject = subjects.get(id(s))
        if subject is None:  # the key's subject part, and the subject object
            subject = subjects[id(s)] = (enc(s.key)[1:], dumps(_subject(s)))
        detail = details.get(f.detail)
        if detail is None:
            detail = details[f.detail] = enc(f.detail)
        evidence = evidences.get(f.evidence)
        if evidence is None:
            evidence = evidences[f.evidence] = dumps(dict(f.evidence))
        yield (f'{head[0]}{subject[0]}, "subject": {subject[1]}, "detail": {detail}, "evidence": {evidence}{head[1]}')


class JsonRenderer:
    def render(self, report: Report, options: RenderOptions) -> str:
        return render(report)

    def chunks(self, report: Report, options: RenderOptions) -> Iterator[str]:
        return chunks(report)
