"""Pure scoring: weights by severity, a check's value is the fraction of its subjects that pass."""

from __future__ import annotations

from collections.abc import Iterable

from runbench.model import CheckMeta, Finding, Scope, ScoreCard, Severity, Status

GRADES = ((90.0, "A"), (80.0, "B"), (70.0, "C"), (60.0, "D"))


def grade_for(score: float | None, critical_failure: bool) -> str:
    if score is None:
        return "-"
    grade = next((g for bound, g in GRADES if score >= bound), "F")
    if critical_failure and grade in ("A", "B", "C"):
        return "D"
    return grade


class Tally:
    """A score fed one finding at a time (so that the total, each section and each subject are scored in one
    pass over the findings): `Tally` over findings then `card()` is `score(findings)`."""

    __slots__ = ("_checks", "_critical", "_decided", "_passes")

    def __init__(self) -> None:
        self._passes: dict[str, int] = {}
        self._decided: dict[str, int] = {}  # in the order of each check's first decided finding
        self._checks: dict[str, CheckMeta] = {}  # every check seen (selected)
        self._critical: set[str] = set()  # the checks with a failure at critical severity

    def add(self, f: Finding) -> None:
        self.add_all((f,))

    def add_all(self, findings: Iterable[Finding]) -> None:
        """`add` of each finding in turn (the run's tally takes tens of thousands: one call for them all)."""
        checks, decided, passes, critical = self._checks, self._decided, self._passes, self._critical
        passed, failed, crit = Status.PASS, Status.FAIL, Severity.CRITICAL
        for f in findings:
            check = f.check
            cid = check.id
            checks[cid] = check
            status = f.status
            if status is passed:
                decided[cid] = decided.get(cid, 0) + 1
                passes[cid] = passes.get(cid, 0) + 1
            elif status is failed:
                decided[cid] = decided.get(cid, 0) + 1
                if f.severity is crit:
                    critical.add(cid)

    def within(self, scope: Scope) -> Tally:
        """The tally of the findings of `scope`'s checks only, as if only they had been added."""
        part = Tally()
        part._checks = {c: m for c, m in self._checks.items() if m.scope is scope}
        part._decided = {c: n for c, n in self._decided.items() if c in part._checks}
        part._passes = {c: n for c, n in self._passes.items() if c in part._checks}
        part._critical = {c for c in self._critical if c in part._checks}
        return part

    def card(self) -> ScoreCard:
        """Score = 100 × Σ w·value / Σ w over checks with at least one pass/fail subject."""
        decided, passes = self._decided, self._passes
        weights = {c: _WEIGHT[self._checks[c].severity] for c in decided}
        total_w = sum(weights.values())
        value: float | None
        if not decided:
            value = None
        elif total_w == 0:  # only info checks were decided
            value = 100.0 * sum(passes.get(c, 0) / decided[c] for c in decided) / len(decided)
        else:
            value = 100.0 * sum(weights[c] * passes.get(c, 0) / decided[c] for c in decided) / total_w
        if value is not None:
            value = round(value, 1)
        return ScoreCard(
            score=value,
            grade=grade_for(value, bool(self._critical)),
            evaluated=len(decided),
            selected=len(self._checks),
        )


_WEIGHT = {s: s.weight for s in Severity}


def score(findings: Iterable[Finding]) -> ScoreCard:
    """Score = 100 × Σ w·value / Σ w over checks with at least one pass/fail subject."""
    tally = Tally()
    tally.add_all(findings)
    return tally.card()
