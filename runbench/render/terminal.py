"""The terminal report (rich). Every string of the report goes through `inert` (runbench.textsafe) and into a
Text, never markup: host data cannot drive the terminal, however the snapshot was made."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from runbench.model import BENCHMARK, SECTION_TITLES, CheckMeta, Finding, Report, Scope, ScoreCard, Severity, Status
from runbench.render import RenderOptions
from runbench.textsafe import inert

MAX_FIELD = 240

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


def _pct(card: ScoreCard) -> str:
    return "-" if card.score is None else f"{card.score:.1f}"


def _summary(report: Report) -> Panel:
    h = report.host
    failures = [f for f in report.findings if f.status is Status.FAIL]
    by_sev = {s: sum(1 for f in failures if f.severity is s) for s in Severity}
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    engine = f"Docker {h.engine_version or '?'} (API {h.api_version or '?'})"
    grid.add_row("Host", Text.assemble(T(h.hostname or "?"), " · ", T(engine), " · ", T(h.os or "?")))
    total = report.total
    grid.add_row(
        "Score",
        Text.assemble(
            (f"{_pct(total)}", "bold"),
            "  grade ",
            (total.grade, GRADE_STYLE.get(total.grade, "")),
            f"   coverage {total.evaluated}/{total.selected} checks ({total.coverage:.0%})",
        ),
    )
    counts = Text()
    for i, s in enumerate(Status):
        if i:
            counts.append(" · ")
        counts.append(f"{report.count(s)} {s.value}", STATUS_STYLE[s] if report.count(s) else "")
    grid.add_row("Results", counts)
    sev = Text()
    for i, level in enumerate(v for v in Severity if v is not Severity.INFO):
        if i:
            sev.append(" · ")
        sev.append(f"{by_sev[level]} {level.value}", SEVERITY_STYLE[level] if by_sev[level] else "")
    grid.add_row("Failures", sev)
    for i, note in enumerate(report.notes):
        grid.add_row("Scope" if i == 0 else "", T(note))
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
        else Text("NOT MET: " + "; ".join(inert(r, MAX_FIELD) for r in report.policy.reasons), "bold red")
    )
    grid.add_row("Policy", policy)
    title = f"runbench {inert(report.runbench_version, 40)} · {BENCHMARK.name} v{BENCHMARK.version}"
    if report.collected_by:
        title += f" · facts collected by runbench {inert(report.collected_by, 40)}"
    return Panel(grid, title=Text(title, "bold"), title_align="left", box=box.ROUNDED)


def _counts_row(findings: list[Finding]) -> list[str]:
    return [str(sum(1 for f in findings if f.status is s) or "") for s in Status]


def _sections(report: Report) -> Table:
    table = Table(title="Sections", title_justify="left", box=box.SIMPLE_HEAD, expand=False)
    table.add_column("Section", overflow="fold")
    table.add_column("Score", justify="right")
    table.add_column("Grade", justify="center")
    for s in Status:
        table.add_column(s.value.capitalize(), justify="right", style=STATUS_STYLE[s])
    counts: dict[Scope, list[Finding]] = {}
    for f in report.findings:
        counts.setdefault(f.check.scope, []).append(f)
    for scope, card in report.sections.items():
        findings = counts.get(scope, [])
        title = SECTION_TITLES.get(scope, scope.value)
        table.add_row(title, _pct(card), Text(card.grade, GRADE_STYLE.get(card.grade, "")), *_counts_row(findings))
    return table


def _containers(report: Report) -> Table:
    table = Table(title="Containers (worst first)", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("Container", overflow="fold", ratio=3)
    table.add_column("Score", justify="right")
    table.add_column("Grade", justify="center")
    table.add_column("Fail", justify="right", style="bold red")
    table.add_column("Worst", overflow="fold", ratio=2)
    fails_of: dict[str, list[Finding]] = {}
    for f in report.findings:
        if f.subject.kind is Scope.CONTAINER and f.failed:
            fails_of.setdefault(f.subject.name, []).append(f)
    rows = []
    for name, card in report.containers.items():
        fails = fails_of.get(name, [])
        worst = max((f.severity for f in fails), key=lambda s: s.rank, default=None)
        rows.append((card.score if card.score is not None else 101.0, name, card, len(fails), worst))
    for _, name, card, nfail, worst in sorted(rows, key=lambda r: (r[0], r[1])):
        table.add_row(
            T(name, limit=64),
            _pct(card),
            Text(card.grade, GRADE_STYLE.get(card.grade, "")),
            str(nfail or ""),
            Text(worst.value, SEVERITY_STYLE[worst]) if worst else Text(""),
        )
    return table


def _group(report: Report, status: Status) -> Iterator[tuple[CheckMeta, list[Finding]]]:
    order: dict[str, list[Finding]] = {}
    metas: dict[str, CheckMeta] = {}
    for f in report.findings:
        if f.status is status:
            order.setdefault(f.check.id, []).append(f)
            metas[f.check.id] = f.check
    keys = list(order)
    if status is Status.FAIL:
        keys.sort(key=lambda k: (-max(f.severity.rank for f in order[k]), list(metas).index(k)))
    for k in keys:
        yield metas[k], order[k]


def _check_heading(meta: CheckMeta, findings: list[Finding], status: Status) -> Text:
    head = Text()
    if status is Status.FAIL:
        sev = max((f.severity for f in findings), key=lambda s: s.rank)
        head.append(f" {sev.value.upper()} ", SEVERITY_STYLE[sev])
        head.append(" ")
    cis = meta.cis.get("1.8.0")
    head.append(inert(meta.id, 80), "bold")
    if cis:
        head.append(f"  CIS {inert(cis, 20)}", "dim")
    head.append("  ")
    head.append(inert(meta.title, MAX_FIELD))
    return head


def _lines(text: str) -> str:
    """Catalog text that may span lines (a remediation snippet): each line made inert, the newlines kept."""
    return "\n".join(inert(line) for line in text.split("\n"))


def _indent(renderable: RenderableType, n: int) -> Padding:
    return Padding(renderable, (0, 0, 0, n), expand=False)


def _finding_block(f: Finding, with_evidence: bool) -> RenderableType:
    line = T(f.subject.name or f.subject.id, "bold", limit=64)
    if f.detail:
        line.append("  ")
        line.append_text(T(f.detail))
    if not with_evidence or not f.evidence:
        return _indent(line, 2)
    rows: list[RenderableType] = [_indent(line, 2)]
    for key, value in f.evidence:
        ev = T(key, "dim", limit=60)
        ev.append(": ", "dim")
        ev.append_text(T(value))
        rows.append(_indent(ev, 6))
    return Group(*rows)


def _findings(report: Report, status: Status, title: str, *, evidence: bool, remediation: bool) -> list[RenderableType]:
    out: list[RenderableType] = []
    groups = list(_group(report, status))
    if not groups:
        return out
    out.append(Text(f"{title} ({sum(len(g) for _, g in groups)})", style=f"bold {STATUS_STYLE[status]}"))
    for meta, findings in groups:
        out.append(_check_heading(meta, findings, status))
        out.extend(_finding_block(f, evidence) for f in findings)
        if remediation:
            out.append(_indent(Text.assemble(("fix: ", "bold green"), _lines(meta.remediation)), 2))
        out.append(Text(""))
    return out


def _errors(report: Report) -> list[RenderableType]:
    out: list[RenderableType] = []
    if report.incomplete:
        out.append(Text(f"Incomplete: not collected ({len(report.incomplete)})", "bold magenta"))
        out.extend(_indent(T(gap), 2) for gap in report.incomplete)
        out.append(Text(""))
    if report.errors:
        out.append(Text(f"Errors while collecting ({len(report.errors)})", "bold magenta"))
        for e in report.errors:
            subject = (
                e.subject.removeprefix("sha256:")[:12]
                if len(e.subject) == 64 or e.subject.startswith("sha256:")
                else e.subject
            )
            line = Text("  ")
            line.append_text(T(f"{e.area} {subject}".strip(), "bold"))
            line.append(f" {inert(e.what, 80)}: ")
            line.append_text(T(e.why))
            out.append(line)
        out.append(Text(""))
    out.extend(_findings(report, Status.ERROR, "Checks that could not be evaluated", evidence=False, remediation=False))
    return out


def render(report: Report, console: Console, *, verbose: bool = False, quiet: bool = False) -> None:
    if quiet:
        for block in _errors(report):
            console.print(block)
        return
    console.print(_summary(report))
    console.print(_sections(report))
    if report.containers:
        console.print(_containers(report))
    blocks: list[RenderableType] = []
    blocks += _findings(report, Status.FAIL, "Failures", evidence=True, remediation=True)
    blocks += _findings(report, Status.MANUAL, "Needs review", evidence=True, remediation=verbose)
    blocks += _errors(report)
    if verbose:
        blocks += _findings(report, Status.PASS, "Passed", evidence=True, remediation=False)
        blocks += _findings(report, Status.SKIP, "Skipped", evidence=False, remediation=False)
    elif any(f.status is Status.PASS for f in report.findings):
        blocks.append(
            Text(
                f"{report.count(Status.PASS)} passing and {report.count(Status.SKIP)} skipped results hidden; "
                "-v shows them.",
                "dim",
            )
        )
    for block in blocks:
        console.print(block)


@contextmanager
def progress(enabled: bool, no_color: bool = False) -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar on stderr while collecting; a no-op callback when stderr is not a terminal."""
    if not enabled:
        yield lambda stage, done, total: None
        return
    console = Console(stderr=True, color_system=None if no_color else "auto", markup=False, highlight=False)
    bar = Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    tasks: dict[str, TaskID] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(f"collecting {inert(stage, 60)}", total=max(total, 1))
        bar.update(tasks[stage], completed=done, total=max(total, 1))

    with bar:
        yield update


class TerminalRenderer:
    """The report for a terminal: styled when `options.color`."""

    def render(self, report: Report, options: RenderOptions) -> str:
        buf = io.StringIO()
        console = make_console(buf, no_color=not options.color, width=options.width, force_terminal=options.color)
        render(report, console, verbose=options.verbose, quiet=options.quiet)
        return buf.getvalue()


class TextRenderer:
    """The terminal report as plain text, without styles."""

    def render(self, report: Report, options: RenderOptions) -> str:
        buf = io.StringIO()
        render(
            report, make_console(buf, no_color=True, width=options.width), verbose=options.verbose, quiet=options.quiet
        )
        return buf.getvalue()
