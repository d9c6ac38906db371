"""Renderers: golden files from one fixed Report (tests/render/fixture.py), compared whole; the terminal
report's shape (folding, worst-N tables, the verdict last, line-count targets); hostile host data stays inert.

UPDATE_GOLDEN=1 rewrites the golden files; review the diff before committing it.
"""

from __future__ import annotations

import io
import json
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest

from runbench.model import HostInfo, PolicyOutcome, Report, ReportError, Scope, ScoreCard, Status, Subject
from runbench.render import OutputFormat, RenderOptions, renderer, terminal
from runbench.render import json as json_render
from tests.render.fixture import MEM, WEB, finding, fixed_changes, fixed_report, hostile_report
from tests.render.generated import generated_report

GOLDEN = Path(__file__).with_name("golden")
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

HOSTILE = "[red]x[/red] \x1b[31mEVIL\x1b[0m \x1b]8;;http://evil\x07link\x1b]8;;\x07 \u202eevil"


def render_text(report: Report, *, verbose: bool = False, width: int = 80, **kwargs: object) -> str:
    buf = io.StringIO()
    terminal.render(report, terminal.make_console(buf, no_color=True, width=width), verbose=verbose, **kwargs)  # type: ignore[arg-type]
    return buf.getvalue()


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8"), f"{name} changed; UPDATE_GOLDEN=1 rewrites it after review"


# ---- golden files: one fixed Report, every format ------------------------------------------------------

GOLDENS = [
    ("report.txt", OutputFormat.TERMINAL, RenderOptions(width=80)),
    ("report-verbose.txt", OutputFormat.TERMINAL, RenderOptions(width=80, verbose=True, changes=None)),
    ("report.text.txt", OutputFormat.TEXT, RenderOptions(width=100)),
    ("report.json", OutputFormat.JSON, RenderOptions()),
    ("report.html", OutputFormat.HTML, RenderOptions()),
    ("report.xml", OutputFormat.JUNIT, RenderOptions()),
    ("report.sarif", OutputFormat.SARIF, RenderOptions()),
    ("report.prom", OutputFormat.PROMETHEUS, RenderOptions()),
    ("report.md", OutputFormat.MARKDOWN, RenderOptions()),
]


@pytest.mark.parametrize(("name", "fmt", "options"), GOLDENS, ids=[g[0] for g in GOLDENS])
def test_golden(name: str, fmt: OutputFormat, options: RenderOptions) -> None:
    with_changes = fmt in (OutputFormat.HTML, OutputFormat.MARKDOWN) or name == "report-verbose.txt"
    if with_changes:
        options = replace(options, changes=fixed_changes())
    rendered = renderer(fmt).render(fixed_report(), options)
    assert isinstance(rendered, str)
    check_golden(name, rendered)


def test_every_format_has_a_golden_file() -> None:
    assert {fmt for _, fmt, _ in GOLDENS} == set(OutputFormat)


def test_every_file_format_has_an_extension_and_a_renderer() -> None:
    for fmt in OutputFormat:
        assert renderer(fmt) is not None
        if fmt is not OutputFormat.TERMINAL:
            assert fmt.extensions, fmt
    assert OutputFormat.for_path("x/report.HTML") is OutputFormat.HTML
    assert OutputFormat.for_path("r.sarif") is OutputFormat.SARIF
    assert OutputFormat.for_path("r.prom") is OutputFormat.PROMETHEUS
    assert OutputFormat.for_path("r.xml") is OutputFormat.JUNIT
    assert OutputFormat.for_path("r.md") is OutputFormat.MARKDOWN
    assert OutputFormat.for_path("r.txt") is OutputFormat.TEXT
    assert OutputFormat.for_path("r.pdf") is None


def test_json_shape() -> None:
    data = json.loads(json_render.render(fixed_report()))
    assert data["schema"] == "runbench/report@1"
    assert data["benchmark"] == {"name": "CIS Docker Benchmark", "version": "1.8.0", "also": ["1.6.0"]}
    assert set(data["host"]) == {"hostname", "engine_version", "api_version", "os", "kernel"}
    assert data["score"]["total"] == 76.1 and data["score"]["grade"] == "D"
    assert data["score"]["containers"]["legacy"] == 40.7
    priv = next(r for r in data["results"] if r["check"] == "container.privileged" and r["status"] == "fail")
    assert priv["cis"] == {"1.8.0": "5.5", "1.6.0": "5.5"}
    assert priv["subject"] == {
        "kind": "container",
        "id": "0523456789ab",
        "name": "legacy",
        "key": "legacy",
        "image": "registry.example/legacy:0.9",
        "state": "exited",
    }
    assert priv["key"] == "container.privileged:legacy"
    assert priv["evidence"] == {"HostConfig.Privileged": "true"}
    assert len(data["results"]) == len(fixed_report().findings)


def test_json_without_results_is_valid() -> None:
    data = json.loads(json_render.render(replace(fixed_report(), findings=())))
    assert data["results"] == [] and data["schema"] == "runbench/report@1"


# ---- the terminal report --------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [80, 60, 120])
@pytest.mark.parametrize("verbose", [False, True])
def test_terminal_fits_the_width(width: int, verbose: bool) -> None:
    for line in render_text(fixed_report(), verbose=verbose, width=width, changes=fixed_changes()).splitlines():
        assert len(line) <= width, line


def test_failures_are_headed_by_the_problem() -> None:
    out = render_text(fixed_report(), width=120)
    assert "CRITICAL FAIL  Container is not privileged  container.privileged · CIS 5.5" in out
    assert "REVIEW  Only needed ports are published" in out
    assert out.index("CRITICAL FAIL") < out.index("MEDIUM FAIL")  # worst first


def test_identical_subjects_fold_into_one_line() -> None:
    out = render_text(fixed_report(), width=120)
    assert "    all 5 containers but worker: no memory limit  ·  HostConfig.Memory: 0" in out
    assert "    2 containers: db, legacy: runs as root" in out
    assert "2 images: postgres:16, registry.example/legacy:0.9: no USER: runs as root" in out
    assert out.count("no memory limit") == 1  # said once, not per container


def test_many_subjects_fold_with_a_count() -> None:
    out = render_text(generated_report(1000), width=200, target=10_000)  # room: nothing shrinks
    assert re.search(r"333 containers: svc-0001, svc-0004, svc-0007, … \(\+330\): no memory limit", out), out


def test_a_host_wide_reason_is_said_once() -> None:
    out = render_text(fixed_report(), verbose=True, width=120)
    assert out.count("no AppArmor on this host") == 1
    assert "container.apparmor on all 5 containers" in out


def test_the_verdict_is_repeated_as_the_last_lines() -> None:
    lines = render_text(fixed_report(), width=200).rstrip("\n").splitlines()
    assert lines[-3].startswith("Score      76.1/100 · grade D (capped at D by 1 critical failure(s); the score alone")
    assert lines[-2] == "Policy     NOT MET: 1 failure(s) at or above high (worst: critical)"
    assert lines[-1].startswith("INCOMPLETE 1 part(s) of the scan could not be collected")
    assert "INCOMPLETE" in "\n".join(lines[:14])  # and said first


def test_the_worst_subjects_are_listed_with_image_and_state() -> None:
    out = render_text(fixed_report(), width=120, worst=2)
    assert "Containers: the worst 2 of 5" in out
    row = next(line for line in out.splitlines() if line.startswith("legacy "))
    assert row.split()[:6] == ["legacy", "registry.example/legacy:0.9", "exited", "40.7", "F", "3"]
    assert "… 3 more containers (1 at 100): -v lists them" in out
    assert "\nworker " not in out  # at 100: only with -v
    assert "\nworker " in render_text(fixed_report(), width=120, verbose=True)


def test_the_previous_report_is_compared() -> None:
    out = render_text(fixed_report(), width=120, changes=fixed_changes())
    assert "Since the previous report (2026-11-21 03:30:00 UTC): score +3.3 · 1 new failure(s) · 1 fixed" in out
    assert "new  medium Container memory is limited: web" in out
    assert "fixed  medium Container runs as a non-root user: worker" in out
    assert "gone  critical Container is not privileged: old-job" in out


def test_quiet_prints_only_errors() -> None:
    buf = io.StringIO()
    terminal.render(fixed_report(), terminal.make_console(buf, no_color=True, width=120), quiet=True)
    out = buf.getvalue()
    assert "State.Pid 42 is not visible" in out and "container ghost not inspected" in out
    assert "container.privileged" not in out and "Score" not in out


@pytest.mark.parametrize(("n", "limit"), [(30, 120), (1000, 250)])
def test_line_count_targets(n: int, limit: int) -> None:
    """The default report of a 30-container host fits in 120 lines at 80 columns; 1,000 containers in 250."""
    out = renderer(OutputFormat.TERMINAL).render(generated_report(n), RenderOptions(width=80))
    lines = out.splitlines()
    assert len(lines) <= limit, f"{len(lines)} lines for {n} containers"
    assert all(len(line) <= 80 for line in lines)
    assert lines[-1].startswith("Policy") or lines[-1].startswith("INCOMPLETE") or "Policy" in lines[-2]
    assert "Containers: the worst 15 of" in out


def test_line_count_grows_with_checks_not_with_containers() -> None:
    small = renderer(OutputFormat.TERMINAL).render(generated_report(30), RenderOptions(width=80))
    big = renderer(OutputFormat.TERMINAL).render(generated_report(1000), RenderOptions(width=80))
    assert abs(len(big.splitlines()) - len(small.splitlines())) <= 10


@pytest.mark.parametrize(
    "report", [fixed_report, hostile_report, lambda: generated_report(30)], ids=["fixed", "hostile", "30"]
)
@pytest.mark.parametrize("verbose", [False, True])
def test_text_is_ascii_without_trailing_spaces_at_100_columns(report: object, verbose: bool) -> None:
    out = renderer(OutputFormat.TEXT).render(report(), RenderOptions(width=100, verbose=verbose))  # type: ignore[operator]
    assert isinstance(out, str)
    assert out.isascii()
    for line in out.split("\n"):
        assert line == line.rstrip(), repr(line)
        assert len(line) <= 100, line


def test_text_shows_non_ascii_host_text_escaped() -> None:
    report = replace(fixed_report(), notes=("café ☕ 容器",))
    out = renderer(OutputFormat.TEXT).render(report, RenderOptions(width=100))
    assert "caf\\xe9 \\u2615 \\u5bb9\\u5668" in out


def test_colour_is_only_in_the_terminal_format_with_color() -> None:
    plain = renderer(OutputFormat.TERMINAL).render(fixed_report(), RenderOptions(width=80, color=False))
    styled = renderer(OutputFormat.TERMINAL).render(fixed_report(), RenderOptions(width=80, color=True))
    assert "\x1b[" not in plain and "\x1b[" in styled


# ---- hostile strings in the terminal and JSON -----------------------------------------------------------


def _hostile_report() -> Report:
    bad = Subject(Scope.CONTAINER, "deadbeef0000", "evil" + HOSTILE, "evil" + HOSTILE)
    big = "A" * 1_000_000
    return replace(
        fixed_report(),
        findings=(
            *fixed_report().findings,
            finding(MEM, bad, Status.FAIL, HOSTILE, label=HOSTILE + big, **{HOSTILE: "v"}),
            finding(MEM, WEB, Status.PASS, HOSTILE, **{"Config.Healthcheck.Test": HOSTILE}),
        ),
    )


def test_hostile_strings_are_inert_in_plain_output() -> None:
    out = render_text(_hostile_report(), verbose=True)
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "[red]x[/red]" in out  # markup shown literally, not interpreted
    assert "\\x1b[31mEVIL" in out  # the escape is shown, escaped
    assert len(out) < 80_000  # the 1 MB label was cut
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


NASTY = (
    "\x1b[2J\x1b]0;title\x07 \x9b31m \x85 \u202eevil\u202c \u2066iso\u2069 zero\u200bwidth \ufeff\u00ad \u061c"
    "\u2028\u2029 \r\nFAKE \x00\x7f \U000e0041\udc80"
)
UNSAFE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
    "\U000e0000-\U000e007f\ud800-\udfff]"
)


def _nasty_report() -> Report:
    bad = Subject(Scope.CONTAINER, "deadbeef0000", "evil" + NASTY, "evil" + NASTY, (("image", "i" + NASTY),))
    report = replace(
        fixed_report(), findings=(*fixed_report().findings, finding(MEM, bad, Status.FAIL, NASTY, **{NASTY: NASTY}))
    )
    return replace(
        report,
        host=HostInfo("h" + NASTY, NASTY, NASTY, "os" + NASTY, NASTY),
        errors=(ReportError("container" + NASTY, "s" + NASTY, "w" + NASTY, "y" + NASTY),),
        notes=("note" + NASTY,),
        policy=PolicyOutcome(False, ("reason" + NASTY,)),
        subjects={Scope.CONTAINER: {"evil" + NASTY: ScoreCard(0.0, "F", 1, 1)}},
        collected_by="0.0.1" + NASTY,
        incomplete=("gap" + NASTY,),
    )


@pytest.mark.parametrize("color", [False, True])
@pytest.mark.parametrize("verbose", [False, True])
def test_every_report_string_is_inert_in_the_terminal(color: bool, verbose: bool) -> None:
    buf = io.StringIO()
    console = terminal.make_console(buf, no_color=not color, width=100, force_terminal=color)
    terminal.render(_nasty_report(), console, verbose=verbose, changes=fixed_changes())
    out = re.sub(r"\x1b\[[0-9;]*m", "", buf.getvalue())  # only the terminal renderer's own styles may remain
    found = UNSAFE.search(out)
    assert found is None, f"{found.group()!r}: {out[max(0, found.start() - 60) : found.start() + 20]!r}"
    shown = ["h\\x1b[2J", "note\\x1b[2J", "reason\\x1b[2J", "0.0.1\\x1b[2J", "gap\\x1b"]
    if verbose:  # without -v a long collection error is cut at the width
        shown += ["w\\x1b[2J", "y\\x1b[2J"]
    for text in shown:
        assert text in out, text
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
    with pytest.raises(ValueError, match="non-finite"):
        json_render.render(replace(fixed_report(), duration_s=bad))
    with pytest.raises(ValueError, match="non-finite"):
        json_render.render(replace(fixed_report(), total=ScoreCard(bad, "F", 1, 1)))
    with pytest.raises(ValueError, match="not JSON compliant"):
        json_render.dumps({"x": bad})


def test_an_incomplete_report_says_so_first_and_last_and_lists_the_gaps() -> None:
    gaps = ("container web not inspected: no complete answer within 10 s (--timeout)", "image 0123 not inspected: x")
    report = replace(fixed_report(), incomplete=gaps)
    text = render_text(report, width=200)
    assert "INCOMPLETE" in text and "2 part(s) of the scan could not be collected" in text
    assert all(g in text for g in gaps)
    assert text.rstrip().splitlines()[-1].startswith("INCOMPLETE 2 part(s)")
    quiet = io.StringIO()
    terminal.render(report, terminal.make_console(quiet, no_color=True, width=200), quiet=True)
    assert all(g in quiet.getvalue() for g in gaps)  # -q still says what is missing
    data = json.loads(json_render.render(report))
    assert data["complete"] is False and data["incomplete"] == list(gaps)


def test_many_gaps_are_listed_in_full_only_with_verbose() -> None:
    gaps = tuple(f"container c{i} not inspected: timeout" for i in range(40))
    report = replace(fixed_report(), incomplete=gaps)
    assert "… 35 more: -v lists them" in render_text(report, width=120)
    assert "container c39 not inspected" in render_text(report, width=120, verbose=True)
