"""Prometheus text exposition (`.prom`) for node_exporter's textfile collector.

Every metric has HELP and TYPE lines and no sample timestamps (the collector refuses them). Series are
stable from run to run: every status x severity and every selected check has a sample, zero included.
Label values are made inert (runbench.textsafe: no control characters, no lone surrogates) and escaped as
the exposition format says (backslash, double quote, newline). A metric without a value (no score when
nothing was evaluated) has no sample rather than NaN. The file is written atomically like every report
(runbench.output.write_atomic), so the collector never reads half of it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

from runbench.model import BENCHMARK, Report, Scope, Severity, Status
from runbench.render import RenderOptions
from runbench.textsafe import inert

LABEL_FIELD = 256


def label(value: str) -> str:
    return inert(value, LABEL_FIELD).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    inner = ",".join(f'{k}="{label(v)}"' for k, v in pairs)
    return "{" + inner + "}" if inner else ""


def _number(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError(f"the report holds a non-finite number: {value!r}")
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def _epoch(started_at: str) -> float | None:
    try:
        return datetime.fromisoformat(started_at.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class _Out:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def metric(
        self, name: str, kind: str, help_text: str, samples: Iterable[tuple[Iterable[tuple[str, str]], float]]
    ) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")
        self.lines.extend(f"{name}{_labels(labels)} {_number(value)}" for labels, value in samples)


def render(report: Report) -> str:
    out = _Out()
    total = report.total.score
    out.metric(
        "runbench_score",
        "gauge",
        "Score of the last run, 0-100 (severity-weighted share of passing subjects).",
        [((), total)] if total is not None else [],
    )
    out.metric(
        "runbench_score_section",
        "gauge",
        "Score of each section (scope) of the last run, 0-100.",
        [
            ((("section", scope.value),), card.score)
            for scope, card in report.sections.items()
            if card.score is not None
        ],
    )
    counts = {(s, v): 0 for s in Status for v in Severity}
    failing: dict[str, int] = {m.id: 0 for m in report.checks}
    severity_of = {m.id: m.severity for m in report.checks}
    for f in report.findings:
        counts[(f.status, f.severity)] += 1
        if f.status is Status.FAIL:
            failing[f.check.id] = failing.get(f.check.id, 0) + 1
            severity_of.setdefault(f.check.id, f.check.severity)
    out.metric(
        "runbench_findings",
        "gauge",
        "Findings (check x subject results) of the last run by status and severity.",
        [((("status", s.value), ("severity", v.value)), n) for (s, v), n in counts.items()],
    )
    out.metric(
        "runbench_check_failed",
        "gauge",
        "Subjects failing each selected check in the last run (0: none fails).",
        [((("check", cid), ("severity", severity_of[cid].value)), n) for cid, n in failing.items()],
    )
    for kind, metric, noun in (
        (Scope.CONTAINER, "runbench_container_score", "container"),
        (Scope.IMAGE, "runbench_image_score", "image"),
    ):
        out.metric(
            metric,
            "gauge",
            f"Score of each {noun} in scope of the last run, 0-100.",
            [
                (((noun, name),), card.score)
                for name, card in report.subjects.get(kind, {}).items()
                if card.score is not None
            ],
        )
    when = _epoch(report.started_at)
    out.metric(
        "runbench_last_run_timestamp_seconds",
        "gauge",
        "When the last run started, in seconds since the epoch.",
        [((), when)] if when is not None else [],
    )
    out.metric(
        "runbench_scan_duration_seconds", "gauge", "How long collecting the facts took.", [((), report.duration_s)]
    )
    out.metric(
        "runbench_run_incomplete",
        "gauge",
        "1 when part of the scan could not be collected (the score covers only what was), else 0.",
        [((), 1 if report.incomplete else 0)],
    )
    out.metric(
        "runbench_policy_met",
        "gauge",
        "1 when the last run met its policy (--fail-on, --min-score), else 0.",
        [((), 1 if report.policy.met else 0)],
    )
    out.metric(
        "runbench_info",
        "gauge",
        "The runbench version and the benchmark of the last run (value 1).",
        [((("version", report.runbench_version), ("benchmark", f"{BENCHMARK.name} v{BENCHMARK.version}")), 1)],
    )
    return "\n".join(out.lines) + "\n"


class PrometheusRenderer:
    def render(self, report: Report, options: RenderOptions) -> str:
        return render(report)
