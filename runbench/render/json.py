"""The JSON report (schema runbench/report@1).

ASCII only (every other character, controls and bidi marks included, is a \\u escape, so a report shown with
`cat` cannot drive a terminal) and finite numbers only: a NaN or an infinity in a report is a bug, and
rendering it raises ValueError instead of writing JSON that strict parsers reject.
"""

from __future__ import annotations

import json
import math
from typing import Any

from runbench.model import BENCHMARK, CheckMeta, Finding, Report, ScoreCard, Status
from runbench.render import RenderOptions

REPORT_SCHEMA = "runbench/report@1"


def dumps(data: Any, *, indent: int | None = None) -> str:
    """`json.dumps` as every runbench JSON output wants it: ASCII only, finite numbers only."""
    return json.dumps(data, indent=indent, ensure_ascii=True, allow_nan=False)


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


def finding_json(f: Finding) -> dict[str, Any]:
    return {
        "check": f.check.id,
        "title": f.check.title,
        "scope": f.check.scope.value,
        "severity": f.severity.value,
        "cis": dict(f.check.cis),
        "status": f.status.value,
        "key": f.key,
        "subject": {"kind": f.subject.kind.value, "id": f.subject.id, "name": f.subject.name, "key": f.subject.key},
        "detail": f.detail,
        "evidence": dict(f.evidence),
        "remediation": f.check.remediation if f.status in (Status.FAIL, Status.MANUAL) else "",
    }


def report_json(report: Report) -> dict[str, Any]:
    return {
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
        "results": [finding_json(f) for f in report.findings],
        "errors": [{"area": e.area, "subject": e.subject, "what": e.what, "why": e.why} for e in report.errors],
    }


def render(report: Report) -> str:
    """Indented JSON with one result per line: readable, and the results go through the C encoder."""
    data = report_json(report)
    results = data.pop("results")
    head = dumps(data, indent=2)
    if not results:
        return head[:-2] + ',\n  "results": []\n}\n'
    body = ",\n    ".join(dumps(r) for r in results)
    return head[:-2] + ',\n  "results": [\n    ' + body + "\n  ]\n}\n"


class JsonRenderer:
    def render(self, report: Report, options: RenderOptions) -> str:
        return render(report)
