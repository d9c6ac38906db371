"""Evaluate a catalog against a snapshot: pure, linear in checks × subjects.

Every scope goes through one table (`SCOPES`): it names the subjects a snapshot yields for a check of that
scope, each with its facts or, when they could not be collected, the collector's recorded reason. Every
selected check yields one finding per subject; a subject without facts yields `error` with that reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from runbench import __version__, split
from runbench.authoring import Check, Context, DaemonView, Inventory, errored
from runbench.catalog import Catalog
from runbench.model import (
    Evidence,
    Finding,
    HostInfo,
    PolicyOutcome,
    Report,
    ReportError,
    Scope,
    Severity,
    Status,
    Subject,
    Verdict,
)
from runbench.policy import Policy
from runbench.scoring import Tally
from runbench.snapshot import ContainerFacts, ContainerSummary, Fact, ImageFacts, Snapshot
from runbench.split import Forked


@dataclass(frozen=True, slots=True)
class Target:
    """One subject of a check: its facts, or why there are none."""

    subject: Subject
    facts: Any | None
    why: str = ""


Targets = Callable[[Context, Check[Any]], Iterator[Target]]


def _one(kind: Scope, ctx: Context, name: str, facts: Any | None, why: str) -> Iterator[Target]:
    yield Target(Subject(kind=kind, id="", name=name, key=kind.value), facts, why)


def _host_name(ctx: Context) -> str:
    if ctx.host is not None and ctx.host.hostname:
        return ctx.host.hostname
    return ctx.engine.hostname if ctx.engine is not None else "host"


def host_targets(ctx: Context, check: Check[Any]) -> Iterator[Target]:
    return _one(Scope.HOST, ctx, _host_name(ctx), ctx.host, ctx.why(Fact.HOST))


def daemon_targets(ctx: Context, check: Check[Any]) -> Iterator[Target]:
    view = None
    if ctx.engine is not None:
        view = DaemonView(ctx.engine, ctx.daemon, ctx.daemon_config, ctx.why(Fact.DAEMON_CONFIG))
    return _one(Scope.DAEMON, ctx, "dockerd", view, ctx.why(Fact.ENGINE))


def ops_targets(ctx: Context, check: Check[Any]) -> Iterator[Target]:
    inventory = Inventory(containers=ctx.snapshot.inventory, image_tags=ctx.image_tags)
    return _one(Scope.OPS, ctx, "engine", inventory if ctx.engine is not None else None, ctx.why(Fact.ENGINE))


def swarm_targets(ctx: Context, check: Check[Any]) -> Iterator[Target]:
    return _one(Scope.SWARM, ctx, "swarm", ctx.swarm, ctx.why(Fact.SWARM))


def file_subject(path: str) -> Subject:
    return Subject(kind=Scope.FILE, id=path, name=path, key=path)


def file_targets(ctx: Context, check: Check[Any]) -> Iterator[Target]:
    if check.paths is None:
        yield Target(file_subject("(no paths)"), None, f"file check {check.id} declares no paths")
        return
    try:
        paths = sorted(set(check.paths(ctx)))
    except Exception as exc:  # noqa: BLE001 - a broken paths function is that check's error, not the run's
        yield Target(file_subject("(paths)"), None, f"paths of {check.id} raised {type(exc).__name__}: {exc}")
        return
    for path in paths:
        facts = ctx.files.get(path)
        if facts is not None:
            yield Target(file_subject(path), facts)
        elif ctx.snapshot.files is None:
            yield Target(file_subject(path), None, ctx.why(Fact.FILES))
        else:
            yield Target(file_subject(path), None, f"{path} was not collected")


def image_subject(image: ImageFacts) -> Subject:
    tag = next((t for t in image.tags if t and t != "<none>:<none>"), "")
    return Subject(kind=Scope.IMAGE, id=image.short_id, name=tag or image.short_id, key=tag or image.id)


def image_targets(ctx: Context, check: Check[Any]) -> Iterator[Target]:
    for image in ctx.snapshot.images:
        yield Target(image_subject(image), image)
    for e in ctx.errors_of(Fact.IMAGE):
        short = e.subject.removeprefix("sha256:")[:12]
        yield Target(Subject(kind=Scope.IMAGE, id=short, name=short, key=e.subject), None, f"image {short}: {e.why}")


def container_subject(c: ContainerFacts | ContainerSummary) -> Subject:
    image = c.image_ref if isinstance(c, ContainerFacts) else c.image
    return Subject(
        kind=Scope.CONTAINER, id=c.id[:12], name=c.name, key=c.name, attrs=(("image", image), ("state", c.state))
    )


def container_targets(ctx: Context, check: Check[Any]) -> Iterator[Target]:
    for c in ctx.snapshot.containers:
        yield Target(container_subject(c), c)
    if failed := ctx.errors_of(Fact.CONTAINER):
        listed = {s.id: s for s in ctx.snapshot.inventory}
        for e in failed:
            summary = listed.get(e.subject) or ContainerSummary(id=e.subject, name=e.subject[:12], image="", state="")
            yield Target(container_subject(summary), None, f"inspect failed: {e.why}")


SCOPES: Mapping[Scope, Targets] = {
    Scope.HOST: host_targets,
    Scope.DAEMON: daemon_targets,
    Scope.FILE: file_targets,
    Scope.IMAGE: image_targets,
    Scope.CONTAINER: container_targets,
    Scope.OPS: ops_targets,
    Scope.SWARM: swarm_targets,
}
SCORED_SUBJECTS = (Scope.CONTAINER, Scope.IMAGE)


def _finding(check: Check[Any], subject: Subject, verdict: Verdict) -> Finding:
    return Finding(
        check=check.meta,
        subject=subject,
        status=verdict.status,
        detail=verdict.detail,
        evidence=verdict.evidence,
        severity=verdict.severity or check.meta.severity,
    )


def findings_of(checks: Sequence[Check[Any]], ctx: Context, split_checks: bool | None = None) -> list[Finding]:
    """Every finding of `checks` on the snapshot in `ctx`: checks of one scope share that scope's subjects.

    `split_checks`: share the subjects of a large scope with a forked child (runbench.split); None: when it
    pays, True/False forces it (tests)."""
    findings: list[Finding] = []
    add = findings.append
    by_scope: dict[Scope, list[Check[Any]]] = {}
    for check in checks:
        by_scope.setdefault(check.meta.scope, []).append(check)
    for scope, group in by_scope.items():
        targets = SCOPES[scope]
        if scope is Scope.FILE:  # each file check has its own paths
            for check in group:
                for t in targets(ctx, check):
                    _judge((check,), t, ctx, add)
            continue
        subjects = list(targets(ctx, group[0]))
        cut, forked = _fork_share(subjects, group, ctx, split_checks)
        if forked is None:
            for t in subjects:
                _judge(group, t, ctx, add)
            continue
        # this process judges the first `cut` subjects while a forked child judges the rest on another CPU
        # (runbench.split); its rows are taken in as they come (a full pipe would stop the child) and turned
        # into findings in subject order; whatever it did not deliver is judged here
        rows: dict[int, list[Compact]] = {}
        try:
            for n, t in enumerate(subjects[:cut]):
                _judge(group, t, ctx, add)
                if n % POLL_EVERY == 0:
                    rows.update(forked.poll())
            arrived, _ = forked.finish()
        finally:
            forked.close()  # reaped, and stopped if this process was interrupted
        rows.update(arrived)
        for index in range(cut, len(subjects)):
            row = rows.get(index)
            if row is None:  # the child did not deliver it (`undone`): judged here
                _judge(group, subjects[index], ctx, add)
                continue
            subject = subjects[index].subject
            for check, (status, detail, evidence, severity) in zip(group, row, strict=True):
                add(Finding(check.meta, subject, STATUSES[status], detail, evidence, SEVERITIES[severity]))
    return findings


# A finding of the forked child as plain data: its status and severity by their index in the enums.
Compact = tuple[int, str, Evidence, int]
STATUSES = tuple(Status)
SEVERITIES = tuple(Severity)
_STATUS_INDEX = {s: i for i, s in enumerate(STATUSES)}
_SEVERITY_INDEX = {s: i for i, s in enumerate(SEVERITIES)}
SPLIT_FINDINGS = 8000  # fewer findings in a scope: judged in this process (a fork and the rows' trip cost more)
CHILD_SUBJECTS = 0.5  # the forked child's share of a split scope's subjects
POLL_EVERY = 4  # subjects judged here between two looks at the child's pipe


def _rows(group: Sequence[Check[Any]], t: Target, ctx: Context) -> list[Compact]:
    """Every check of `group` on one subject, as the forked child sends it back."""
    out: list[Finding] = []
    _judge(group, t, ctx, out.append)
    return [(_STATUS_INDEX[f.status], f.detail, f.evidence, _SEVERITY_INDEX[f.severity]) for f in out]


def _fork_share(
    subjects: Sequence[Target], group: Sequence[Check[Any]], ctx: Context, requested: bool | None
) -> tuple[int, Forked[int, tuple[int, list[Compact]]] | None]:
    """Where this process stops judging a scope's subjects, and the forked child judging the others meanwhile;
    (all of them, None) when a fork does not pay (a small scope, one CPU, another thread running)."""
    whole = len(subjects)
    if whole < 2 or not split.worth_splitting(whole * len(group), requested, minimum=SPLIT_FINDINGS):
        return whole, None
    cut = whole - round(whole * CHILD_SUBJECTS)

    def work() -> Callable[[int], tuple[int, list[Compact]]]:
        return lambda index: (index, _rows(group, subjects[index], ctx))

    forked = Forked.start(list(range(cut, whole)), work, 1, None)
    return (cut, forked) if forked is not None else (whole, None)


def _judge(group: Sequence[Check[Any]], t: Target, ctx: Context, add: Callable[[Finding], None]) -> None:
    """Every check of `group` on one subject."""
    subject, facts = t.subject, t.facts
    if facts is None:
        missing = errored(t.why)
        for check in group:
            add(_finding(check, subject, missing))
        return
    for check in group:  # this loop runs checks × containers times: no per-finding wrapper
        add(_finding(check, subject, check.evaluate(facts, ctx)))


def evaluate(
    catalog: Catalog, snapshot: Snapshot, policy: Policy, *, started_at: str = "", split_checks: bool | None = None
) -> Report:
    ctx = Context(snapshot, policy.params)
    selected = [c for c in catalog.values() if policy.selection.wants(c.id)]
    findings = findings_of(selected, ctx, split_checks)

    # one pass scores the run (each section is its part of the run's tally) and each subject
    total = Tally()
    # every container in scope has a row, in snapshot order, even when no container check is selected
    by_subject: dict[Scope, dict[str, Tally]] = {kind: {} for kind in SCORED_SUBJECTS}
    by_subject[Scope.CONTAINER] = {c.name: Tally() for c in snapshot.containers}
    total.add_all(findings)
    for subject, start, end in _runs(findings):
        groups = by_subject.get(subject.kind)
        if groups is not None:
            tally = groups.get(subject.name)
            if tally is None:
                tally = groups[subject.name] = Tally()
            tally.add_all(findings[start:end])
    subjects = {kind: {name: t.card() for name, t in groups.items()} for kind, groups in by_subject.items()}
    engine = snapshot.engine
    host = HostInfo(
        hostname=engine.hostname if engine else (snapshot.host.hostname if snapshot.host else ""),
        engine_version=engine.server_version if engine else "",
        api_version=engine.api_version if engine else "",
        os=engine.os if engine else "",
        kernel=engine.kernel if engine else "",
    )
    errors = tuple(
        ReportError(area=e.area, subject=e.subject, what=e.fact.value, why=e.why)
        for e in sorted(snapshot.errors, key=lambda e: e.sort_key)
    )
    names = {s.id: s.name for s in snapshot.inventory}
    incomplete = tuple(
        _gap(e.fact, names.get(e.subject) or e.subject.removeprefix("sha256:")[:12], e.why)
        for e in sorted(snapshot.incomplete, key=lambda e: e.sort_key)
    )
    report = Report(
        incomplete=incomplete,
        notes=scope_notes(snapshot),
        runbench_version=__version__,
        collected_by=snapshot.runbench_version if snapshot.runbench_version != __version__ else "",
        host=host,
        started_at=started_at or snapshot.collected_at,
        duration_s=snapshot.duration_s,
        checks=tuple(c.meta for c in selected),
        findings=tuple(findings),
        total=total.card(),
        sections={scope: total.within(scope).card() for scope in Scope if any(c.meta.scope is scope for c in selected)},
        subjects=subjects,
        errors=errors,
    )
    return replace(report, policy=judge(report.findings, report.total.score, policy))


def _runs(findings: Sequence[Finding]) -> Iterator[tuple[Subject, int, int]]:
    """Each run of consecutive findings about one subject (a subject's findings are built together): the
    subject, where the run starts and where it ends."""
    start, current = 0, None
    for i, f in enumerate(findings):
        if f.subject is not current:
            if current is not None:
                yield current, start, i
            start, current = i, f.subject
    if current is not None:
        yield current, start, len(findings)


_GAP_WHAT = {
    Fact.CONTAINER: "container {} not inspected",
    Fact.EXEC: "exec sessions of container {} not read",
    Fact.IMAGE: "image {} not inspected",
    Fact.HISTORY: "history of image {} not read",
    Fact.IMAGES: "the list of local images not read{}",
    Fact.NETWORKS: "the list of networks not read{}",
}


def _gap(fact: Fact, subject: str, why: str) -> str:
    what = _GAP_WHAT.get(fact, fact.value + " {}").format(subject)
    return f"{what}: {why}"


def scope_notes(snapshot: Snapshot) -> tuple[str, ...]:
    inv = snapshot.inventory
    scanned = len(snapshot.containers)
    stopped = sum(1 for s in inv if s.state not in ("running", "paused", "restarting"))
    where = "all containers" if snapshot.options.all_containers else "running containers"
    note = f"scanned {scanned} of {len(inv)} container(s) listed ({where}"
    if snapshot.options.container_globs or snapshot.options.exclude_globs or snapshot.options.labels:
        note += ", filtered by name/label"
    note += ")"
    notes = [note]
    if not snapshot.options.all_containers and stopped:
        notes.append(f"{stopped} stopped or created container(s) not scanned: --all includes them")
    gone = [e for e in snapshot.errors if e.fact is Fact.CONTAINER_GONE]
    if gone:
        notes.append(f"{len(gone)} container(s) removed while the scan ran (not scanned)")
    exited = [e for e in snapshot.errors if e.fact is Fact.CONTAINER_EXITED]
    if exited:
        notes.append(f"{len(exited)} container(s) stopped while the scan ran (judged as stopped)")
    return tuple(notes)


def judge(findings: Sequence[Finding], total_score: float | None, policy: Policy) -> PolicyOutcome:
    reasons: list[str] = []
    if policy.fail_on is not None:
        bar = policy.fail_on.rank
        bad = [f for f in findings if f.status is Status.FAIL and f.severity.rank >= bar]
        if bad:
            worst = max(bad, key=lambda f: f.severity.rank).severity
            reasons.append(f"{len(bad)} failure(s) at or above {policy.fail_on.value} (worst: {worst.value})")
    if policy.min_score is not None and (total_score is None or total_score < policy.min_score):
        shown = "no score" if total_score is None else f"score {total_score:g}"
        reasons.append(f"{shown} is below the minimum {policy.min_score:g}")
    if policy.fail_on_error:
        errs = sum(1 for f in findings if f.status is Status.ERROR)
        if errs:
            reasons.append(f"{errs} check(s) could not be evaluated")
    return PolicyOutcome(met=not reasons, reasons=tuple(reasons))
