"""Pure scoring: weights by severity, a check's value is the fraction of its subjects that pass."""

from __future__ import annotations

from collections.abc import Iterable

from runbench.model import Finding, ScoreCard, Severity, Status

GRADES = ((90.0, "A"), (80.0, "B"), (70.0, "C"), (60.0, "D"))


def grade_for(score: float | None, critical_failure: bool) -> str:
    if score is None:
        return "-"
    grade = next((g for bound, g in GRADES if score >= bound), "F")
    if critical_failure and grade in ("A", "B", "C"):
        return "D"
    return grade


def score(findings: Iterable[Finding]) -> ScoreCard:
    """Score = 100 × Σ w·value / Σ w over checks with at least one pass/fail subject."""
    passes: dict[str, int] = {}
    decided: dict[str, int] = {}
    weights: dict[str, int] = {}
    selected: set[str] = set()
    critical_failure = False
    for f in findings:
        cid = f.check.id
        selected.add(cid)
        weights[cid] = f.check.severity.weight
        if f.status in (Status.PASS, Status.FAIL):
            decided[cid] = decided.get(cid, 0) + 1
            if f.status is Status.PASS:
                passes[cid] = passes.get(cid, 0) + 1
            elif f.severity is Severity.CRITICAL:
                critical_failure = True
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
        score=value, grade=grade_for(value, critical_failure), evaluated=len(decided), selected=len(selected)
    )
