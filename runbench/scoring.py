"""Pure scoring: weights by severity, a check's value is the fraction of its subjects that pass."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from runbench.model import CheckMeta, Finding, ScoreCard, Severity, Status

GRADES = ((90.0, "A"), (80.0, "B"), (70.0, "C"), (60.0, "D"))


def grade_for(score: float | None, critical_failure: bool) -> str:
    if score is None:
        return "-"
    grade = next((g for bound, g in GRADES if score >= bound), "F")
    if critical_failure and grade in ("A", "B", "C"):
        return "D"
    return grade


@dataclass(slots=True)
class CheckCount:
    """One check's findings counted: how many were decided (pass or fail), passed, and whether one failed at
    critical severity."""

    meta: CheckMeta
    decided: int = 0
    passes: int = 0
    critical: bool = False

    def add(self, f: Finding) -> bool:
        """Count `f`; whether it was decided."""
        status = f.status
        if status is Status.PASS:
            self.decided += 1
            self.passes += 1
            return True
        if status is Status.FAIL:
            self.decided += 1
            if f.severity is Severity.CRITICAL:
                self.critical = True
            return True
        return False


class Tally:
    """A score fed one finding at a time (so that the total, each section and each subject are scored in one
    pass over the findings): `Tally` over findings then `card()` is `score(findings)`."""

    __slots__ = ("_critical", "_decided", "_passes", "_weights")

    def __init__(self) -> None:
        self._passes: dict[str, int] = {}
        self._decided: dict[str, int] = {}
        self._weights: dict[str, int] = {}  # every check seen (selected), with its weight
        self._critical = False

    def add(self, f: Finding) -> None:
        check = f.check
        cid = check.id
        self._weights[cid] = _WEIGHT[check.severity]
        status = f.status
        if status is Status.PASS:
            self._decided[cid] = self._decided.get(cid, 0) + 1
            self._passes[cid] = self._passes.get(cid, 0) + 1
        elif status is Status.FAIL:
            self._decided[cid] = self._decided.get(cid, 0) + 1
            if f.severity is Severity.CRITICAL:
                self._critical = True

    @classmethod
    def of_checks(cls, counts: Iterable[CheckCount]) -> Tally:
        """The tally of findings already counted per check (`counts` in the order of each check's first decided
        finding, then the undecided ones: the order in which `add` would have met them)."""
        tally = cls()
        for c in counts:
            cid = c.meta.id
            tally._weights[cid] = _WEIGHT[c.meta.severity]
            if c.decided:
                tally._decided[cid] = c.decided
            if c.passes:
                tally._passes[cid] = c.passes
            tally._critical = tally._critical or c.critical
        return tally

    def card(self) -> ScoreCard:
        """Score = 100 × Σ w·value / Σ w over checks with at least one pass/fail subject."""
        decided, passes, weights = self._decided, self._passes, self._weights
        total_w = sum(weights[c] for c in decided)
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
            score=value, grade=grade_for(value, self._critical), evaluated=len(decided), selected=len(weights)
        )


_WEIGHT = {s: s.weight for s in Severity}


def score(findings: Iterable[Finding]) -> ScoreCard:
    """Score = 100 × Σ w·value / Σ w over checks with at least one pass/fail subject."""
    tally = Tally()
    for f in findings:
        tally.add(f)
    return tally.card()
