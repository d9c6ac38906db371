"""The terminal report (rich) and its plain-text twin. Every string of the report goes through `inert`
(runbench.textsafe) and into a Text, never markup: host data cannot drive the terminal, however the snapshot
was made. The text format (`.txt`) is ASCII only: host characters beyond ASCII are shown as `\\u00e9`-style
escapes, the report's own symbols and boxes are ASCII, and no line ends in spaces.

It scales with the number of checks, not of subjects (see runbench.render.view): failures grouped by check,
headed by the problem (`HIGH  FAIL  <title>`), subjects with the same detail folded into one line, the
evidence once per distinct value, a shared reason (no AppArmor on this host) said once. Without `-v` every
item is one line (cut at the width), the subject tables show the worst rows, and when the findings would
would make the report longer than TARGET_LINES the lower-severity checks shrink to their heading: the first screen
says what matters, `-v` says everything. The verdict is repeated as the last lines.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

from rich import box
from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from runbench.model import BENCHMARK, Report, Scope, Severity, Status
from runbench.render import RenderOptions
from runbench.render.changes import Changes, summary
from runbench.render.view import (
    STATUS_HEADING,
    STATUS_WORD,
    Fold,
    Group,
    Reason,
    SubjectTable,
    View,
    build,
    cis_of,
    evidence_text,
    noun,
    score_text,
    section_title,
    subjects_phrase,
    verdict_lines,
)
from runbench.textsafe import inert

MAX_FIELD = 240
TARGET_LINES = 118  # lines of the default report: the findings shrink (lowest severity first) to fit
MIN_FINDINGS = 24  # lines the findings always get
FOLDS_SHOWN = 3  # distinct details per check in the default report
LIST_SHOWN = 5  # collection errors, gaps, changes listed in the default report

STATUS_STYLE = {
    Status.PASS: "green",
    Status.FAIL: "bold red",
    Status.MANUAL: "yellow",
    Status.SKIP: "dim",
    Status.ERROR: "magenta",
}
SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
GRADE_STYLE = {"A": "bold green", "B": "green", "C": "yellow", "D": "red", "F": "bold red", "-": "dim"}


def clean(value: str, limit: int = MAX_FIELD) -> str:
    """`inert` with the terminal report's default cut (MAX_FIELD characters)."""
    return inert(value, limit)


def T(value: str, style: str = "", limit: int = MAX_FIELD) -> Text:
    return Text(inert(value, limit), style=style)


def make_console(
    file: IO[str] | None = None, *, no_color: bool = False, width: int | None = None, force_terminal: bool | None = None
) -> Console:
    return Console(
        file=file,
        force_terminal=force_terminal,
        color_system=None if no_color else ("standard" if force_terminal else "auto"),
        no_color=no_color,
        highlight=False,
        emoji=False,
        markup=False,
        width=width,
        soft_wrap=False,
    )


_GAP = 3  # columns between two table columns: padding, the box's vertical (a space), padding

_ASCII = str.maketrans({"…": "...", "·": "-", "—": "-", "×": "x", "≥": ">="})


@dataclass(frozen=True, slots=True)
class _Style:
    """How this report writes: verbose or not, ASCII only or not."""

    verbose: bool
    ascii_only: bool
    width: int

    def s(self, value: str, limit: int | None = MAX_FIELD) -> str:
        """A string as shown: inert, cut at `limit`, and ASCII for the text format."""
        shown = inert(value, limit)
        if self.ascii_only and not shown.isascii():
            return shown.translate(_ASCII).encode("ascii", "backslashreplace").decode("ascii")
        return shown

    def own(self, value: str) -> str:
        """The report's own words (no host data): only made ASCII for the text format."""
        return value.translate(_ASCII) if self.ascii_only else value

    def line(self, *parts: tuple[str, str] | Text, indent: int = 0) -> Text:
        """One item: one line cut at the width by default, folded over lines with -v."""
        text = Text(" " * indent, no_wrap=not self.verbose, overflow="fold" if self.verbose else "ellipsis")
        for part in parts:
            if isinstance(part, Text):
                text.append_text(part)
            else:
                text.append(part[0], part[1])
        return text

    @property
    def panel_box(self) -> box.Box:
        return box.ASCII if self.ascii_only else box.ROUNDED

    @property
    def table_box(self) -> box.Box:
        return box.ASCII2 if self.ascii_only else box.SIMPLE_HEAD


def _grade(style: _Style, grade: str) -> Text:
    return Text(style.own(grade), GRADE_STYLE.get(grade, ""))


def _summary(view: View, st: _Style, changes: Changes | None) -> Panel:
    report = view.report
    h = report.host
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    engine = f"Docker {h.engine_version or '?'} (API {h.api_version or '?'})"
    grid.add_row(
        "Host", Text.assemble(st.s(h.hostname or "?"), st.own(" · "), st.s(engine), st.own(" · "), st.s(h.os or "?"))
    )
    when = report.started_at.replace("T", " ").replace("+00:00", " UTC")
    grid.add_row("Run", Text(st.s(f"{when} · {report.duration_s:.1f} s", 80)))
    total = report.total
    score = Text.assemble((score_text(total), "bold"), "  grade ", _grade(st, total.grade))
    if view.cap_reason:
        score.append(st.own(f" ({view.cap_reason})"), "dim")
    score.append(f"   coverage {total.evaluated}/{total.selected} checks ({total.coverage:.0%})")
    grid.add_row("Score", score)
    counts = Text()
    for i, s in enumerate(Status):
        if i:
            counts.append(st.own(" · "))
        n = view.counts[s]
        counts.append(f"{n} {s.value}", STATUS_STYLE[s] if n else "")
    grid.add_row("Results", counts)
    sev = Text()
    for i, level in enumerate(v for v in Severity if v is not Severity.INFO):
        if i:
            sev.append(st.own(" · "))
        n = view.failed_by_severity[level]
        sev.append(f"{n} {level.value}", SEVERITY_STYLE[level] if n else "")
    grid.add_row("Failures", sev)
    for i, note in enumerate(report.notes):
        grid.add_row("Scope" if i == 0 else "", Text(st.s(note)))
    if changes is not None:
        grid.add_row("Since", Text(st.s(f"{_when(changes.previous.started_at)}: ") + st.own(summary(changes))))
    if report.incomplete:
        grid.add_row(
            "INCOMPLETE",
            Text(
                f"{len(report.incomplete)} part(s) of the scan could not be collected: the score and the policy "
                "cover only what was (see Incomplete)",
                "bold magenta",
            ),
        )
    if report.errors:
        grid.add_row("Collection", Text(f"{len(report.errors)} problem(s) reading facts (see Errors)", "magenta"))
    policy = (
        Text("met", "bold green")
        if report.policy.met
        else Text("NOT MET: " + "; ".join(st.s(r) for r in report.policy.reasons), "bold red")
    )
    grid.add_row("Policy", policy)
    title = f"runbench {st.s(report.runbench_version, 40)} · {BENCHMARK.name} v{BENCHMARK.version}"
    if report.collected_by:
        title += f" · facts collected by runbench {st.s(report.collected_by, 40)}"
    return Panel(grid, title=Text(st.own(title), "bold"), title_align="left", box=st.panel_box)


def _when(started_at: str) -> str:
    return started_at.replace("T", " ").replace("+00:00", " UTC")


def _sections(view: View, st: _Style) -> list[RenderableType]:
    table = Table(box=st.table_box, show_edge=False, pad_edge=False, padding=(0, 1))
    numbers = [max(len(STATUS_WORD[s]), len(str(view.counts[s]))) for s in Status]
    room = st.width - (5 + 5 + sum(numbers) + _GAP * (2 + len(numbers)))
    table.add_column("Section", no_wrap=True, overflow="ellipsis", max_width=max(12, room))
    table.add_column("Score", justify="right", no_wrap=True)
    table.add_column("Grade", justify="center", no_wrap=True)
    for s in Status:
        table.add_column(STATUS_WORD[s].capitalize(), justify="right", style=STATUS_STYLE[s], no_wrap=True)
    for row in view.sections:
        counts = [str(row.counts[s] or "") for s in Status]
        table.add_row(section_title(row.scope), score_text(row.card), _grade(st, row.card.grade), *counts)
    return [Text("Sections", "bold"), table]


def _subject_table(table: SubjectTable, st: _Style, worst: int) -> list[RenderableType]:
    rows = table.rows if st.verbose else tuple(r for r in table.rows if not r.perfect)[:worst]
    plural = noun(table.kind, 2)
    total = len(table.rows)
    if st.verbose or len(rows) == total:
        head = f"{plural.capitalize()} ({total}, worst first)"
    else:
        head = f"{plural.capitalize()}: the worst {len(rows)} of {total}"
    out: list[RenderableType] = [Text(head, "bold")]
    if rows:
        t = Table(box=st.table_box, show_edge=False, pad_edge=False, padding=(0, 1))
        name_w = min(40, max(9, *(len(st.s(r.name, 120)) for r in rows)))
        attr_w = {
            c: 40
            if c == "image"
            else min(10, max(len(c), *(len(st.s(r.subject.attr(c), 120)) for r in rows if r.subject)))
            for c in table.columns
        }
        fixed = name_w + sum(w for c, w in attr_w.items() if c != "image") + 5 + 5 + 4 + 8
        fixed += _GAP * (len(table.columns) + 4)
        if "image" in attr_w:
            attr_w["image"] = max(6, min(40, st.width - fixed))
        t.add_column(noun(table.kind, 1).capitalize(), no_wrap=True, overflow="ellipsis", max_width=name_w)
        for col in table.columns:
            t.add_column(col.capitalize(), no_wrap=True, overflow="ellipsis", max_width=attr_w[col])
        t.add_column("Score", justify="right", no_wrap=True, min_width=5)
        t.add_column("Grade", justify="center", no_wrap=True, min_width=5)
        t.add_column("Fail", justify="right", style="bold red", no_wrap=True, min_width=4)
        t.add_column("Worst", no_wrap=True, min_width=8)
        for r in rows:
            attrs = [st.s(r.subject.attr(c), 120) if r.subject else "" for c in table.columns]
            t.add_row(
                Text(st.s(r.name, 120), "bold"),
                *attrs,
                score_text(r.card),
                _grade(st, r.card.grade),
                str(r.failed or ""),
                Text(r.worst.value, SEVERITY_STYLE[r.worst]) if r.worst else Text(""),
            )
        out.append(t)
    rest = total - len(rows)
    if rest:
        perfect = sum(1 for r in table.rows if r.perfect)
        why = f"{perfect} at 100" if perfect else ""
        more = f"{rest} more {noun(table.kind, rest)}" + (f" ({why})" if why else "") + ": -v lists them"
        out.append(Text(st.own(f"… {more}"), "dim"))
    return out


# ---- findings ---------------------------------------------------------------------------------------------


def _badge(st: _Style, status: Status, severity: Severity) -> list[tuple[str, str]]:
    if status is Status.FAIL:
        return [(severity.value.upper(), SEVERITY_STYLE[severity]), (" ", ""), ("FAIL", "bold red")]
    return [(STATUS_WORD[status], STATUS_STYLE[status])]


def _heading(g: Group, st: _Style, *, short: bool) -> Text:
    parts: list[tuple[str, str] | Text] = [*_badge(st, g.status, g.severity), ("  ", "")]
    parts.append((st.s(g.check.title), "bold"))
    if short:
        first = g.folds[0].subjects
        n = len(g.findings)
        where = (first[0].name or first[0].key) if n == 1 else f"{n} {noun(g.kind, n)}"
        parts.append((st.s(f" — {where}"), ""))
    cis = cis_of(g.check)
    parts.append((st.own(f"  {g.check.id}" + (f" · CIS {cis}" if cis else "")), "dim"))
    return st.line(*parts)


def _fold_lines(fold: Fold, g: Group, st: _Style) -> list[Text]:
    names = subjects_phrase(fold.subjects, g.judged, None if st.verbose else 3)
    parts: list[tuple[str, str] | Text] = [(st.s(names, None if st.verbose else MAX_FIELD), "bold")]
    if fold.detail:
        parts += [(": ", ""), (st.s(fold.detail), "")]
    if fold.severity is not g.check.severity and g.status is Status.FAIL:
        parts.append((f" [{fold.severity.value}]", SEVERITY_STYLE[fold.severity]))
    if not st.verbose:
        if fold.evidence:
            parts.append((st.own("  ·  ") + st.s(evidence_text(fold.evidence)), "dim"))
        return [st.line(*parts, indent=4)]
    lines = [st.line(*parts, indent=4)]
    for key, value in fold.evidence:
        lines.append(st.line((st.s(key, 60), "dim"), (": ", "dim"), (st.s(value), ""), indent=8))
    return lines


def _fix_lines(g: Group, st: _Style) -> list[Text]:
    remediation = g.check.remediation.strip()
    if not remediation:
        return []
    lines = remediation.split("\n")
    if not st.verbose:
        more = " …" if len(lines) > 1 else ""
        return [st.line(("fix: ", "bold green"), (st.s(lines[0]) + st.own(more), ""), indent=4)]
    out = [st.line(("fix: ", "bold green"), (st.s(lines[0]), ""), indent=4)]
    out += [st.line((st.s(line), ""), indent=9) for line in lines[1:]]
    return out


@dataclass(slots=True)
class _Block:
    group: Group
    level: int  # 3: heading, folds, fix · 2: heading and the largest fold · 1: heading only

    def lines(self, st: _Style) -> list[Text]:
        g = self.group
        if self.level == 1:
            return [_heading(g, st, short=True)]
        out = [_heading(g, st, short=False)]
        shown = g.folds if st.verbose else g.folds[: FOLDS_SHOWN if self.level == 3 else 1]
        for fold in shown:
            out += _fold_lines(fold, g, st)
        rest = sum(len(f.subjects) for f in g.folds[len(shown) :])
        if rest:
            out.append(
                st.line((st.own(f"… and {rest} more {noun(g.kind, rest)} with other details (-v)"), "dim"), indent=4)
            )
        if g.status is Status.FAIL and (st.verbose or self.level == 3):
            out += _fix_lines(g, st)
        return out

    def size(self) -> int:
        if self.level == 1:
            return 1
        shown = min(len(self.group.folds), FOLDS_SHOWN if self.level == 3 else 1)
        more = 1 if len(self.group.folds) > shown else 0
        fix = 1 if self.group.status is Status.FAIL and self.level == 3 and self.group.check.remediation.strip() else 0
        return 1 + shown + more + fix


_LOWER = frozenset({Severity.INFO, Severity.LOW})
# How the findings shrink to fit, least important first: a step shrinks checks of one status and severity to
# their largest fold (2), to their heading (1), or folds them all into one line ("collapse"). Critical
# failures keep their details longest and are never folded into one line.
_STEPS: tuple[tuple[Status, frozenset[Severity], int | str], ...] = (
    (Status.MANUAL, frozenset(Severity), 1),
    (Status.FAIL, _LOWER, 2),
    (Status.FAIL, _LOWER, 1),
    (Status.FAIL, frozenset({Severity.MEDIUM}), 2),
    (Status.FAIL, frozenset({Severity.MEDIUM}), 1),
    (Status.MANUAL, frozenset(Severity), "collapse"),
    (Status.FAIL, _LOWER, "collapse"),
    (Status.FAIL, frozenset({Severity.HIGH}), 2),
    (Status.FAIL, frozenset({Severity.HIGH}), 1),
    (Status.FAIL, frozenset({Severity.MEDIUM}), "collapse"),
    (Status.FAIL, frozenset({Severity.CRITICAL}), 2),
    (Status.FAIL, frozenset({Severity.CRITICAL}), 1),
    (Status.FAIL, frozenset({Severity.HIGH}), "collapse"),
)


@dataclass(slots=True)
class _Bucket:
    """Checks of one status and severity said in one line: `LOW FAIL  22 checks (85 results): id, id, …`."""

    status: Status
    groups: list[Group]

    def lines(self, st: _Style) -> list[Text]:
        g = self.groups[0]
        n = sum(len(x.findings) for x in self.groups)
        parts: list[tuple[str, str] | Text] = []
        if len({x.severity for x in self.groups}) == 1:
            parts += _badge(st, g.status, g.severity)
        else:
            parts.append((STATUS_WORD[g.status], STATUS_STYLE[g.status]))
        ids = ", ".join(x.check.id for x in self.groups)
        parts += [("  ", ""), (f"{len(self.groups)} checks ({n} results): ", "bold"), (ids, "dim")]
        return [st.line(*parts)]

    def size(self) -> int:
        return 1


def _plan(view: View, budget: int) -> list[_Block | _Bucket]:
    """Blocks for failures then reviews, shrunk step by step (_STEPS) until they fit in `budget` lines."""
    items: list[_Block | _Bucket] = [_Block(g, 3) for g in view.groups[Status.FAIL]]
    items += [_Block(g, 2) for g in view.groups[Status.MANUAL]]
    total = sum(i.size() for i in items)
    for status, severities, action in _STEPS:
        if total <= budget:
            break
        inside = [
            i
            for i, item in enumerate(items)
            if isinstance(item, _Block) and item.group.status is status and item.group.severity in severities
        ]
        if action == "collapse":
            if len(inside) < 2:
                continue
            groups = [item.group for i, item in enumerate(items) if i in inside and isinstance(item, _Block)]
            total -= sum(items[i].size() for i in inside) - 1
            keep = set(inside[1:])
            bucket = _Bucket(status, groups)
            items = [bucket if i == inside[0] else item for i, item in enumerate(items) if i not in keep]
            continue
        for i in reversed(inside):
            if total <= budget:
                break
            block = items[i]
            assert isinstance(block, _Block)
            if block.level > int(action):
                before = block.size()
                block.level = int(action)
                total += block.size() - before
    return items


def _status_of(item: _Block | _Bucket) -> Status:
    return item.group.status if isinstance(item, _Block) else item.status


def _findings(view: View, st: _Style, budget: int) -> list[RenderableType]:
    out: list[RenderableType] = []
    statuses = sum(1 for s in (Status.FAIL, Status.MANUAL) if view.groups[s])
    items = _plan(view, budget - 2 * statuses - 1) if not st.verbose else None
    for status in (Status.FAIL, Status.MANUAL):
        groups = view.groups[status]
        if not groups:
            continue
        n = sum(len(g.findings) for g in groups)
        out.append(
            Text(
                f"{STATUS_HEADING[status]}: {n} result(s) of {len(groups)} check(s)",
                style=f"bold {STATUS_STYLE[status]}",
            )
        )
        if items is None:
            for g in groups:
                out += _Block(g, 3).lines(st)
                out.append(Text(""))
        else:
            for item in items:
                if _status_of(item) is status:
                    out += item.lines(st)
            out.append(Text(""))
    if items is not None and any(
        not isinstance(i, _Block) or i.level < (3 if i.group.status is Status.FAIL else 2) for i in items
    ):
        out.insert(
            len(out) - 1 if out else 0,
            Text(st.own("(shortened to fit: -v shows every subject, the evidence, the fix)"), "dim"),
        )
    return out


def _reasons(reasons: Sequence[Reason], st: _Style, title: str, style: str) -> list[RenderableType]:
    if not reasons:
        return []
    n = sum(len(r.findings) for r in reasons)
    out: list[RenderableType] = [Text(f"{title}: {n} result(s)", style)]
    shown = reasons if st.verbose else reasons[:LIST_SHOWN]
    for r in shown:
        out.append(st.line((st.s(r.detail or "(no reason given)"), ""), indent=2))
        ids = [c.id for c in r.checks]
        kind = r.subjects[0].kind if r.subjects else Scope.HOST
        if len(r.checks) == 1:
            names = subjects_phrase(r.subjects, r.subjects, None if st.verbose else 3)
            where = f"{ids[0]} on {names}"
        else:
            listed = ids if st.verbose or len(ids) <= 3 else [*ids[:3], f"… (+{len(ids) - 3})"]
            subjects = len(r.subjects)
            kinds = {x.kind for x in r.subjects}
            plural = noun(kind, subjects) if len(kinds) == 1 else "subjects"
            on = (r.subjects[0].name or r.subjects[0].key) if subjects == 1 else f"{subjects} {plural}"
            where = f"{len(r.checks)} checks on {on}: {', '.join(listed)}"
        out.append(st.line((st.s(where, None), "dim"), indent=6))
    if len(shown) < len(reasons):
        out.append(st.line((st.own(f"… {len(reasons) - len(shown)} more reason(s): -v lists them"), "dim"), indent=2))
    out.append(Text(""))
    return out


def _errors(view: View, st: _Style) -> list[RenderableType]:
    report = view.report
    out: list[RenderableType] = []
    if report.incomplete:
        out.append(Text(f"Incomplete: not collected ({len(report.incomplete)})", "bold magenta"))
        shown = report.incomplete if st.verbose else report.incomplete[:LIST_SHOWN]
        out.extend(st.line((st.s(gap), ""), indent=2) for gap in shown)
        if len(shown) < len(report.incomplete):
            out.append(st.line((f"… {len(report.incomplete) - len(shown)} more: -v lists them", "dim"), indent=2))
        out.append(Text(""))
    if report.errors:
        out.append(Text(f"Errors while collecting ({len(report.errors)})", "bold magenta"))
        folded: dict[tuple[str, str, str], list[str]] = {}
        for e in report.errors:
            subject = (
                e.subject.removeprefix("sha256:")[:12]
                if len(e.subject) == 64 or e.subject.startswith("sha256:")
                else e.subject
            )
            folded.setdefault((e.area, e.what, e.why), []).append(subject)
        items = list(folded.items())
        shown_items = items if st.verbose else items[:LIST_SHOWN]
        for (area, what, why), subjects in shown_items:
            names = ", ".join(
                subjects if st.verbose or len(subjects) <= 3 else [*subjects[:3], f"… (+{len(subjects) - 3})"]
            )
            out.append(
                st.line(
                    (st.s(f"{area} {names}".strip()), "bold"),
                    (st.own(" ") + st.s(what, 80) + ": ", ""),
                    (st.s(why), ""),
                    indent=2,
                )
            )
        if len(shown_items) < len(items):
            out.append(st.line((f"… {len(items) - len(shown_items)} more: -v lists them", "dim"), indent=2))
        out.append(Text(""))
    out += _reasons(view.reasons(Status.ERROR), st, "Checks that could not be evaluated", "bold magenta")
    return out


def _changes(changes: Changes, st: _Style) -> list[RenderableType]:
    out: list[RenderableType] = [
        Text(st.own(f"Since the previous report ({_when(changes.previous.started_at)}): {summary(changes)}"), "bold")
    ]
    items = [
        ("new", SEVERITY_STYLE[f.severity], f"{f.severity.value} {f.check.title}: {f.subject.name}")
        for f in changes.new_failures
    ]
    items += [("fixed", "green", f"{p.severity.value} {p.title}: {p.subject}") for p in changes.fixed]
    items += [("gone", "dim", f"{p.severity.value} {p.title}: {p.subject}") for p in changes.gone]
    shown = items if st.verbose else items[:LIST_SHOWN]
    for label, style, text in shown:
        out.append(st.line((f"{label:>6}", style), ("  ", ""), (st.s(text), ""), indent=2))
    if len(shown) < len(items):
        out.append(st.line((f"… {len(items) - len(shown)} more: -v lists them", "dim"), indent=2))
    out.append(Text(""))
    return out


def _passes(view: View, st: _Style) -> list[RenderableType]:
    out: list[RenderableType] = []
    groups = view.groups[Status.PASS]
    if groups:
        out.append(Text(f"Passed: {view.counts[Status.PASS]} result(s)", "bold green"))
        for g in groups:
            out += _Block(g, 3).lines(st)
        out.append(Text(""))
    out += _reasons(view.reasons(Status.SKIP), st, "Skipped", "bold")
    return out


def _verdict(view: View, st: _Style) -> list[RenderableType]:
    out: list[RenderableType] = [Rule(style="dim", characters="-" if st.ascii_only else "─")]
    for label, text in verdict_lines(view):
        style = ""
        if label == "Policy":
            style = "bold green" if view.report.policy.met else "bold red"
        elif label == "INCOMPLETE":
            style = "bold magenta"
        out.append(Text.assemble((f"{label:<10} ", "bold"), (st.s(text, None), style)))
    return out


def render(
    report: Report,
    console: Console,
    *,
    verbose: bool = False,
    quiet: bool = False,
    changes: Changes | None = None,
    worst: int = 15,
    ascii_only: bool = False,
    target: int = TARGET_LINES,
) -> None:
    """Print the report on `console`. Without `verbose`, the findings get what `target` lines leave after
    the summary, the tables and the verdict (at least MIN_FINDINGS lines)."""
    st = _Style(verbose=verbose, ascii_only=ascii_only, width=console.width)
    view = build(report)
    if quiet:
        for block in _errors(view, st):
            _print(console, block)
        return
    head: list[RenderableType] = [_summary(view, st, changes)]
    head += _sections(view, st)
    for table in view.tables:
        head.append(Text(""))
        head += _subject_table(table, st, worst)
    head.append(Text(""))
    if changes is not None and not changes.empty:
        head += _changes(changes, st)
    tail = _errors(view, st)
    if verbose:
        tail += _passes(view, st)
    elif view.counts[Status.PASS] or view.counts[Status.SKIP]:
        tail.append(
            Text(
                f"{view.counts[Status.PASS]} passing and {view.counts[Status.SKIP]} skipped results hidden; "
                "-v shows them.",
                "dim",
            )
        )
    tail += _verdict(view, st)
    head_text, tail_text = _capture(console, head), _capture(console, tail)
    budget = max(MIN_FINDINGS, target - head_text.count("\n") - tail_text.count("\n") - 2)
    console.file.write(head_text)
    for block in _findings(view, st, budget):
        _print(console, block)
    console.file.write(tail_text)


def _capture(console: Console, blocks: Sequence[RenderableType]) -> str:
    with console.capture() as capture:
        for block in blocks:
            _print(console, block)
    return capture.get()


def _print(console: Console, block: RenderableType) -> None:
    if isinstance(block, Text):  # console.print joins Texts into a new one: pass their wrapping on
        console.print(block, no_wrap=block.no_wrap, overflow=block.overflow)
    else:
        console.print(block)


def _strip(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.split("\n"))


def _indent(renderable: RenderableType, n: int) -> Padding:
    return Padding(renderable, (0, 0, 0, n), expand=False)


class TerminalRenderer:
    """The report for a terminal: styled when `options.color`."""

    def render(self, report: Report, options: RenderOptions) -> str:
        buf = io.StringIO()
        console = make_console(buf, no_color=not options.color, width=options.width, force_terminal=options.color)
        render(
            report,
            console,
            verbose=options.verbose,
            quiet=options.quiet,
            changes=options.changes,
            worst=options.worst,
        )
        out = buf.getvalue()
        return out if options.color else _strip(out)


class TextRenderer:
    """The report as plain ASCII text (`.txt`): no styles, no line ending in spaces."""

    def render(self, report: Report, options: RenderOptions) -> str:
        buf = io.StringIO()
        render(
            report,
            make_console(buf, no_color=True, width=options.width),
            verbose=options.verbose,
            quiet=options.quiet,
            changes=options.changes,
            worst=options.worst,
            ascii_only=True,
        )
        # rich's own cut marks (an ellipsis) are the only non-ASCII left: one column each, kept one column
        return _strip(buf.getvalue().replace("…", "~"))
