"""What the reports show, computed once from a Report and shared by the renderers (terminal, text, HTML,
Markdown): findings grouped by check and status, subjects with the same outcome folded into one line, the
subject tables worst first, the verdict in words. Linear in the number of findings; pure.

A *group* is one check's findings of one status. Its *folds* are its subjects with the same detail, evidence
and severity, largest first: `27 containers: a, b, c, … (+24)`, or `all containers but a` when the fold
covers every subject the check judged but a few. A *reason* folds errors or skips across checks: a host-wide
cause (no AppArmor on this host) is said once, with the checks it stopped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from runbench.frozen import fast_init
from runbench.model import (
    SECTION_TITLES,
    CheckMeta,
    Evidence,
    Finding,
    Report,
    Scope,
    ScoreCard,
    Severity,
    Status,
    Subject,
)
from runbench.scoring import grade_for

STATUS_ORDER = (Status.FAIL, Status.MANUAL, Status.ERROR, Status.SKIP, Status.PASS)
SEVERITY_ORDER = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)
# The one wording of a result everywhere (terminal, text, HTML, Markdown, JUnit, SARIF): the status word
# before the check's title, which names the good state ("FAIL  No container engine socket is mounted").
STATUS_WORD = {
    Status.FAIL: "FAIL",
    Status.MANUAL: "REVIEW",
    Status.ERROR: "ERROR",
    Status.SKIP: "SKIP",
    Status.PASS: "PASS",
}
STATUS_HEADING = {
    Status.FAIL: "Failures",
    Status.MANUAL: "Needs review",
    Status.ERROR: "Could not be evaluated",
    Status.SKIP: "Skipped",
    Status.PASS: "Passed",
}
_NOUNS: Mapping[Scope, tuple[str, str]] = {
    Scope.CONTAINER: ("container", "containers"),
    Scope.IMAGE: ("image", "images"),
    Scope.FILE: ("file", "files"),
}
SCORED_KINDS = (Scope.CONTAINER, Scope.IMAGE)


def noun(kind: Scope, n: int) -> str:
    one, many = _NOUNS.get(kind, (kind.value, kind.value))
    return one if n == 1 else many


def section_title(scope: Scope) -> str:
    return SECTION_TITLES.get(scope, scope.value)


def problem(status: Status, title: str) -> str:
    """`FAIL  No container engine socket is mounted`: the one wording of a result's heading."""
    return f"{STATUS_WORD[status]}  {title}"


def cis_of(meta: CheckMeta) -> str:
    from runbench.model import BENCHMARK

    return meta.cis.get(BENCHMARK.version, "")


@fast_init
@dataclass(frozen=True, slots=True)
class Fold:
    """Subjects of one check with the same status, detail, evidence and severity."""

    subjects: tuple[Subject, ...]
    detail: str
    evidence: Evidence
    severity: Severity
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class Group:
    """One check's findings of one status, folded."""

    check: CheckMeta
    status: Status
    findings: tuple[Finding, ...]
    folds: tuple[Fold, ...]
    severity: Severity  # the worst of its findings
    judged: tuple[Subject, ...]  # every subject the check has a finding for, any status, report order

    @property
    def kind(self) -> Scope:
        return self.findings[0].subject.kind


@dataclass(frozen=True, slots=True)
class Reason:
    """One detail shared by errors (or skips) of several checks: said once."""

    detail: str
    status: Status
    checks: tuple[CheckMeta, ...]
    findings: tuple[Finding, ...]
    subjects: tuple[Subject, ...]  # distinct, report order


@dataclass(frozen=True, slots=True)
class SubjectRow:
    kind: Scope
    name: str
    card: ScoreCard
    failed: int
    worst: Severity | None
    subject: Subject | None  # None for a subject in scope without any finding

    @property
    def perfect(self) -> bool:
        return self.card.score is not None and self.card.score >= 100.0


@dataclass(frozen=True, slots=True)
class SubjectTable:
    kind: Scope
    rows: tuple[SubjectRow, ...]  # worst first: lowest score, then most failures, then name
    columns: tuple[str, ...]  # attribute names of its subjects (image, state), in order of first appearance


@dataclass(frozen=True, slots=True)
class SectionRow:
    scope: Scope
    card: ScoreCard
    counts: Mapping[Status, int]


@dataclass(frozen=True, slots=True)
class View:
    report: Report
    groups: Mapping[Status, tuple[Group, ...]]  # FAIL worst first, the others in catalog order
    counts: Mapping[Status, int]
    failed_by_severity: Mapping[Severity, int]
    sections: tuple[SectionRow, ...]
    tables: tuple[SubjectTable, ...]
    subjects: Mapping[tuple[Scope, str], Subject]  # by kind and name
    cap_reason: str  # why the grade is lower than the score gives ("" when it is not capped)

    def reasons(self, status: Status) -> tuple[Reason, ...]:
        return fold_reasons(self.groups.get(status, ()), status)


def _folds(findings: Sequence[Finding]) -> tuple[Fold, ...]:
    by: dict[tuple[str, Evidence, Severity], list[Finding]] = {}
    for f in findings:
        key = (f.detail, f.evidence, f.severity)
        fold = by.get(key)
        if fold is None:
            fold = by[key] = []
        fold.append(f)
    folds = [
        Fold(tuple([f.subject for f in fs]), detail, evidence, sev, tuple(fs))
        for (detail, evidence, sev), fs in by.items()
    ]
    folds.sort(key=lambda fold: (-fold.severity.rank, -len(fold.subjects)))  # stable: first seen first
    return tuple(folds)


def fold_reasons(groups: Iterable[Group], status: Status) -> tuple[Reason, ...]:
    by: dict[str, tuple[list[CheckMeta], list[Finding], dict[tuple[Scope, str], Subject]]] = {}
    for g in groups:
        for fold in g.folds:
            checks, findings, subjects = by.setdefault(fold.detail, ([], [], {}))
            if not checks or checks[-1] is not g.check:
                checks.append(g.check)
            findings.extend(fold.findings)
            for s in fold.subjects:
                subjects.setdefault((s.kind, s.name), s)
    reasons = [
        Reason(detail, status, tuple(checks), tuple(findings), tuple(subjects.values()))
        for detail, (checks, findings, subjects) in by.items()
    ]
    reasons.sort(key=lambda r: -len(r.findings))
    return tuple(reasons)


def _names(subjects: Sequence[Subject], limit: int | None) -> str:
    shown = subjects if limit is None else subjects[:limit]
    text = ", ".join(s.name or s.id or s.key for s in shown)
    if len(shown) < len(subjects):
        text += f", … (+{len(subjects) - len(shown)})"
    return text


def subjects_phrase(fold_subjects: Sequence[Subject], judged: Sequence[Subject], limit: int | None = 3) -> str:
    """How a fold names its subjects: `web`, `3 containers: a, b, c`, `27 containers: a, b, c, … (+24)`,
    `all 30 containers`, `all 30 containers but web`. `limit` None names every one."""
    n = len(fold_subjects)
    if not n:
        return ""
    kind = fold_subjects[0].kind
    if n == 1:
        s = fold_subjects[0]
        return s.name or s.id or s.key
    total = len(judged)
    if total >= 4 and n == total:
        return f"all {total} {noun(kind, total)}"
    if total >= 5 and total - n <= 2:
        inside = {(s.kind, s.key) for s in fold_subjects}
        others = [s for s in judged if (s.kind, s.key) not in inside]
        return f"all {total} {noun(kind, total)} but {_names(others, None)}"
    return f"{n} {noun(kind, n)}: {_names(fold_subjects, limit)}"


def evidence_text(evidence: Evidence) -> str:
    return "; ".join(f"{k}: {v}" for k, v in evidence)


def _worst(findings: Iterable[Finding]) -> Severity:
    # the distinct severities first (a handful), then the worst of them: max() over every finding's key is
    # most of the view's time on a fleet
    return max({f.severity for f in findings}, key=lambda s: s.rank)


def _cap_reason(report: Report, critical_failures: int) -> str:
    total = report.total
    if total.score is None or not critical_failures:
        return ""
    uncapped = grade_for(total.score, False)
    if uncapped == total.grade:
        return ""
    return f"capped at {total.grade} by {critical_failures} critical failure(s); the score alone gives {uncapped}"


class _Last:
    """The view of the last report built: the renderers of one run (terminal, files) share it."""

    report: Report | None = None
    view: View | None = None


def build(report: Report) -> View:
    """The View of `report`, built once however many renderers ask (the last report's view is kept)."""
    if _Last.report is report and _Last.view is not None:
        return _Last.view
    view = _build(report)
    _Last.report, _Last.view = report, view
    return view


def _build(report: Report) -> View:
    """Every grouping the renderers need, in one pass over the findings (plus sorts of the groups)."""
    order = {m.id: i for i, m in enumerate(report.checks)}
    by_group: dict[tuple[str, Status], list[Finding]] = {}
    judged: dict[str, dict[tuple[Scope, str], Subject]] = {}
    metas: dict[str, CheckMeta] = {}
    counts = dict.fromkeys(Status, 0)
    section_counts: dict[Scope, dict[Status, int]] = {}
    failed_by_severity = dict.fromkeys(Severity, 0)
    fails_of: dict[tuple[Scope, str], list[Finding]] = {}
    subjects: dict[tuple[Scope, str], Subject] = {}
    last: Subject | None = None  # a subject's findings come in a run: its keys are made once per run
    subject_key = name_key = (Scope.HOST, "")
    for f in report.findings:  # the defaults of setdefault would be built for every finding: get, then create
        check, status, subject = f.check, f.status, f.subject
        if subject is not last:
            last, subject_key, name_key = subject, (subject.kind, subject.key), (subject.kind, subject.name)
            known = subjects.get(name_key)
            if known is None or (subject.attrs and not known.attrs):
                subjects[name_key] = subject
        cid = check.id
        group = by_group.get((cid, status))
        if group is None:
            group = by_group[(cid, status)] = []
            metas.setdefault(cid, check)
        group.append(f)
        seen = judged.get(cid)
        if seen is None:
            seen = judged[cid] = {}
        if subject_key not in seen:
            seen[subject_key] = subject
        counts[status] += 1
        sc = section_counts.get(check.scope)
        if sc is None:
            sc = section_counts[check.scope] = dict.fromkeys(Status, 0)
        sc[status] += 1
        if status is Status.FAIL:
            failed_by_severity[f.severity] += 1
            fails = fails_of.get(name_key)
            if fails is None:
                fails = fails_of[name_key] = []
            fails.append(f)
    groups: dict[Status, list[Group]] = {s: [] for s in STATUS_ORDER}
    judged_lists = {cid: tuple(d.values()) for cid, d in judged.items()}
    for (cid, status), fs in by_group.items():
        groups[status].append(Group(metas[cid], status, tuple(fs), _folds(fs), _worst(fs), judged_lists[cid]))
    late = len(order)
    for status, gs in groups.items():
        if status is Status.FAIL:
            gs.sort(key=lambda g: (-g.severity.rank, order.get(g.check.id, late), g.check.id))
        else:
            gs.sort(key=lambda g: (order.get(g.check.id, late), g.check.id))
    tables = []
    for kind in SCORED_KINDS:
        cards = report.subjects.get(kind, {})
        if not cards:
            continue
        rows = []
        columns: dict[str, None] = {}
        for name, card in cards.items():
            fails = fails_of.get((kind, name), [])
            known = subjects.get((kind, name))
            if known is not None:
                columns.update(dict.fromkeys(k for k, _ in known.attrs))
            rows.append(SubjectRow(kind, name, card, len(fails), _worst(fails) if fails else None, known))
        rows.sort(
            key=lambda r: (
                r.card.score if r.card.score is not None else 1000.0,
                -(r.worst.rank if r.worst else -1),
                -r.failed,
                r.name,
            )
        )
        tables.append(SubjectTable(kind, tuple(rows), tuple(columns)))
    sections = tuple(
        SectionRow(scope, card, section_counts.get(scope, dict.fromkeys(Status, 0)))
        for scope, card in report.sections.items()
    )
    return View(
        report=report,
        groups={s: tuple(gs) for s, gs in groups.items()},
        counts=counts,
        failed_by_severity=failed_by_severity,
        sections=sections,
        tables=tuple(tables),
        subjects=subjects,
        cap_reason=_cap_reason(report, failed_by_severity[Severity.CRITICAL]),
    )


def score_text(card: ScoreCard) -> str:
    return "-" if card.score is None else f"{card.score:.1f}"


def verdict_lines(view: View) -> list[tuple[str, str]]:
    """The verdict in words, as (label, text) pairs: score and grade (with why it is capped), coverage and
    errors, the policy outcome with its reasons, and the incomplete-run warning."""
    r = view.report
    total = r.total
    score = "no score (nothing was evaluated)" if total.score is None else f"{total.score:.1f}/100"
    grade = f"grade {total.grade}" + (f" ({view.cap_reason})" if view.cap_reason else "")
    errors = view.counts[Status.ERROR]
    coverage = f"coverage {total.evaluated}/{total.selected} checks ({total.coverage:.0%})"
    if errors:
        coverage += f", {errors} result(s) could not be evaluated"
    lines = [("Score", f"{score} · {grade} · {coverage}")]
    if r.policy.met:
        lines.append(("Policy", "met"))
    else:
        lines.append(("Policy", "NOT MET: " + "; ".join(r.policy.reasons)))
    if r.incomplete:
        lines.append(("INCOMPLETE", incomplete_warning(r)))
    return lines


def incomplete_warning(report: Report) -> str:
    return (
        f"{len(report.incomplete)} part(s) of the scan could not be collected: the score and the policy cover "
        "only what was"
    )
