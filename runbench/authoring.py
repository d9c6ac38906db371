"""What check files import: one decorator per scope, verdict helpers, and the evaluation context."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from runbench.model import CheckMeta, Evidence, Scope, Severity, Status, Verdict
from runbench.policy import Params
from runbench.snapshot import (
    CollectionError,
    ContainerFacts,
    DaemonFacts,
    EngineFacts,
    HostFacts,
    ImageFacts,
    NetworkFacts,
)

__all__ = [
    "Check",
    "Context",
    "Severity",
    "container_check",
    "errored",
    "failed",
    "manual",
    "passed",
    "skipped",
]


@dataclass(frozen=True, slots=True)
class Context:
    """Snapshot-wide facts a check may read besides its subject. Pure data."""

    engine: EngineFacts | None = None
    daemon: DaemonFacts | None = None
    host: HostFacts | None = None
    images: Mapping[str, ImageFacts] = field(default_factory=dict)
    image_tags: Mapping[str, str] = field(default_factory=dict)
    networks: tuple[NetworkFacts, ...] = ()
    params: Params = field(default_factory=Params)
    errors: tuple[CollectionError, ...] = ()

    def why(self, what: str, subject: str | None = None) -> str:
        """The recorded reason fact `what` (of `subject`, or of anything when None) is missing."""
        for e in self.errors:
            if e.what == what and (subject is None or e.subject in (subject, "")):
                where = f" ({e.subject})" if e.subject and subject is None else ""
                return f"{what}{where} not collected: {e.why}"
        return f"{what} not collected"


F = TypeVar("F")


@dataclass(frozen=True, slots=True)
class Check(Generic[F]):
    meta: CheckMeta
    fn: Callable[[F, Context], Verdict]

    @property
    def id(self) -> str:
        return self.meta.id

    def evaluate(self, facts: F, ctx: Context | None = None) -> Verdict:
        """Run the check; an exception becomes an `error` verdict naming the check."""
        try:
            verdict = self.fn(facts, ctx if ctx is not None else Context())
        except Exception as exc:  # noqa: BLE001 - a broken check must not stop the run
            return errored(f"check {self.meta.id} raised {type(exc).__name__}: {exc}")
        if not isinstance(verdict, Verdict):
            return errored(f"check {self.meta.id} returned {type(verdict).__name__}, not a Verdict")
        return verdict


ContainerFn = Callable[[ContainerFacts, Context], Verdict]


def _meta(
    scope: Scope,
    id: str,
    title: str,
    severity: Severity,
    rationale: str,
    remediation: str,
    cis: Mapping[str, str] | None,
    level: int,
    references: tuple[str, ...],
) -> CheckMeta:
    return CheckMeta(
        id=id,
        title=title,
        scope=scope,
        severity=severity,
        cis=dict(cis or {}),
        level=level,
        rationale=rationale,
        remediation=remediation,
        references=references,
    )


def container_check(
    *,
    id: str,
    title: str,
    severity: Severity,
    rationale: str,
    remediation: str,
    cis: Mapping[str, str] | None = None,
    level: int = 1,
    references: tuple[str, ...] = (),
) -> Callable[[ContainerFn], Check[ContainerFacts]]:
    """Declare a check evaluated once per container in scope."""
    meta = _meta(Scope.CONTAINER, id, title, severity, rationale, remediation, cis, level, references)

    def wrap(fn: ContainerFn) -> Check[ContainerFacts]:
        return Check(meta=meta, fn=fn)

    return wrap


def _evidence(evidence: Mapping[str, object]) -> Evidence:
    return tuple((str(k), _fmt(v)) for k, v in evidence.items())


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return "[" + ", ".join(str(v) for v in items) + "]"
    return str(value)


def passed(detail: str = "", /, **evidence: object) -> Verdict:
    return Verdict(Status.PASS, detail, _evidence(evidence))


def failed(detail: str, /, **evidence: object) -> Verdict:
    """A failure at the check's severity; `.at(Severity.X)` gives this finding another one."""
    return Verdict(Status.FAIL, detail, _evidence(evidence))


def manual(detail: str, /, **evidence: object) -> Verdict:
    return Verdict(Status.MANUAL, detail, _evidence(evidence))


def skipped(reason: str) -> Verdict:
    return Verdict(Status.SKIP, reason)


def errored(reason: str) -> Verdict:
    return Verdict(Status.ERROR, reason)
