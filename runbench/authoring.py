"""What check files import: one decorator per scope, `family` for tables of rows, verdict helpers, and the
evaluation context.

A check is a pure function `(facts, ctx) -> Verdict`. The facts are those of its scope's subject:

    host_check       HostFacts        the host (one)
    daemon_check     DaemonView       the daemon (one): engine facts, dockerd process, effective configuration
    file_check       FileFacts        each path the check declares with `paths=`
    image_check      ImageFacts       each image in scope
    container_check  ContainerFacts   each container in scope
    ops_check        Inventory        the engine's inventory (one)
    swarm_check      SwarmFacts       the swarm (one)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from runbench.model import CheckMeta, Evidence, Scope, Severity, Status, Verdict
from runbench.policy import Params
from runbench.snapshot import (
    CollectionError,
    CollectOptions,
    ContainerFacts,
    ContainerSummary,
    DaemonConfig,
    DaemonFacts,
    EngineFacts,
    Fact,
    FileFacts,
    HostFacts,
    ImageFacts,
    NetworkFacts,
    Setting,
    Snapshot,
    SwarmFacts,
)

__all__ = [
    "Check",
    "Context",
    "DaemonView",
    "Fact",
    "Inventory",
    "Row",
    "Severity",
    "container_check",
    "daemon_check",
    "errored",
    "failed",
    "family",
    "file_check",
    "host_check",
    "image_check",
    "manual",
    "ops_check",
    "passed",
    "skipped",
    "swarm_check",
]

T = TypeVar("T")

EMPTY_SNAPSHOT = Snapshot(
    runbench_version="",
    collected_at="",
    duration_s=0.0,
    options=CollectOptions(),
    engine=None,
    daemon=None,
    host=None,
)


class Context:
    """The snapshot being evaluated, the run's parameters, and indexes built once from them. Read-only.

    A new fact is added to the Snapshot only: checks reach it as `ctx.snapshot.<fact>`; the properties below
    are shorthands for the facts most checks read.
    """

    __slots__ = ("_errors", "_once", "_settings", "files", "images", "params", "snapshot")

    def __init__(self, snapshot: Snapshot = EMPTY_SNAPSHOT, params: Params | None = None) -> None:
        self.snapshot = snapshot
        self.params = params if params is not None else Params()
        self.images: Mapping[str, ImageFacts] = {i.id: i for i in snapshot.images}
        self.files: Mapping[str, FileFacts] = {f.path: f for f in snapshot.files or ()}
        errors: dict[Fact, list[CollectionError]] = {}
        for e in snapshot.errors:
            errors.setdefault(e.fact, []).append(e)
        self._errors = errors
        self._settings: dict[str, Setting] = {}
        self._once: dict[Callable[[Context], Any], Any] = {}

    @property
    def engine(self) -> EngineFacts | None:
        return self.snapshot.engine

    @property
    def daemon(self) -> DaemonFacts | None:
        return self.snapshot.daemon

    @property
    def daemon_config(self) -> DaemonConfig | None:
        return self.snapshot.daemon_config

    @property
    def host(self) -> HostFacts | None:
        return self.snapshot.host

    @property
    def swarm(self) -> SwarmFacts | None:
        return self.snapshot.swarm

    @property
    def image_tags(self) -> Mapping[str, str]:
        return self.snapshot.image_tags

    @property
    def networks(self) -> tuple[NetworkFacts, ...]:
        return self.snapshot.networks

    def errors_of(self, fact: Fact) -> list[CollectionError]:
        return self._errors.get(fact, [])

    def why(self, fact: Fact, subject: str | None = None) -> str:
        """The recorded reason `fact` (of `subject`, or of anything when None) is missing."""
        for e in self._errors.get(fact, ()):
            if subject is None or e.subject in (subject, ""):
                where = f" ({e.subject})" if e.subject and subject is None else ""
                return f"{fact.value}{where} not collected: {e.why}"
        return f"{fact.value} not collected"

    def setting(self, key: str) -> Setting:
        """The daemon's effective value of option `key` (daemon.json name or flag), with its provenance."""
        found = self._settings.get(key)
        if found is None:
            found = self._settings[key] = daemon_setting(self.daemon_config, key, self.why(Fact.DAEMON_CONFIG))
        return found

    def once(self, derive: Callable[[Context], T]) -> T:
        """`derive(self)`, computed once per run: for what a check derives from the snapshot and the parameters
        alone (not from its subject), which every subject would otherwise recompute. The result is shared:
        return an immutable value."""
        if derive not in self._once:
            self._once[derive] = derive(self)
        value: T = self._once[derive]
        return value


def daemon_setting(config: DaemonConfig | None, key: str, why_missing: str) -> Setting:
    if config is None:
        return Setting(key=key, known=False, value=None, why=why_missing)
    from runbench.daemonconfig import lookup

    return lookup(config, key)


@dataclass(frozen=True, slots=True)
class DaemonView:
    """The daemon scope's subject: what the engine reports of itself, the dockerd process serving it (None
    when it is not visible from here) and the effective configuration (None when it could not be built)."""

    engine: EngineFacts
    process: DaemonFacts | None
    config: DaemonConfig | None
    config_why: str = ""  # why `config` is None

    def setting(self, key: str) -> Setting:
        return daemon_setting(self.config, key, self.config_why)


@dataclass(frozen=True, slots=True)
class Inventory:
    """The ops scope's subject: every container the engine lists (in scope or not) and every tagged image."""

    containers: tuple[ContainerSummary, ...]
    image_tags: Mapping[str, str]


F = TypeVar("F")
P = TypeVar("P")

CheckFn = Callable[[F, Context], Verdict]
PathsFn = Callable[[Context], Iterable[str]]


@dataclass(frozen=True, slots=True)
class Check(Generic[F]):
    meta: CheckMeta
    fn: Callable[[F, Context], Verdict]
    name: str  # the function's name: the id with '.' -> '_' (the catalog validates it)
    paths: PathsFn | None = None  # file checks: the host paths the check judges

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


class Declare(Generic[F]):
    """A scope's check decorator: `@container_check(id=..., ...)` over `def container_x(c, ctx)`."""

    __slots__ = ("scope",)

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def meta(
        self,
        *,
        id: str,
        title: str,
        severity: Severity,
        rationale: str,
        remediation: str,
        cis: Mapping[str, str] | None = None,
        level: int = 1,
        references: tuple[str, ...] = (),
    ) -> CheckMeta:
        return CheckMeta(
            id=id,
            title=title,
            scope=self.scope,
            severity=severity,
            cis=dict(cis or {}),
            level=level,
            rationale=rationale,
            remediation=remediation,
            references=references,
        )

    def __call__(
        self,
        *,
        id: str,
        title: str,
        severity: Severity,
        rationale: str,
        remediation: str,
        cis: Mapping[str, str] | None = None,
        level: int = 1,
        references: tuple[str, ...] = (),
    ) -> Callable[[CheckFn[F]], Check[F]]:
        meta = self.meta(
            id=id,
            title=title,
            severity=severity,
            rationale=rationale,
            remediation=remediation,
            cis=cis,
            level=level,
            references=references,
        )

        def wrap(fn: CheckFn[F]) -> Check[F]:
            return Check(meta=meta, fn=fn, name=getattr(fn, "__name__", ""))

        return wrap


host_check = Declare[HostFacts](Scope.HOST)
daemon_check = Declare[DaemonView](Scope.DAEMON)
image_check = Declare[ImageFacts](Scope.IMAGE)
container_check = Declare[ContainerFacts](Scope.CONTAINER)
ops_check = Declare[Inventory](Scope.OPS)
swarm_check = Declare[SwarmFacts](Scope.SWARM)
_FILE = Declare[FileFacts](Scope.FILE)


def file_check(
    *,
    id: str,
    title: str,
    severity: Severity,
    rationale: str,
    remediation: str,
    paths: PathsFn,
    cis: Mapping[str, str] | None = None,
    level: int = 1,
    references: tuple[str, ...] = (),
) -> Callable[[CheckFn[FileFacts]], Check[FileFacts]]:
    """Declare a check evaluated once per host path that `paths(ctx)` names (a pure function of the facts:
    e.g. the daemon's TLS key from its effective configuration). The collector stats every declared path."""
    meta = _FILE.meta(
        id=id,
        title=title,
        severity=severity,
        rationale=rationale,
        remediation=remediation,
        cis=cis,
        level=level,
        references=references,
    )

    def wrap(fn: CheckFn[FileFacts]) -> Check[FileFacts]:
        return Check(meta=meta, fn=fn, name=getattr(fn, "__name__", ""), paths=paths)

    return wrap


# --- families: a table of rows, one check per row ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row(Generic[P]):
    """One row of a family: a check's own metadata and the data the family's shared logic reads."""

    id: str
    title: str
    severity: Severity
    rationale: str
    remediation: str
    data: P
    cis: Mapping[str, str] | None = None
    level: int = 1
    references: tuple[str, ...] = ()
    paths: PathsFn | None = None  # file families: the paths this row's check judges


@dataclass(frozen=True, slots=True)
class RowFn(Generic[P, F]):
    """A family member's function: the shared logic bound to its row's data."""

    logic: Callable[[P, F, Context], Verdict]
    data: P

    def __call__(self, facts: F, ctx: Context) -> Verdict:
        return self.logic(self.data, facts, ctx)


def family(
    declare: Declare[F], rows: Iterable[Row[P]], logic: Callable[[P, F, Context], Verdict]
) -> tuple[Check[F], ...]:
    """Turn a table of rows into checks of `declare`'s scope: one per row, each with its own id, metadata
    and function name (the id with '.' -> '_', set explicitly and validated by the catalog), all running
    `logic(row.data, facts, ctx)`."""
    return tuple(
        Check(
            meta=declare.meta(
                id=row.id,
                title=row.title,
                severity=row.severity,
                rationale=row.rationale,
                remediation=row.remediation,
                cis=row.cis,
                level=row.level,
                references=row.references,
            ),
            fn=RowFn(logic, row.data),
            name=row.id.replace(".", "_"),
            paths=row.paths,
        )
        for row in rows
    )


# --- verdicts -------------------------------------------------------------------------------------


def _evidence(evidence: Mapping[str, object]) -> Evidence:
    # keyword arguments have str keys; most values are str already (this runs for every finding)
    return tuple([(k, v if type(v) is str else _fmt(v)) for k, v in evidence.items()])


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
