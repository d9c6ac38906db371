"""SARIF 2.1.0 (`.sarif`) for code scanning (GitHub; any SARIF viewer).

- One run; `tool.driver.rules` are the selected checks: id, name, shortDescription (the title),
  fullDescription (the rationale), help (the remediation, text and Markdown), helpUri (the first http(s)
  reference), `properties.security-severity` (critical 9.5, high 8.0, medium 5.5, low 3.0, info 0.0) and
  `properties.tags` (`security`, the scope, the CIS number).
- A result per failing finding (`kind: fail`, level error for critical/high, warning for medium, note for
  low/info) and per finding that needs review (`kind: review`, level none, as SARIF requires for a kind other
  than fail). Passes and skips are not results; a finding that could not be evaluated is a
  toolExecutionNotification of the invocation (error level), and an incomplete run has
  `executionSuccessful: false`.
- Locations: findings are about containers, images, files, the daemon or the host, not lines of source.
  GitHub rejects any URI scheme but the checkout's (`docker://...` fails with `SARIF URI scheme "docker" did
  not match the checkout URI scheme "file"`), so the physical location is a relative URI naming the
  subject, `runbench/HOST/KIND/NAME` (each segment percent-encoded: no colon, space or slash of a name can
  make it invalid), with region startLine 1; the logical location carries the subject as
  `docker://HOST/KIND/NAME` (kind `resource`).
- `partialFingerprints["runbenchFindingKey/v1"]`: SHA-256 of the stable finding key (`check-id:subject-key`),
  so an alert follows a container across re-creates; `runAutomationDetails.id` is `runbench/HOST/` (one
  category per host).

Host strings are made inert (runbench.textsafe) before they are written: SARIF viewers render messages.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from runbench.model import BENCHMARK, CheckMeta, Finding, Report, Severity, Status
from runbench.render import RenderOptions
from runbench.render.json import dumps_spliced, placeholder
from runbench.render.view import STATUS_WORD, cis_of
from runbench.textsafe import inert

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT = "runbenchFindingKey/v1"
FIELD = 4000

SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}


def fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _segment(value: str) -> str:
    return quote(inert(value, 200), safe="") or "-"


def subject_uri(hostname: str, f: Finding) -> str:
    """`runbench/HOST/container/NAME`: a relative URI reference that code scanning accepts."""
    return "/".join(["runbench", _segment(hostname), f.subject.kind.value, _segment(f.subject.name or f.subject.key)])


def _camel(check_id: str) -> str:
    return "".join(part.capitalize() for part in check_id.replace(".", "_").split("_"))


def _rule(meta: CheckMeta) -> dict[str, Any]:
    cis = cis_of(meta)
    tags = ["security", meta.scope.value] + ([f"CIS-{BENCHMARK.version}-{cis}"] if cis else [])
    markdown = f"**Fix:** {meta.remediation}\n\n**Why:** {meta.rationale}"
    if cis:
        markdown += f"\n\n{BENCHMARK.name} v{BENCHMARK.version} {cis} (level {meta.level})"
    rule: dict[str, Any] = {
        "id": meta.id,
        "name": _camel(meta.id),
        "shortDescription": {"text": meta.title},
        "fullDescription": {"text": meta.rationale or meta.title},
        "help": {"text": f"Fix: {meta.remediation}\nWhy: {meta.rationale}", "markdown": markdown},
        "defaultConfiguration": {"level": LEVEL[meta.severity]},
        "properties": {
            "tags": tags,
            "security-severity": SECURITY_SEVERITY[meta.severity],
            "precision": "high",
            "problem.severity": "error" if LEVEL[meta.severity] == "error" else "warning",
            "cis": dict(meta.cis),
            "level": meta.level,
        },
    }
    uri = next((r for r in meta.references if r.startswith(("https://", "http://"))), "")
    if uri:
        rule["helpUri"] = uri
    return rule


def _message(f: Finding) -> str:
    subject = inert(f.subject.name or f.subject.key, 500)
    text = f"{STATUS_WORD[f.status]}  {f.check.title} — {f.subject.kind.value} {subject}"
    if f.detail:
        text += f": {inert(f.detail, FIELD)}"
    return text


def _result(f: Finding, index: int, hostname: str) -> dict[str, Any]:
    failed = f.status is Status.FAIL
    name = inert(f.subject.name or f.subject.key, 500)
    result: dict[str, Any] = {
        "ruleId": f.check.id,
        "ruleIndex": index,
        "kind": "fail" if failed else "review",
        "level": LEVEL[f.severity] if failed else "none",
        "message": {"text": _message(f)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": subject_uri(hostname, f)},
                    "region": {"startLine": 1},
                },
                "logicalLocations": [
                    {
                        "name": name,
                        "fullyQualifiedName": f"docker://{inert(hostname, 200)}/{f.subject.kind.value}/{name}",
                        "kind": "resource",
                    }
                ],
            }
        ],
        "partialFingerprints": {FINGERPRINT: fingerprint(f.key)},
        "properties": {
            "findingKey": inert(f.key, FIELD),
            "severity": f.severity.value,
            "subject": {
                "kind": f.subject.kind.value,
                "id": inert(f.subject.id, 200),
                "name": name,
                **{k: inert(v, 500) for k, v in f.subject.attrs},
            },
            "evidence": {inert(k, 200): inert(v, FIELD) for k, v in f.evidence},
        },
    }
    if failed and f.severity is not f.check.severity:
        result["properties"]["security-severity"] = SECURITY_SEVERITY[f.severity]
    return result


def sarif(report: Report) -> dict[str, Any]:
    """The SARIF log."""
    log, lists = _log(report)
    run = log["runs"][0]
    run["results"] = lists["results"]
    run["invocations"][0]["toolExecutionNotifications"] = lists["notifications"]
    return log


def _log(report: Report) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """The SARIF log with placeholders for its long lists (results, notifications), and those lists."""
    hostname = report.host.hostname or "host"
    metas = list(report.checks)
    index = {m.id: i for i, m in enumerate(metas)}
    for f in report.findings:  # a finding of a check not listed (never, from the engine) still gets its rule
        if f.check.id not in index:
            index[f.check.id] = len(metas)
            metas.append(f.check)
    results = [
        _result(f, index[f.check.id], hostname) for f in report.findings if f.status in (Status.FAIL, Status.MANUAL)
    ]
    notifications = [
        {
            "level": "error",
            "message": {
                "text": f"{f.check.id} could not be evaluated on {f.subject.kind.value} "
                f"{inert(f.subject.name or f.subject.key, 500)}: {inert(f.detail, FIELD)}"
            },
            "associatedRule": {"id": f.check.id, "index": index[f.check.id]},
        }
        for f in report.findings
        if f.status is Status.ERROR
    ]
    notifications += [
        {"level": "error", "message": {"text": f"not collected: {inert(gap, FIELD)}"}} for gap in report.incomplete
    ]
    notifications += [
        {"level": "warning", "message": {"text": inert(f"{e.area} {e.subject} {e.what}: {e.why}", FIELD)}}
        for e in report.errors
    ]
    invocation: dict[str, Any] = {
        "executionSuccessful": not report.incomplete,
        "toolExecutionNotifications": placeholder("notifications"),
    }
    if report.started_at:
        invocation["startTimeUtc"] = report.started_at.replace("+00:00", "Z")
    card = report.total
    version = inert(report.runbench_version, 100)
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "runbench",
                        "version": version,
                        "semanticVersion": version,
                        "fullName": f"runbench {version} ({BENCHMARK.name} v{BENCHMARK.version})",
                        "rules": [_rule(m) for m in metas],
                    }
                },
                "automationDetails": {"id": f"runbench/{_segment(hostname)}/"},
                "invocations": [invocation],
                "results": placeholder("results"),
                "properties": {
                    "host": inert(hostname, 200),
                    "engineVersion": inert(report.host.engine_version, 200),
                    "score": card.score,
                    "grade": card.grade,
                    "coverage": round(card.coverage, 3),
                    "policyMet": report.policy.met,
                    "complete": not report.incomplete,
                    "benchmark": f"{BENCHMARK.name} v{BENCHMARK.version}",
                },
            }
        ],
    }
    return log, {"results": results, "notifications": notifications}


def render(report: Report) -> str:
    """The SARIF log as JSON: indented, the results and notifications one per line."""
    log, lists = _log(report)
    return dumps_spliced(log, lists, indent=1) + "\n"


class SarifRenderer:
    def render(self, report: Report, options: RenderOptions) -> str:
        return render(report)
