"""Scoring (DESIGN.md "Score") worked by hand, policy judgement, and evaluate() over a small snapshot.

Score = 100 × Σ w·value / Σ w over checks with at least one pass/fail subject, w = 10/5/3/1/0 for
critical/high/medium/low/info, value = fraction of the check's subjects that pass.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from builders import container, snapshot
from hypothesis import given, settings
from hypothesis import strategies as st

from runbench.authoring import Check, Context, container_check
from runbench.catalog import Catalog
from runbench.engine import evaluate, judge
from runbench.model import CheckMeta, Finding, Scope, Severity, Status, Subject, Verdict
from runbench.policy import Policy, Selection
from runbench.scoring import Tally, grade_for, score
from runbench.snapshot import ContainerFacts

P, F, M, S, E = Status.PASS, Status.FAIL, Status.MANUAL, Status.SKIP, Status.ERROR


def meta(id: str, severity: Severity) -> CheckMeta:
    return CheckMeta(
        id=id, title=id, scope=Scope.CONTAINER, severity=severity, cis={}, level=1, rationale="r", remediation="m"
    )


CRIT = meta("container.crit", Severity.CRITICAL)
HIGH = meta("container.high", Severity.HIGH)
MED = meta("container.med", Severity.MEDIUM)
LOW = meta("container.low", Severity.LOW)
INFO = meta("container.info", Severity.INFO)


def f(check: CheckMeta, status: Status, subject: str = "a", severity: Severity | None = None) -> Finding:
    return Finding(
        check=check,
        subject=Subject(Scope.CONTAINER, subject, subject, subject),
        status=status,
        detail="",
        evidence=(),
        severity=severity or check.severity,
    )


# --- the formula --------------------------------------------------------------------------------


def test_weights_are_10_5_3_1_0() -> None:
    assert [s.weight for s in Severity] == [10, 5, 3, 1, 0]
    assert [s.rank for s in Severity] == [4, 3, 2, 1, 0]


def test_all_pass_is_100_a() -> None:
    card = score([f(CRIT, P), f(HIGH, P), f(MED, P), f(LOW, P)])
    assert (card.score, card.grade, card.evaluated, card.selected) == (100.0, "A", 4, 4)


@pytest.mark.parametrize(
    ("findings", "expected"),
    [
        # high fails, medium passes: 3 / (5 + 3) = 37.5
        ([f(HIGH, F), f(MED, P)], 37.5),
        # medium fails, high passes: 5 / 8 = 62.5
        ([f(HIGH, P), f(MED, F)], 62.5),
        # low fails among critical+high+medium passes: 18 / 19 = 94.74 -> 94.7
        ([f(CRIT, P), f(HIGH, P), f(MED, P), f(LOW, F)], 94.7),
        # fraction of subjects: medium passes on 1 of 3 containers, low passes: (3·1/3 + 1) / 4 = 50
        ([f(MED, P, "a"), f(MED, F, "b"), f(MED, F, "c"), f(LOW, P)], 50.0),
        # high 2/3, medium 1/2: (5·2/3 + 3·1/2) / 8 = 4.8333/8 = 60.42 -> 60.4
        ([f(HIGH, P, "a"), f(HIGH, P, "b"), f(HIGH, F, "c"), f(MED, P, "a"), f(MED, F, "b")], 60.4),
        # info weighs nothing: a failing info check leaves 100
        ([f(LOW, P), f(INFO, F)], 100.0),
        # a single failing medium: 0
        ([f(MED, F)], 0.0),
    ],
)
def test_weighted_fraction(findings: list[Finding], expected: float) -> None:
    assert score(findings).score == expected


def test_manual_skip_and_error_do_not_count() -> None:
    decided = [f(HIGH, P), f(MED, F)]  # 62.5
    noise = [f(CRIT, E), f(CRIT, S, "b"), f(LOW, M), f(HIGH, M, "b"), f(MED, S, "c"), f(MED, E, "d")]
    card = score(decided + noise)
    assert card.score == 62.5
    # HIGH and MED are evaluated (each has a pass/fail subject); CRIT and LOW only have undecided findings
    assert (card.evaluated, card.selected) == (2, 4)
    assert card.coverage == 0.5


def test_coverage_counts_checks_not_findings() -> None:
    card = score([f(MED, P, "a"), f(MED, P, "b"), f(MED, P, "c"), f(LOW, S)])
    assert (card.evaluated, card.selected, card.coverage) == (1, 2, 0.5)


def test_nothing_decided_has_no_score() -> None:
    card = score([f(CRIT, S), f(MED, E), f(LOW, M)])
    assert (card.score, card.grade, card.evaluated, card.selected, card.coverage) == (None, "-", 0, 3, 0.0)
    empty = score([])
    assert (empty.score, empty.grade, empty.coverage) == (None, "-", 0.0)


def test_only_info_checks_decided_scores_their_plain_pass_fraction() -> None:
    other_info = meta("container.info2", Severity.INFO)
    assert score([f(INFO, P), f(other_info, F)]).score == 50.0


def test_a_critical_failure_caps_the_grade_at_d() -> None:
    # critical passes on 9 of 10 containers, high passes: (10·0.9 + 5) / 15 = 93.3 -> would be A
    findings = [f(CRIT, P, str(i)) for i in range(9)] + [f(CRIT, F, "9"), f(HIGH, P)]
    card = score(findings)
    assert card.score == 93.3
    assert card.grade == "D"


def test_a_critical_check_failing_at_a_lower_severity_does_not_cap() -> None:
    """A verdict may lower its finding's severity (a read-only sensitive mount is high): no cap then."""
    findings = [f(CRIT, P, str(i)) for i in range(9)] + [f(CRIT, F, "9", severity=Severity.HIGH), f(HIGH, P)]
    card = score(findings)
    assert (card.score, card.grade) == (93.3, "A")


def test_the_weight_is_the_checks_not_the_findings() -> None:
    # the critical check keeps weight 10 although its failing finding is high: (10·0.5 + 3) / 13 = 61.5
    card = score([f(CRIT, P, "a"), f(CRIT, F, "b", severity=Severity.HIGH), f(MED, P)])
    assert card.score == 61.5


@pytest.mark.parametrize(
    ("value", "grade"),
    [
        (100.0, "A"),
        (90.0, "A"),
        (89.9, "B"),
        (80.0, "B"),
        (79.9, "C"),
        (70.0, "C"),
        (69.9, "D"),
        (60.0, "D"),
        (59.9, "F"),
        (0.0, "F"),
    ],
)
def test_grade_boundaries(value: float, grade: str) -> None:
    assert grade_for(value, critical_failure=False) == grade


@pytest.mark.parametrize(("value", "grade"), [(100.0, "D"), (85.0, "D"), (75.0, "D"), (65.0, "D"), (59.9, "F")])
def test_critical_failure_grades(value: float, grade: str) -> None:
    assert grade_for(value, critical_failure=True) == grade


def test_grade_without_score() -> None:
    assert grade_for(None, critical_failure=True) == "-"


def test_score_is_rounded_before_grading() -> None:
    # 9 medium checks pass, one high passes on 0 of 1 and a low passes: (27 + 1) / 33 = 84.8 -> B
    checks = [meta(f"container.m{i}", Severity.MEDIUM) for i in range(9)]
    card = score([f(m, P) for m in checks] + [f(HIGH, F), f(LOW, P)])
    assert (card.score, card.grade) == (84.8, "B")


# --- judge: the run's policy --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fail_on", "findings", "met"),
    [
        (Severity.HIGH, [f(MED, F), f(HIGH, P)], True),  # a medium failure under fail-on high
        (Severity.HIGH, [f(HIGH, F)], False),
        (Severity.HIGH, [f(CRIT, F)], False),
        (Severity.MEDIUM, [f(MED, F)], False),
        (Severity.CRITICAL, [f(HIGH, F)], True),
        (Severity.CRITICAL, [f(CRIT, F, severity=Severity.HIGH)], True),  # the finding's severity decides
        (Severity.LOW, [f(INFO, F)], True),
        (Severity.INFO, [f(INFO, F)], False),
        (None, [f(CRIT, F), f(HIGH, F)], True),
        (Severity.HIGH, [f(CRIT, E), f(HIGH, M), f(HIGH, S)], True),  # only failures count
    ],
)
def test_fail_on(fail_on: Severity | None, findings: list[Finding], met: bool) -> None:
    outcome = judge(findings, score(findings).score, Policy(fail_on=fail_on))
    assert outcome.met is met
    assert len(outcome.reasons) == (0 if met else 1)


def test_fail_on_reason_names_count_and_worst() -> None:
    findings = [f(HIGH, F, "a"), f(CRIT, F, "b"), f(MED, F, "c")]
    outcome = judge(findings, 0.0, Policy(fail_on=Severity.HIGH))
    assert outcome.reasons == ("2 failure(s) at or above high (worst: critical)",)


@pytest.mark.parametrize(
    ("total", "min_score", "met"),
    [(80.0, 80.0, True), (79.9, 80.0, False), (100.0, None, True), (None, 50.0, False), (None, None, True)],
)
def test_min_score(total: float | None, min_score: float | None, met: bool) -> None:
    outcome = judge([], total, Policy(fail_on=None, min_score=min_score))
    assert outcome.met is met
    if not met:
        assert "below the minimum" in outcome.reasons[0]


def test_fail_on_error() -> None:
    findings = [f(MED, P), f(LOW, E)]
    assert judge(findings, 100.0, Policy(fail_on=None)).met
    outcome = judge(findings, 100.0, Policy(fail_on=None, fail_on_error=True))
    assert (outcome.met, outcome.reasons) == (False, ("1 check(s) could not be evaluated",))


def test_reasons_accumulate() -> None:
    findings = [f(HIGH, F), f(MED, E)]
    outcome = judge(findings, 0.0, Policy(fail_on=Severity.HIGH, min_score=50, fail_on_error=True))
    assert not outcome.met
    assert len(outcome.reasons) == 3


# --- evaluate: a two-container snapshot ---------------------------------------------------------

GOOD = container(id="1" * 64, name="good")
BAD = container(id="2" * 64, name="bad", memory=0)


@pytest.fixture(scope="module")
def containers_only(catalog: Catalog) -> Catalog:
    """The real container checks alone: the engine, host and file checks judge facts these snapshots leave out."""
    return Catalog(catalog.of_scope(Scope.CONTAINER))


def _policy(*include: str, exclude: tuple[str, ...] = (), **kw: object) -> Policy:
    return Policy(selection=Selection(include=frozenset(include), exclude=frozenset(exclude)), **kw)  # type: ignore[arg-type]


def test_one_finding_per_check_per_container(containers_only: Catalog) -> None:
    report = evaluate(containers_only, snapshot(GOOD, BAD), Policy())
    assert len(report.findings) == 2 * 39
    pairs = {(x.check.id, x.subject.name) for x in report.findings}
    assert len(pairs) == 78
    assert {x.subject.id for x in report.findings} == {"1" * 12, "2" * 12}
    assert len(report.checks) == 39


def test_per_container_per_section_and_total_scores(catalog: Catalog) -> None:
    # privileged (critical, 10) passes on both; memory_limit (medium, 3) passes on one of two
    report = evaluate(catalog, snapshot(GOOD, BAD), _policy("container.privileged", "container.memory_limit"))
    # total: (10·1 + 3·0.5) / 13 = 88.46 -> 88.5, B
    assert (report.total.score, report.total.grade) == (88.5, "B")
    assert report.containers["good"].score == 100.0
    # bad: (10·1 + 3·0) / 13 = 76.9, C
    assert (report.containers["bad"].score, report.containers["bad"].grade) == (76.9, "C")
    assert set(report.sections) == {"container"}
    assert report.sections["container"] == report.total
    assert report.policy.met  # a medium failure under the default fail-on high


def test_critical_failure_on_one_container(catalog: Catalog) -> None:
    worse = replace(BAD, privileged=True)
    report = evaluate(catalog, snapshot(GOOD, worse), _policy("container.privileged", "container.memory_limit"))
    # (10·0.5 + 3·0.5) / 13 = 50.0
    assert (report.total.score, report.total.grade) == (50.0, "F")
    assert report.containers["good"].grade == "A"
    assert not report.policy.met
    assert report.policy.reasons == ("1 failure(s) at or above high (worst: critical)",)


def test_selection_include_and_exclude(containers_only: Catalog) -> None:
    catalog = containers_only
    only = evaluate(catalog, snapshot(GOOD, BAD), _policy("container.memory_limit"))
    assert {x.check.id for x in only.findings} == {"container.memory_limit"}
    assert [m.id for m in only.checks] == ["container.memory_limit"]

    without = evaluate(catalog, snapshot(GOOD, BAD), _policy(exclude=("container.memory_limit", "container.user")))
    ids = {x.check.id for x in without.findings}
    assert "container.memory_limit" not in ids and "container.user" not in ids
    assert len(ids) == 37
    assert without.total.score == 100.0  # the only failure was excluded

    both = evaluate(
        catalog,
        snapshot(GOOD, BAD),
        _policy("container.memory_limit", "container.user", exclude=("container.memory_limit",)),
    )
    assert {x.check.id for x in both.findings} == {"container.user"}


def test_finding_severity_comes_from_the_verdict_override(catalog: Catalog) -> None:
    from builders import mount

    ro_etc = container(id="3" * 64, name="ro", mounts=(mount("/etc", rw=False),))
    report = evaluate(catalog, snapshot(ro_etc), _policy("container.sensitive_mounts", fail_on=Severity.CRITICAL))
    (finding,) = report.findings
    assert (finding.status, finding.severity, finding.check.severity) == (Status.FAIL, Severity.HIGH, Severity.CRITICAL)
    assert report.policy.met  # high is below fail-on critical
    assert report.total.grade == "F"  # 0 points, but not capped: no critical failure


def test_no_containers_means_no_score_and_a_note(containers_only: Catalog) -> None:
    report = evaluate(containers_only, snapshot(GOOD, containers=()), Policy())
    assert report.findings == ()
    assert (report.total.score, report.total.grade) == (None, "-")
    assert report.containers == {}
    assert report.notes[0].startswith("scanned 0 of 1 container(s) listed")
    assert report.policy.met


def test_scope_note_counts_unscanned_stopped_containers(catalog: Catalog) -> None:
    from runbench.snapshot import ContainerSummary

    inv = (
        ContainerSummary(GOOD.id, "good", "app", "running"),
        ContainerSummary("9" * 64, "old", "app", "exited"),
    )
    report = evaluate(catalog, snapshot(GOOD, inventory=inv), Policy())
    assert report.notes == (
        "scanned 1 of 2 container(s) listed (running containers)",
        "1 stopped or created container(s) not scanned: --all includes them",
    )


def test_a_raising_check_is_an_error_finding_and_the_run_goes_on() -> None:
    @container_check(id="container.boom", title="t", severity=Severity.HIGH, rationale="r", remediation="m")
    def container_boom(c: ContainerFacts, ctx: Context) -> Verdict:
        raise RuntimeError("kaput")

    @container_check(id="container.fine", title="t", severity=Severity.LOW, rationale="r", remediation="m")
    def container_fine(c: ContainerFacts, ctx: Context) -> Verdict:
        return Verdict(Status.PASS)

    checks: list[Check[ContainerFacts]] = [container_boom, container_fine]
    report = evaluate(Catalog(checks), snapshot(GOOD, BAD), Policy(fail_on_error=True))
    statuses = {(x.check.id, x.subject.name): x.status for x in report.findings}
    assert statuses == {
        ("container.boom", "good"): Status.ERROR,
        ("container.boom", "bad"): Status.ERROR,
        ("container.fine", "good"): Status.PASS,
        ("container.fine", "bad"): Status.PASS,
    }
    boom = next(x for x in report.findings if x.check.id == "container.boom")
    assert "container.boom raised RuntimeError: kaput" in boom.detail
    assert (report.total.score, report.total.evaluated, report.total.selected) == (100.0, 1, 2)
    assert report.policy.reasons == ("2 check(s) could not be evaluated",)


# --- the one-pass scoring of evaluate() equals score() of each group ------------------------------------

_METAS = [CRIT, HIGH, MED, LOW, INFO, replace(HIGH, id="image.high", scope=Scope.IMAGE)]
_FINDINGS = st.lists(
    st.builds(
        lambda m, status, subject, sev: f(m, status, subject, sev),
        st.sampled_from(_METAS),
        st.sampled_from([P, F, M, S, E]),
        st.sampled_from(["a", "b", "c"]),
        st.sampled_from([None, Severity.CRITICAL, Severity.LOW]),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None, database=None)
@given(_FINDINGS)
def test_one_pass_scoring_scores_like_score(findings: list[Finding]) -> None:
    total = Tally()
    subjects: dict[str, Tally] = {}
    for x in findings:
        total.add(x)
        subjects.setdefault(x.subject.name, Tally()).add(x)
    assert total.card() == score(findings)
    for scope in (Scope.CONTAINER, Scope.IMAGE):
        assert total.within(scope).card() == score(x for x in findings if x.check.scope is scope)
    for name, tally in subjects.items():
        assert tally.card() == score(x for x in findings if x.subject.name == name)
