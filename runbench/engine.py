"""Evaluate a catalog against a snapshot: pure, linear in checks × subjects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from runbench.authoring import Check, Context
from runbench.catalog import Catalog
from runbench.model import (
    Finding,
    HostInfo,
    PolicyOutcome,
    Report,
    ReportError,
    Scope,
    Status,
    Subject,
    Verdict,
)
from runbench.policy import Policy
from runbench.scoring import score
from runbench.snapshot import ContainerFacts, Snapshot


def context_of(snapshot: Snapshot, policy: Policy) -> Context:
    return Context(
        engine=snapshot.engine,
        daemon=snapshot.daemon,
        host=snapshot.host,
        images={i.id: i for i in snapshot.images},
        image_tags=snapshot.image_tags,
        networks=snapshot.networks,
        params=policy.params,
        errors=snapshot.errors,
    )


def container_subject(c: ContainerFacts) -> Subject:
    return Subject(kind="container", id=c.short_id, name=c.name)


def _finding(check: Check[Any], subject: Subject, verdict: Verdict) -> Finding:
    return Finding(
        check=check.meta,
        subject=subject,
        status=verdict.status,
        detail=verdict.detail,
        evidence=verdict.evidence,
        severity=verdict.severity or check.meta.severity,
    )


def evaluate(catalog: Catalog, snapshot: Snapshot, policy: Policy, *, started_at: str = "") -> Report:
    ctx = context_of(snapshot, policy)
    selected = [c for c in catalog.values() if policy.selection.wants(c.id)]
    findings: list[Finding] = []
    container_checks = [c for c in selected if c.meta.scope is Scope.CONTAINER]
    for container in snapshot.containers:
        subject = container_subject(container)
        findings.extend(_finding(check, subject, check.evaluate(container, ctx)) for check in container_checks)

    by_scope: dict[Scope, list[Finding]] = {}
    by_container: dict[str, list[Finding]] = {}
    for f in findings:
        by_scope.setdefault(f.check.scope, []).append(f)
        if f.subject.kind == "container":
            by_container.setdefault(f.subject.id, []).append(f)
    sections = {
        scope.value: score(by_scope.get(scope, ())) for scope in Scope if any(c.meta.scope is scope for c in selected)
    }
    containers = {c.name: score(by_container.get(c.short_id, ())) for c in snapshot.containers}
    total = score(findings)
    engine = snapshot.engine
    host = HostInfo(
        hostname=engine.hostname if engine else (snapshot.host.hostname if snapshot.host else ""),
        engine_version=engine.server_version if engine else "",
        api_version=engine.api_version if engine else "",
        os=engine.os if engine else "",
        kernel=engine.kernel if engine else "",
    )
    errors = tuple(ReportError(area=e.area, subject=e.subject, what=e.what, why=e.why) for e in snapshot.errors)
    report = Report(
        notes=scope_notes(snapshot),
        runbench_version=snapshot.runbench_version,
        host=host,
        started_at=started_at or snapshot.collected_at,
        duration_s=snapshot.duration_s,
        checks=tuple(c.meta for c in selected),
        findings=tuple(findings),
        total=total,
        sections=sections,
        containers=containers,
        errors=errors,
    )
    return _with_policy(report, policy)


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


def _with_policy(report: Report, policy: Policy) -> Report:
    return replace(report, policy=judge(report.findings, report.total.score, policy))
