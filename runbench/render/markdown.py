"""Markdown (`.md`) for tickets, PR comments and CI summaries (`$GITHUB_STEP_SUMMARY`): the verdict, the
sections, what changed since the previous report, and the failing findings as GitHub-flavoured tables,
folded like the terminal report (one row per check and distinct detail), then what needs review and what
could not be evaluated.

Every host string is a code span: Markdown, HTML and autolinks are not interpreted inside one, so a label
`<img src=x onerror=…>` or `[x](javascript:…)` shows as text. The span's backtick fence is longer than any
run of backticks in the value, pipes are escaped inside tables, and the value is inert (runbench.textsafe:
no newline can end a table row). The report's own text is escaped for Markdown. At most MAX_ROWS rows per
table (GitHub caps a step summary at 1 MiB); the rest is counted, not dropped silently.
"""

from __future__ import annotations

import re

from runbench.model import BENCHMARK, Report, Status
from runbench.render import RenderOptions
from runbench.render.changes import Changes, summary
from runbench.render.view import (
    STATUS_HEADING,
    STATUS_WORD,
    Group,
    View,
    build,
    cis_of,
    evidence_text,
    score_text,
    section_title,
    subjects_phrase,
    verdict_lines,
)
from runbench.textsafe import inert

FIELD = 300  # characters of one host string
MAX_ROWS = 200
NAMES = 10  # subjects named in one row

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_TICKS = re.compile(r"`+")


def md(text: str) -> str:
    """The report's own text (titles, remediation) escaped for Markdown, on one line."""
    one_line = " ".join(text.split("\n"))
    return _MD_SPECIAL.sub(r"\\\1", inert(one_line)).replace("&", "&amp;")


def code(value: str, *, table: bool = True, limit: int | None = FIELD) -> str:
    """A host string as an inert code span (empty for an empty value)."""
    text = inert(value, limit)
    if not text:
        return ""
    longest = max((len(m) for m in _TICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    if text[0] in "` " or text[-1] in "` ":
        text = f" {text} "
    if table:
        text = text.replace("|", "\\|")
    return f"{fence}{text}{fence}"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _folds_table(groups: tuple[Group, ...], status: Status) -> list[str]:
    lines = [
        _row(["Severity", "Problem", "Subjects", "Detail", "Evidence"]),
        "|---|---|---|---|---|",
    ]
    rows = 0
    left = 0
    for g in groups:
        for fold in g.folds:
            if rows >= MAX_ROWS:
                left += len(fold.subjects)
                continue
            rows += 1
            cis = cis_of(g.check)
            problem = f"{STATUS_WORD[status]} {md(g.check.title)} (`{g.check.id}`" + (f", CIS {cis})" if cis else ")")
            names = subjects_phrase(fold.subjects, g.judged, NAMES)
            lines.append(
                _row(
                    [
                        f"**{fold.severity.value}**" if status is Status.FAIL else fold.severity.value,
                        problem,
                        code(names, limit=None),
                        code(fold.detail),
                        code(evidence_text(fold.evidence)),
                    ]
                )
            )
    if left:
        lines.append("")
        lines.append(f"… and {left} more result(s) not shown here: the JSON and HTML reports list them.")
    return lines


def _changes(changes: Changes) -> list[str]:
    out = [
        f"### Since the previous report ({md(changes.previous.started_at)})",
        "",
        md(summary(changes)),
        "",
    ]
    items = [
        *(("new failure", f.severity.value, f.check.title, f.subject.name) for f in changes.new_failures),
        *(("fixed", p.severity.value, p.title, p.subject) for p in changes.fixed),
        *(("no longer judged", p.severity.value, p.title, p.subject) for p in changes.gone),
    ]
    if items:
        out += [_row(["Change", "Severity", "Check", "Subject"]), "|---|---|---|---|"]
        out += [_row([what, sev, md(title), code(subject)]) for what, sev, title, subject in items[:MAX_ROWS]]
        if len(items) > MAX_ROWS:
            out += ["", f"… and {len(items) - MAX_ROWS} more."]
        out.append("")
    return out


def render(report: Report, changes: Changes | None = None) -> str:
    view: View = build(report)
    h = report.host
    total = report.total
    met = "met" if report.policy.met else "NOT MET"
    out = [
        f"## runbench: {code(h.hostname or 'host', table=False)} scored {score_text(total)} (grade {total.grade}), "
        f"policy {met}",
        "",
    ]
    if report.incomplete:
        out += [
            f"> **Incomplete run**: {md(verdict_lines(view)[-1][1])}.",
            "",
        ]
    engine = f"Docker {h.engine_version or '?'} (API {h.api_version or '?'}) · {h.os or '?'}"
    counts = " · ".join(f"{view.counts[s]} {s.value}" for s in Status)
    out += [
        _row(["", ""]),
        "|---|---|",
        _row(["Host", f"{code(h.hostname or '?')} · {code(engine)}"]),
        _row(
            [
                "Run",
                f"{code(report.started_at)} · {report.duration_s:.1f} s · runbench {code(report.runbench_version)} · "
                f"{BENCHMARK.name} v{BENCHMARK.version}",
            ]
        ),
    ]
    for label, text in verdict_lines(view):
        if label != "INCOMPLETE":
            out.append(_row([label, md(text)]))
    out.append(_row(["Results", counts]))
    for note in report.notes:
        out.append(_row(["Scope", code(note)]))
    out.append("")
    if changes is not None:
        out += _changes(changes)
    out += [
        "### Sections",
        "",
        _row(["Section", "Score", "Grade", *(STATUS_WORD[s].capitalize() for s in Status)]),
        "|---|--:|:-:|" + "--:|" * len(Status),
    ]
    for row in view.sections:
        out.append(
            _row(
                [
                    md(section_title(row.scope)),
                    score_text(row.card),
                    row.card.grade,
                    *(str(row.counts[s]) for s in Status),
                ]
            )
        )
    out.append("")
    for status in (Status.FAIL, Status.MANUAL):
        groups = view.groups[status]
        if not groups:
            continue
        n = sum(len(g.findings) for g in groups)
        out += [f"### {STATUS_HEADING[status]}: {n} result(s) of {len(groups)} check(s)", ""]
        out += _folds_table(groups, status)
        out.append("")
        if status is Status.FAIL:
            out += ["How to fix:", ""]
            for g in groups[:MAX_ROWS]:
                out.append(f"- `{g.check.id}`: {md(g.check.remediation)}")
            out.append("")
    errors = view.reasons(Status.ERROR)
    if errors or report.errors or report.incomplete:
        out += ["### Could not be evaluated", ""]
        for r in errors[:MAX_ROWS]:
            ids = ", ".join(f"`{c.id}`" for c in r.checks[:NAMES])
            if len(r.checks) > NAMES:
                ids += f", … (+{len(r.checks) - NAMES})"
            out.append(f"- {code(r.detail, table=False)}: {len(r.findings)} result(s) of {ids}")
        for gap in report.incomplete[:MAX_ROWS]:
            out.append(f"- not collected: {code(gap, table=False)}")
        for e in report.errors[:MAX_ROWS]:
            out.append(f"- collection: {code(f'{e.area} {e.subject} {e.what}: {e.why}', table=False)}")
        out.append("")
    hidden = view.counts[Status.PASS] + view.counts[Status.SKIP]
    if hidden:
        out += [
            f"{view.counts[Status.PASS]} passing and {view.counts[Status.SKIP]} skipped results are not listed.",
            "",
        ]
    return "\n".join(out)


class MarkdownRenderer:
    def render(self, report: Report, options: RenderOptions) -> str:
        return render(report, options.changes)
