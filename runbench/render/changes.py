"""What changed since a previous run: read a previous JSON report (schema runbench/report@1) and compare it
with this Report by the stable finding key (`check-id:subject-key`). Pure: the caller reads the file.

- new failures: findings that fail now and did not fail then (a new subject, or one that passed);
- fixed: findings that failed then and pass now;
- gone: findings that failed then and are not decided now (the subject was removed, or the check could not
  be evaluated or was not selected this time): not fixed, not failing either;
- the score then and now.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runbench.model import Finding, Report, Severity, Status

SCHEMA = "runbench/report@1"


class PreviousReportError(ValueError):
    """A previous report that cannot be used for a comparison: why, in words."""


@dataclass(frozen=True, slots=True)
class PreviousResult:
    key: str
    check: str
    title: str
    subject: str  # the subject's name
    kind: str
    status: Status
    severity: Severity


@dataclass(frozen=True, slots=True)
class PreviousRun:
    started_at: str
    hostname: str
    score: float | None
    grade: str
    results: Mapping[str, PreviousResult]  # by finding key


@dataclass(frozen=True, slots=True)
class Changes:
    previous: PreviousRun
    new_failures: tuple[Finding, ...]
    fixed: tuple[PreviousResult, ...]
    gone: tuple[PreviousResult, ...]
    still_failing: int
    score_now: float | None

    @property
    def score_delta(self) -> float | None:
        if self.previous.score is None or self.score_now is None:
            return None
        return round(self.score_now - self.previous.score, 1)

    @property
    def empty(self) -> bool:
        return not (self.new_failures or self.fixed or self.gone) and not self.score_delta


def _str(obj: Mapping[str, Any], name: str, where: str) -> str:
    value = obj.get(name, "")
    if not isinstance(value, str):
        raise PreviousReportError(f"{where}.{name} is not a string")
    return value


def parse_previous(text: str) -> PreviousRun:
    """The parts of a JSON report a comparison needs; PreviousReportError says why a text is not one."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise PreviousReportError(f"not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise PreviousReportError(f'not a runbench JSON report (no "schema": "{SCHEMA}")')
    score_obj = data.get("score")
    if not isinstance(score_obj, dict):
        raise PreviousReportError("score is missing")
    total = score_obj.get("total")
    if total is not None and (
        isinstance(total, bool) or not isinstance(total, int | float) or not math.isfinite(total)
    ):
        raise PreviousReportError("score.total is not a number")
    results_obj = data.get("results")
    if not isinstance(results_obj, list):
        raise PreviousReportError("results is not a list")
    results: dict[str, PreviousResult] = {}
    for i, r in enumerate(results_obj):
        where = f"results[{i}]"
        if not isinstance(r, dict):
            raise PreviousReportError(f"{where} is not an object")
        subject = r.get("subject")
        if not isinstance(subject, dict):
            raise PreviousReportError(f"{where}.subject is not an object")
        try:
            status = Status(_str(r, "status", where))
            severity = Severity(_str(r, "severity", where))
        except ValueError as exc:
            raise PreviousReportError(f"{where}: {exc}") from None
        key = _str(r, "key", where)
        results[key] = PreviousResult(
            key=key,
            check=_str(r, "check", where),
            title=_str(r, "title", where),
            subject=_str(subject, "name", where + ".subject"),
            kind=_str(subject, "kind", where + ".subject"),
            status=status,
            severity=severity,
        )
    host = data.get("host")
    return PreviousRun(
        started_at=_str(data, "started_at", "report"),
        hostname=_str(host, "hostname", "host") if isinstance(host, dict) else "",
        score=None if total is None else float(total),
        grade=_str(score_obj, "grade", "score"),
        results=results,
    )


def compare(report: Report, previous: PreviousRun) -> Changes:
    now: dict[str, Finding] = {f.key: f for f in report.findings}
    new_failures = tuple(
        f
        for f in report.findings
        if f.status is Status.FAIL
        and (f.key not in previous.results or previous.results[f.key].status is not Status.FAIL)
    )
    fixed: list[PreviousResult] = []
    gone: list[PreviousResult] = []
    still = 0
    for key, was in previous.results.items():
        if was.status is not Status.FAIL:
            continue
        current = now.get(key)
        if current is None or current.status not in (Status.PASS, Status.FAIL):
            gone.append(was)
        elif current.status is Status.PASS:
            fixed.append(was)
        else:
            still += 1
    return Changes(
        previous=previous,
        new_failures=new_failures,
        fixed=tuple(fixed),
        gone=tuple(gone),
        still_failing=still,
        score_now=report.total.score,
    )


def summary(changes: Changes, *, with_score: bool = True) -> str:
    """`score +2.1 · 3 new failure(s) · 1 fixed · 2 no longer judged`"""
    parts = []
    delta = changes.score_delta
    if with_score and delta is not None:
        parts.append(f"score {delta:+.1f}" if delta else "score unchanged")
    parts.append(f"{len(changes.new_failures)} new failure(s)")
    parts.append(f"{len(changes.fixed)} fixed")
    if changes.gone:
        parts.append(f"{len(changes.gone)} no longer judged")
    return " · ".join(parts)
