"""Renderers: golden files from one fixed Report, compared whole; hostile host data stays inert."""

from __future__ import annotations

import io
import json
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest

from runbench.model import (
    CheckMeta,
    Finding,
    HostInfo,
    PolicyOutcome,
    Report,
    ReportError,
    Scope,
    ScoreCard,
    Severity,
    Status,
    Subject,
)
from runbench.render import json as json_render
from runbench.render import terminal

GOLDEN = Path(__file__).with_name("golden")
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

HOSTILE = "[red]x[/red] \x1b[31mEVIL\x1b[0m \x1b]8;;http://evil\x07link\x1b]8;;\x07 \u202eevil"


def meta(id: str, severity: Severity, cis: str | None = None) -> CheckMeta:
    return CheckMeta(
        id=id,
        title=f"Title of {id}",
        scope=Scope.CONTAINER,
        severity=severity,
        cis={"1.8.0": cis, "1.6.0": cis} if cis else {},
        level=1,
        rationale="Because.",
        remediation=f"Fix {id} like this.",
    )


PRIV = meta("container.privileged", Severity.CRITICAL, "5.5")
MEM = meta("container.memory_limit", Severity.MEDIUM, "5.11")
PORTS = meta("container.open_ports", Severity.LOW, "5.9")
SSHD = meta("container.sshd", Severity.MEDIUM, "5.7")
WEB = Subject(Scope.CONTAINER, "0123456789ab", "web", "web")
DB = Subject(Scope.CONTAINER, "ba9876543210", "db", "db")


def finding(m: CheckMeta, s: Subject, status: Status, detail: str = "", **ev: str) -> Finding:
    return Finding(m, s, status, detail, tuple(ev.items()), m.severity)


def fixed_report(extra: tuple[Finding, ...] = ()) -> Report:
    findings = (
        finding(PRIV, WEB, Status.FAIL, "runs with --privileged", **{"HostConfig.Privileged": "true"}),
        finding(PRIV, DB, Status.PASS),
        finding(MEM, WEB, Status.PASS, "512 MiB", **{"HostConfig.Memory": "536870912"}),
        finding(MEM, DB, Status.FAIL, "no memory limit", **{"HostConfig.Memory": "0"}),
        finding(PORTS, WEB, Status.MANUAL, "review 1 published port(s)", ports="[127.0.0.1:8080->80/tcp]"),
        finding(PORTS, DB, Status.PASS, "no published ports"),
        finding(SSHD, WEB, Status.ERROR, "processes not collected: State.Pid 42 is not visible"),
        finding(SSHD, DB, Status.SKIP, "container is exited: no processes to inspect"),
        *extra,
    )
    return Report(
        runbench_version="0.1.0",
        host=HostInfo("host1", "24.0.7", "1.43", "Debian GNU/Linux 12 (bookworm)", "6.1.0"),
        started_at="2026-11-22T00:00:00+00:00",
        duration_s=0.42,
        checks=(PRIV, MEM, PORTS, SSHD),
        findings=findings,
        total=ScoreCard(61.5, "D", 3, 4),
        sections={Scope.CONTAINER: ScoreCard(61.5, "D", 3, 4)},
        subjects={Scope.CONTAINER: {"web": ScoreCard(23.1, "D", 2, 4), "db": ScoreCard(76.9, "C", 2, 4)}},
        errors=(ReportError("container", "0123456789ab" * 5 + "cdef", "processes", "State.Pid 42 is not visible"),),
        notes=("scanned 2 of 3 container(s) listed (running containers)",),
        policy=PolicyOutcome(False, ("1 failure(s) at or above high (worst: critical)",)),
    )


def render_text(report: Report, *, verbose: bool = False, width: int = 80) -> str:
    buf = io.StringIO()
    terminal.render(report, terminal.make_console(buf, no_color=True, width=width), verbose=verbose)
    return buf.getvalue()


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8"), f"{name} changed; UPDATE_GOLDEN=1 rewrites it after review"


def test_terminal_golden() -> None:
    check_golden("report.txt", render_text(fixed_report()))


def test_terminal_verbose_golden() -> None:
    check_golden("report-verbose.txt", render_text(fixed_report(), verbose=True))


def test_json_golden() -> None:
    check_golden("report.json", json_render.render(fixed_report()))


def test_json_shape() -> None:
    data = json.loads(json_render.render(fixed_report()))
    assert data["schema"] == "runbench/report@1"
    assert data["benchmark"] == {"name": "CIS Docker Benchmark", "version": "1.8.0", "also": ["1.6.0"]}
    assert set(data["host"]) == {"hostname", "engine_version", "api_version", "os", "kernel"}
    assert data["score"]["total"] == 61.5 and data["score"]["grade"] == "D"
    assert data["score"]["containers"] == {"web": 23.1, "db": 76.9}
    first = data["results"][0]
    assert first["check"] == "container.privileged"
    assert first["cis"] == {"1.8.0": "5.5", "1.6.0": "5.5"}
    assert first["subject"] == {"kind": "container", "id": "0123456789ab", "name": "web", "key": "web"}
    assert first["key"] == "container.privileged:web"
    assert first["evidence"] == {"HostConfig.Privileged": "true"}
    assert len(data["results"]) == 8


@pytest.mark.parametrize("width", [80, 60, 120])
def test_terminal_fits_the_width(width: int) -> None:
    for line in render_text(fixed_report(), verbose=True, width=width).splitlines():
        assert len(line) <= width, line


def _hostile_report() -> Report:
    bad = Subject(Scope.CONTAINER, "deadbeef0000", "evil" + HOSTILE, "evil" + HOSTILE)
    big = "A" * 1_000_000
    return fixed_report(
        (
            finding(MEM, bad, Status.FAIL, HOSTILE, label=HOSTILE + big, **{HOSTILE: "v"}),
            finding(PORTS, bad, Status.PASS, HOSTILE, **{"Config.Healthcheck.Test": HOSTILE}),
        )
    )


def test_hostile_strings_are_inert_in_plain_output() -> None:
    out = render_text(_hostile_report(), verbose=True)
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "[red]x[/red]" in out  # markup shown literally, not interpreted
    assert "\\x1b[31mEVIL" in out  # the escape is shown, escaped
    assert len(out) < 60_000  # the 1 MB label was cut
    assert "chars)" in out


def test_hostile_strings_are_inert_in_colour_output() -> None:
    buf = io.StringIO()
    console = terminal.make_console(buf, no_color=False, width=80, force_terminal=True)
    terminal.render(_hostile_report(), console, verbose=True)
    out = buf.getvalue()
    assert "\x1b[" in out  # rich's own styling is present...
    assert "\x1b[31mEVIL" not in out and "\x1b]8;;http://evil" not in out  # ...the host's escapes are not
    assert "[red]x[/red]" in out


def test_hostile_strings_round_trip_in_json() -> None:
    data = json.loads(json_render.render(_hostile_report()))
    hostile = [r for r in data["results"] if r["subject"]["id"] == "deadbeef0000"]
    assert hostile[0]["detail"] == HOSTILE  # JSON keeps the exact value, escaped by the encoder
    raw = json_render.render(_hostile_report())
    assert "\x1b" not in raw and "\x07" not in raw


def test_clean_is_inert_with_the_field_limit() -> None:
    assert terminal.clean("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert terminal.clean("a\nb\tc") == "a\\nb\\tc"  # one line: a tab is shown, not turned into a space
    assert terminal.clean("y" * 300) == "y" * terminal.MAX_FIELD + "…(+60 chars)"
    assert terminal.clean("x" * 300, limit=10) == "x" * 10 + "…(+290 chars)"
    assert terminal.clean("\u202edir") == "\\u202edir"


def test_quiet_prints_only_errors() -> None:
    buf = io.StringIO()
    terminal.render(fixed_report(), terminal.make_console(buf, no_color=True, width=80), quiet=True)
    out = buf.getvalue()
    assert "State.Pid 42 is not visible" in out
    assert "container.privileged" not in out and "Score" not in out


def test_json_without_results_is_valid() -> None:
    from dataclasses import replace

    data = json.loads(json_render.render(replace(fixed_report(), findings=())))
    assert data["results"] == [] and data["schema"] == "runbench/report@1"


NASTY = (
    "\x1b[2J\x1b]0;title\x07 \x9b31m \x85 \u202eevil\u202c \u2066iso\u2069 zero\u200bwidth \ufeff\u00ad \u061c"
    "\u2028\u2029 \r\nFAKE \x00\x7f \U000e0041\udc80"
)
UNSAFE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
    "\U000e0000-\U000e007f\ud800-\udfff]"
)


def _nasty_report() -> Report:
    from dataclasses import replace

    bad = Subject(Scope.CONTAINER, "deadbeef0000", "evil" + NASTY, "evil" + NASTY)
    report = fixed_report((finding(MEM, bad, Status.FAIL, NASTY, **{NASTY: NASTY}),))
    return replace(
        report,
        host=HostInfo("h" + NASTY, NASTY, NASTY, "os" + NASTY, NASTY),
        errors=(ReportError("container" + NASTY, "s" + NASTY, "w" + NASTY, "y" + NASTY),),
        notes=("note" + NASTY,),
        policy=PolicyOutcome(False, ("reason" + NASTY,)),
        subjects={Scope.CONTAINER: {"evil" + NASTY: ScoreCard(0.0, "F", 1, 1)}},
        collected_by="0.0.1" + NASTY,
    )


@pytest.mark.parametrize("color", [False, True])
def test_every_report_string_is_inert_in_the_terminal(color: bool) -> None:
    buf = io.StringIO()
    console = terminal.make_console(buf, no_color=not color, width=100, force_terminal=color)
    terminal.render(_nasty_report(), console, verbose=True)
    out = re.sub(r"\x1b\[[0-9;]*m", "", buf.getvalue())  # only the terminal renderer's own styles may remain
    found = UNSAFE.search(out)
    assert found is None, f"{found.group()!r}: {out[max(0, found.start() - 60) : found.start() + 20]!r}"
    for shown in ("h\\x1b[2J", "note\\x1b[2J", "reason\\x1b[2J", "y\\x1b[2J", "w\\x1b[2J", "0.0.1\\x1b[2J"):
        assert shown in out, shown
    assert "\\U000e0041\\udc80" in out
    out.encode("utf-8")  # no lone surrogate left


def test_the_json_report_is_ascii_and_round_trips_every_string() -> None:
    raw = json_render.render(_nasty_report())
    assert raw.isascii()
    data = json.loads(raw)
    assert data["host"]["hostname"] == "h" + NASTY
    assert data["policy"]["reasons"] == ["reason" + NASTY]
    assert data["errors"][0]["why"] == "y" + NASTY


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_a_non_finite_number_is_never_written_as_json(bad: float) -> None:
    from dataclasses import replace

    with pytest.raises(ValueError, match="non-finite"):
        json_render.render(replace(fixed_report(), duration_s=bad))
    with pytest.raises(ValueError, match="non-finite"):
        json_render.render(replace(fixed_report(), total=ScoreCard(bad, "F", 1, 1)))
    with pytest.raises(ValueError, match="not JSON compliant"):
        json_render.dumps({"x": bad})


def test_an_incomplete_report_says_so_first_and_lists_the_gaps() -> None:
    gaps = ("container web not inspected: no complete answer within 10 s (--timeout)", "image 0123 not inspected: x")
    report = replace(fixed_report(), incomplete=gaps)
    buf = io.StringIO()
    terminal.render(report, terminal.make_console(buf, no_color=True, width=200))
    text = buf.getvalue()
    assert "INCOMPLETE" in text and "2 part(s) of the scan could not be collected" in text
    assert all(g in text for g in gaps)
    quiet = io.StringIO()
    terminal.render(report, terminal.make_console(quiet, no_color=True, width=200), quiet=True)
    assert all(g in quiet.getvalue() for g in gaps)  # -q still says what is missing
    data = json.loads(json_render.render(report))
    assert data["complete"] is False and data["incomplete"] == list(gaps)
