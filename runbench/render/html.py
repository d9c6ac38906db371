"""The HTML report (`.html`): one self-contained file, for any browser, offline, from file://.

reports/report.html.j2 (Jinja2, autoescape on) with reports/report.css and reports/report.js inlined; charts
are inline SVG; there is no external reference of any kind, and a Content-Security-Policy allows no network
at all and only this report's own script (by its hash), so even a string that escaped escaping could neither
load nor run anything. Without JavaScript everything is readable (filters, search, copy buttons and paging
of the heat map need it).

Everything from the host (names, labels, details, evidence, reasons) is untrusted. It is made inert first
(runbench.textsafe: control, bidi and invisible characters shown as escapes, cut at FIELD characters), then
HTML-escaped by autoescape; JSON read by the script is embedded in `<script type="application/json">` with
`<`, `>`, `&` and every non-ASCII character (U+2028/9 included) as \\u escapes, and the script only ever
sets text (textContent, title), never HTML. Links are made only from the catalog's http(s) references.

The page is built from runbench.render.view (groups and folds computed once): one row per check and distinct
detail, not per finding, and the heat map's pages beyond the first are drawn by the script from compact
JSON. A 1,000-container report stays a few MB.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from runbench.model import BENCHMARK, Finding, Report, Scope, Severity, Status
from runbench.render import RenderOptions
from runbench.render.changes import Changes, summary
from runbench.render.json import dumps
from runbench.render.view import (
    STATUS_HEADING,
    STATUS_ORDER,
    STATUS_WORD,
    Fold,
    Group,
    View,
    build,
    cis_of,
    noun,
    score_text,
    section_title,
    subjects_phrase,
    verdict_lines,
)
from runbench.resources import resource_dir
from runbench.textsafe import inert

FIELD = 2000  # characters of one host string
NAMES_INLINE = 12  # subject names shown in a row before the rest fold away
HEAT_PAGE = 50  # heat map rows per page
STATUS_CODE = {Status.PASS: "p", Status.FAIL: "f", Status.MANUAL: "m", Status.SKIP: "s", Status.ERROR: "e"}


def h(value: str, limit: int | None = FIELD) -> str:
    """A host string as the page shows it (autoescape does the HTML part)."""
    return inert(value, limit)


def json_for_script(data: Any) -> str:
    """JSON safe inside `<script type="application/json">`: ASCII only (U+2028/9 escaped), no `<`, `>`, `&`."""
    return dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@dataclass(frozen=True, slots=True)
class _Assets:
    template: Any  # jinja2.Template
    css: str
    js: str
    js_hash: str


@cache
def _assets() -> _Assets:
    import jinja2

    root = resource_dir("reports")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    css = (root / "report.css").read_text(encoding="utf-8")
    js = (root / "report.js").read_text(encoding="utf-8")
    if "</style" in css.lower() or "</script" in js.lower() or "<!--" in js:
        raise ValueError("a report asset cannot hold </style, </script or <!--")
    digest = base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")
    return _Assets(env.get_template("report.html.j2"), css, js, f"sha256-{digest}")


# ---- context -----------------------------------------------------------------------------------------------


def _references(refs: Sequence[str]) -> list[dict[str, str]]:
    out = []
    for ref in refs:
        safe = ref.startswith(("https://", "http://")) and not any(c.isspace() or c in "\"'<>`" for c in ref)
        out.append({"text": h(ref, 500), "href": ref if safe else ""})
    return out


def _fold(fold: Fold, g: Group) -> dict[str, Any]:
    names = [h(s.name or s.key, 300) for s in fold.subjects]
    return {
        "phrase": h(subjects_phrase(fold.subjects, g.judged, NAMES_INLINE), None),
        "names": names if len(names) > NAMES_INLINE else [],
        "filter": "\n".join(n.lower() for n in names),
        "detail": h(fold.detail),
        "evidence": [(h(k, 200), h(v)) for k, v in fold.evidence],
        "severity": fold.severity.value,
        "other_severity": fold.severity is not g.check.severity and g.status is Status.FAIL,
    }


def _group(g: Group) -> dict[str, Any]:
    m = g.check
    n = len(g.findings)
    first = g.folds[0].subjects
    where = (first[0].name or first[0].key) if n == 1 else f"{n} {noun(g.kind, n)}"
    return {
        "id": m.id,
        "anchor": f"{g.status.value}-{m.id}",
        "title": m.title,
        "status": g.status.value,
        "word": STATUS_WORD[g.status],
        "severity": g.severity.value,
        "rank": g.severity.rank,
        "section": m.scope.value,
        "section_title": section_title(m.scope),
        "count": n,
        "where": h(where, 300),
        "cis": [(v, num) for v, num in m.cis.items()],
        "cis_now": cis_of(m),
        "level": m.level,
        "rationale": m.rationale,
        "remediation": m.remediation,
        "references": _references(m.references),
        "folds": [_fold(f, g) for f in g.folds],
    }


def _gauge(score: float | None) -> dict[str, Any]:
    radius = 52.0
    circumference = 2 * math.pi * radius
    value = 0.0 if score is None else max(0.0, min(100.0, score))
    return {
        "r": radius,
        "c": f"{circumference:.2f}",
        "dash": f"{circumference * value / 100:.2f}",
        "band": "none" if score is None else ("good" if value >= 90 else "ok" if value >= 70 else "bad"),
    }


def _tables(view: View) -> list[dict[str, Any]]:
    out = []
    for t in view.tables:
        rows = [
            {
                "name": h(r.name, 300),
                "attrs": [h(r.subject.attr(c), 300) if r.subject else "" for c in t.columns],
                "score": score_text(r.card),
                "grade": r.card.grade,
                "failed": r.failed,
                "worst": r.worst.value if r.worst else "",
                "perfect": r.perfect,
            }
            for r in t.rows
        ]
        out.append(
            {
                "kind": t.kind.value,
                "title": noun(t.kind, 2).capitalize(),
                "noun": noun(t.kind, 1),
                "columns": [c.capitalize() for c in t.columns],
                "rows": [r for r in rows if not r["perfect"]],
                "perfect": [r for r in rows if r["perfect"]],
            }
        )
    return out


def _heatmaps(view: View, by_subject: Mapping[tuple[Scope, str], list[Finding]]) -> list[dict[str, Any]]:
    out = []
    checks_of: dict[Scope, list[str]] = {}
    metas = {m.id: m for m in view.report.checks}
    seen_checks: set[str] = set()
    for f in view.report.findings:
        if f.check.id not in seen_checks:
            seen_checks.add(f.check.id)
            metas.setdefault(f.check.id, f.check)
    for m in metas.values():
        if m.id in seen_checks:
            checks_of.setdefault(m.scope, []).append(m.id)
    for t in view.tables:
        cols = checks_of.get(t.kind, [])
        if not cols or not t.rows:
            continue
        index = {cid: i for i, cid in enumerate(cols)}
        details: dict[str, int] = {}
        rows: list[tuple[str, str, list[int], str]] = []
        for r in t.rows:
            codes = ["-"] * len(cols)
            refs = [-1] * len(cols)
            for f in by_subject.get((t.kind, r.name), ()):
                i = index.get(f.check.id)
                if i is None:
                    continue
                codes[i] = STATUS_CODE[f.status]
                if f.detail:
                    refs[i] = details.setdefault(h(f.detail, 300), len(details))
            rows.append((h(r.name, 300), "".join(codes), refs, score_text(r.card)))
        columns = [{"id": cid, "short": cid.split(".", 1)[-1], "title": metas[cid].title} for cid in cols]
        data = {"cols": columns, "rows": [list(r) for r in rows], "details": list(details), "page": HEAT_PAGE}
        detail_list = list(details)
        first = [
            {
                "name": name,
                "score": score,
                "cells": [
                    {
                        "code": code,
                        "title": f"{name} · {columns[i]['title']}: {_CODE_WORD[code]}"
                        + (f" — {detail_list[ref]}" if ref >= 0 else ""),
                    }
                    for i, (code, ref) in enumerate(zip(codes, refs, strict=True))
                ],
            }
            for name, codes, refs, score in rows[:HEAT_PAGE]
        ]
        out.append(
            {
                "kind": t.kind.value,
                "title": f"{noun(t.kind, 1).capitalize()} × check",
                "noun": noun(t.kind, 2),
                "columns": columns,
                "rows": first,
                "total": len(rows),
                "json": _markup(json_for_script(data)),  # no <, > or &: inert inside <script>
            }
        )
    return out


_CODE_WORD = {"p": "PASS", "f": "FAIL", "m": "REVIEW", "s": "SKIP", "e": "ERROR", "-": "not judged"}


def _changes(changes: Changes | None) -> dict[str, Any] | None:
    if changes is None:
        return None
    delta = changes.score_delta
    return {
        "since": h(changes.previous.started_at, 100),
        "summary": summary(changes, with_score=False),
        "previous_score": "-" if changes.previous.score is None else f"{changes.previous.score:.1f}",
        "previous_grade": h(changes.previous.grade, 10),
        "delta": "" if delta is None else f"{delta:+.1f}",
        "delta_class": "" if not delta else ("up" if delta > 0 else "down"),
        "new": [
            {
                "severity": f.severity.value,
                "check": f.check.id,
                "title": f.check.title,
                "subject": h(f.subject.name, 300),
                "detail": h(f.detail, 500),
            }
            for f in changes.new_failures
        ],
        "fixed": [
            {
                "severity": p.severity.value,
                "check": h(p.check, 200),
                "title": h(p.title, 500),
                "subject": h(p.subject, 300),
            }
            for p in changes.fixed
        ],
        "gone": [
            {
                "severity": p.severity.value,
                "check": h(p.check, 200),
                "title": h(p.title, 500),
                "subject": h(p.subject, 300),
            }
            for p in changes.gone
        ],
    }


def context(report: Report, changes: Changes | None = None) -> dict[str, Any]:
    view = build(report)
    by_subject: dict[tuple[Scope, str], list[Finding]] = {}
    for f in report.findings:
        by_subject.setdefault((f.subject.kind, f.subject.name), []).append(f)
    host = report.host
    total = report.total
    groups = {s.value: [_group(g) for g in view.groups[s]] for s in STATUS_ORDER}
    subjects = sorted({h(name, 300) for (_, name) in view.subjects})
    collection = [
        {"area": h(e.area, 100), "subject": h(e.subject, 300), "what": h(e.what, 200), "why": h(e.why)}
        for e in report.errors
    ]
    return {
        "title": f"runbench report: {h(host.hostname or 'host', 200)}",
        "host": {
            "hostname": h(host.hostname or "?", 300),
            "engine": h(f"Docker {host.engine_version or '?'} (API {host.api_version or '?'})", 300),
            "os": h(host.os or "?", 300),
            "kernel": h(host.kernel or "?", 300),
        },
        "runbench_version": h(report.runbench_version, 100),
        "collected_by": h(report.collected_by, 100),
        "benchmark": f"{BENCHMARK.name} v{BENCHMARK.version}",
        "started_at": h(report.started_at, 100),
        "duration": f"{report.duration_s:.1f} s",
        "notes": [h(n) for n in report.notes],
        "score": score_text(total),
        "grade": total.grade,
        "cap_reason": view.cap_reason,
        "coverage": f"{total.evaluated}/{total.selected} checks ({total.coverage:.0%})",
        "gauge": _gauge(total.score),
        "verdict": [(label, h(text, None)) for label, text in verdict_lines(view)],
        "policy_met": report.policy.met,
        "policy_reasons": [h(r) for r in report.policy.reasons],
        "incomplete": [h(gap) for gap in report.incomplete],
        "collection": collection,
        "counts": {s.value: view.counts[s] for s in Status},
        "failed_by_severity": [(s.value, view.failed_by_severity[s]) for s in Severity if s is not Severity.INFO],
        "sections": [
            {
                "scope": row.scope.value,
                "title": section_title(row.scope),
                "score": score_text(row.card),
                "value": 0.0 if row.card.score is None else row.card.score,
                "grade": row.card.grade,
                "counts": {s.value: row.counts[s] for s in Status},
            }
            for row in view.sections
        ],
        "tables": _tables(view),
        "heatmaps": _heatmaps(view, by_subject),
        "groups": groups,
        "headings": {s.value: STATUS_HEADING[s] for s in Status},
        "statuses": [(s.value, STATUS_WORD[s]) for s in STATUS_ORDER],
        "severities": [s.value for s in Severity],
        "section_options": [(row.scope.value, section_title(row.scope)) for row in view.sections],
        "subjects": subjects,
        "changes": _changes(changes),
    }


def render(report: Report, changes: Changes | None = None) -> str:
    assets = _assets()
    ctx = context(report, changes)
    return str(assets.template.render(css=_markup(assets.css), js=_markup(assets.js), csp_script=assets.js_hash, **ctx))


def _markup(text: str) -> Any:
    from markupsafe import Markup

    return Markup(text)  # our own assets (checked in _assets) and JSON without <, > or & (json_for_script)


class HtmlRenderer:
    def render(self, report: Report, options: RenderOptions) -> str:
        return render(report, options.changes)
