"""The vocabulary of a run: statuses, severities, check metadata, verdicts, findings, the report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from runbench.frozen import fast_init


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    MANUAL = "manual"
    SKIP = "skip"
    ERROR = "error"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: info 0 … critical 4."""
        return _SEVERITY_RANK[self]

    @property
    def weight(self) -> int:
        """Weight of a check of this severity in the score."""
        return _SEVERITY_WEIGHT[self]


_SEVERITY_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}
_SEVERITY_WEIGHT = {
    Severity.CRITICAL: 10,
    Severity.HIGH: 5,
    Severity.MEDIUM: 3,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


class Scope(StrEnum):
    """What a check is evaluated on; also the report section it belongs to."""

    HOST = "host"
    DAEMON = "daemon"
    FILE = "file"
    IMAGE = "image"
    CONTAINER = "container"
    OPS = "ops"
    SWARM = "swarm"


SECTION_TITLES: Mapping[Scope, str] = {
    Scope.HOST: "Host configuration",
    Scope.DAEMON: "Docker daemon configuration",
    Scope.FILE: "Docker daemon files",
    Scope.IMAGE: "Images",
    Scope.CONTAINER: "Container runtime",
    Scope.OPS: "Security operations",
    Scope.SWARM: "Swarm",
}

Evidence = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class CheckMeta:
    id: str
    title: str
    scope: Scope
    severity: Severity
    cis: Mapping[str, str]
    level: int
    rationale: str
    remediation: str
    references: tuple[str, ...] = ()


@fast_init
@dataclass(frozen=True, slots=True)
class Verdict:
    """What a check decided about one subject. Built only through the authoring helpers."""

    status: Status
    detail: str = ""
    evidence: Evidence = ()
    severity: Severity | None = None  # overrides the check's severity for this finding (e.g. ro vs rw)

    def at(self, severity: Severity) -> Verdict:
        """The same verdict at another severity than the check's."""
        return Verdict(self.status, self.detail, self.evidence, severity)


@dataclass(frozen=True, slots=True)
class Benchmark:
    name: str
    version: str  # the version whose numbers the report shows
    also: tuple[str, ...]  # older versions whose numbers each check records too


BENCHMARK = Benchmark(name="CIS Docker Benchmark", version="1.8.0", also=("1.6.0",))


@fast_init
@dataclass(frozen=True, slots=True)
class Subject:
    """What a finding is about. `key` is stable across runs (container name, image repository:tag or id,
    file path, or the scope name for host/daemon/ops/swarm): waivers, baselines and diffs use it."""

    kind: Scope
    id: str  # container short id, image short id, file path, "" for one-of-a-kind subjects
    name: str  # what a person reads: container name, image tag, path, host name
    key: str
    attrs: tuple[tuple[str, str], ...] = ()  # what reports show beside the name (a container's image, state)

    def attr(self, name: str) -> str:
        return next((v for k, v in self.attrs if k == name), "")


@fast_init
@dataclass(frozen=True, slots=True)
class Finding:
    check: CheckMeta
    subject: Subject
    status: Status
    detail: str
    evidence: Evidence
    severity: Severity

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL

    @property
    def key(self) -> str:
        """Stable finding key: `check-id:subject-key` (check ids never contain a colon)."""
        return f"{self.check.id}:{self.subject.key}"


@dataclass(frozen=True, slots=True)
class HostInfo:
    hostname: str
    engine_version: str
    api_version: str
    os: str
    kernel: str


@dataclass(frozen=True, slots=True)
class ScoreCard:
    """A score over a set of findings: None when nothing was evaluated."""

    score: float | None
    grade: str
    evaluated: int  # checks with at least one pass/fail subject
    selected: int  # checks that produced findings in this set

    @property
    def coverage(self) -> float:
        return self.evaluated / self.selected if self.selected else 0.0


@dataclass(frozen=True, slots=True)
class ReportError:
    """A collection problem, carried into the report."""

    area: str
    subject: str
    what: str
    why: str


@dataclass(frozen=True, slots=True)
class Report:
    runbench_version: str  # the runbench that evaluated
    host: HostInfo
    started_at: str
    duration_s: float
    checks: tuple[CheckMeta, ...]  # the selected checks, catalog order
    findings: tuple[Finding, ...]
    total: ScoreCard
    sections: Mapping[Scope, ScoreCard]
    subjects: Mapping[Scope, Mapping[str, ScoreCard]]  # per container and per image, by subject name
    errors: tuple[ReportError, ...]
    notes: tuple[str, ...] = ()  # what the scope was, said in words ("no containers in scope: …")
    policy: PolicyOutcome = field(default_factory=lambda: PolicyOutcome(met=True, reasons=()))
    collected_by: str = ""  # the runbench that collected the facts, when not the one that evaluated
    incomplete: tuple[str, ...] = ()  # what the engine failed to give (subjects in scope left unchecked)

    @property
    def containers(self) -> Mapping[str, ScoreCard]:
        return self.subjects.get(Scope.CONTAINER, {})

    @property
    def images(self) -> Mapping[str, ScoreCard]:
        return self.subjects.get(Scope.IMAGE, {})

    def count(self, status: Status) -> int:
        return sum(1 for f in self.findings if f.status is status)


@dataclass(frozen=True, slots=True)
class PolicyOutcome:
    met: bool
    reasons: tuple[str, ...]
