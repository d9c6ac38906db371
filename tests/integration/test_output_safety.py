"""Secrets never leave the host in any output; hostile labels and health output cannot drive the terminal.

Fake secrets are planted in every free-text field the engine reports: rbt-envsecret's environment, and on
rbt-secrets (tests/support/scenarios.py) its environment, labels (an innocent key with a token as value, a
secret-looking key, a URL with a password), healthcheck (`PGPASSWORD=… false || curl -H 'Authorization: Bearer …'`)
and command (`--password=…`, a URL with a password); its image (runbench-test/secrets:1) carries more in a
build ARG of its history, an ENV, labels, its HEALTHCHECK and CMD. No output may hold an 8-character
fragment of any of them: terminal, JSON, every report file, the snapshot.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runbench.render import OutputFormat
from tests.support.runner import SELECTION, Run, container_results, explain, find_result, run_runbench
from tests.support.scenarios import SECRET_KEYS, SECRET_VALUES, ScenarioSet

pytestmark = pytest.mark.integration

ESC = "\x1b"


def leaked_fragments(text: str, min_len: int = 8) -> list[str]:
    """Every 8-char window of a secret value found in ``text`` (a longer leak contains one of them)."""
    variants = {text, text.replace("\\/", "/")}  # JSON may escape slashes
    found = []
    for value in SECRET_VALUES:
        for i in range(len(value) - min_len + 1):
            fragment = value[i : i + min_len]
            if any(fragment in v for v in variants):
                found.append(fragment)
    return found


# -- secrets ------------------------------------------------------------------------------------


def test_env_secret_is_found(report: dict[str, Any]) -> None:
    result = find_result(report, "rbt-envsecret", "container.env_secrets")
    assert result["status"] == "fail", explain(result)
    evidence = json.dumps(result.get("evidence"))
    for key in SECRET_KEYS:
        assert key in evidence, f"{key} missing from the evidence: {explain(result)}"


def test_no_secret_in_json_report(scan: Any) -> None:
    leaks = leaked_fragments(scan.stdout)
    assert not leaks, f"secret fragments in the JSON report: {leaks}"


def test_no_secret_in_terminal_report(terminal_verbose: Run) -> None:
    for name in ("rbt-envsecret", "rbt-secrets"):
        assert name in terminal_verbose.stdout, terminal_verbose.describe()
    leaks = leaked_fragments(terminal_verbose.stdout + terminal_verbose.stderr)
    assert not leaks, f"secret fragments in the terminal report: {leaks}"


def test_terminal_shows_the_health_test_redacted(terminal_verbose: Run) -> None:
    # the evidence of container.healthcheck names the test: the key stays, the value is a stub
    assert "PGPASSWORD=hp…(20 chars) false" in terminal_verbose.stdout, terminal_verbose.describe(limit=20000)


def test_no_secret_in_snapshot(snapshot_path: Path) -> None:
    text = snapshot_path.read_text(encoding="utf-8", errors="replace")
    for name in ("rbt-envsecret", "rbt-secrets"):
        assert name in text, f"the snapshot does not cover {name}"
    leaks = leaked_fragments(text)
    assert not leaks, f"secret fragments in the snapshot {snapshot_path}: {leaks}"


@pytest.fixture(scope="module")
def report_files(scenarios: ScenarioSet, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One report file of every format a file can be written in (`-o report.txt`, `-o report.json`, ...)."""
    out = tmp_path_factory.mktemp("reports")
    paths = [out / f"report{ext}" for ext in OutputFormat.known_extensions()]
    args = [a for p in paths for a in ("-o", str(p))]
    run = run_runbench("scan", *SELECTION, "-v", "--no-color", *args)
    assert run.returncode in (0, 1), run.describe()
    return {p.name: p.read_text(encoding="utf-8", errors="replace") for p in paths}


def test_no_secret_in_report_files(report_files: dict[str, str]) -> None:
    assert "report.txt" in report_files
    for name, text in report_files.items():
        assert "rbt-secrets" in text, f"{name} does not cover rbt-secrets"
        leaks = leaked_fragments(text)
        assert not leaks, f"secret fragments in {name}: {leaks}"


def _snapshot_text(path: Path) -> str:
    return json.dumps(json.loads(path.read_text(encoding="utf-8")), ensure_ascii=False)


def test_snapshot_keeps_every_planted_field_redacted(snapshot_path: Path) -> None:
    """The fields are collected (key, flag, user kept; value stubbed), not dropped."""
    text = _snapshot_text(snapshot_path)
    for shown in (
        '"com.example.note": "gh…(40 chars)"',  # a token under an innocent label key
        '"com.example.db-password": "lk…(21 chars)"',  # a secret-looking label key
        '"com.example.source": "https://ci:***@git.example/org/app"',  # a URL with a password
        "PGPASSWORD=hp…(20 chars) false || curl -fsH 'Authorization: Bearer hb…(20 chars)' http://localhost/",
        '"com.example.deploy-token": "de…(24 chars)"',  # image label
        "|1 BUILD_TOKEN=bu…(23 chars) /bin/sh -c true",  # image history: a build ARG
        "ENV SIGNING_KEY=si…(22 chars)",  # image history: ENV
        "mysqladmin ping -uroot -pmy…(22 chars) || exit 1",  # image healthcheck
        '"--password=cm…(20 chars)"',  # image CMD
    ):
        assert shown in text, f"{shown!r} not in the snapshot {snapshot_path}"


# -- hostile labels and healthcheck output --------------------------------------------------------


def test_hostile_container_is_reported(scan: Any) -> None:
    assert scan.run.returncode in (0, 1), scan.run.describe()
    results = container_results(scan.report, "rbt-hostile")
    assert results, "no results for rbt-hostile"
    errors = [r for r in results if r["status"] == "error"]
    assert not errors, "\n".join(explain(r) for r in errors)


@pytest.fixture(scope="module")
def hostile_plain(scenarios: ScenarioSet) -> Run:
    run = run_runbench("scan", "-v", "--no-color", "--container", "rbt-hostile")
    assert run.returncode in (0, 1), run.describe()
    return run


def test_hostile_plain_output_has_no_escape_bytes(hostile_plain: Run) -> None:
    assert "rbt-hostile" in hostile_plain.stdout, hostile_plain.describe()
    positions = [i for i, ch in enumerate(hostile_plain.stdout) if ch == ESC]
    assert not positions, (
        f"{len(positions)} ESC bytes in the --no-color report, first at {positions[0]}: "
        f"{hostile_plain.stdout[max(0, positions[0] - 80) : positions[0] + 40]!r}"
    )
    for hostile in ("\x1b[2J", "\x1b[31mEVIL"):
        assert hostile not in hostile_plain.stderr


def test_hostile_markup_is_printed_literally(hostile_plain: Run) -> None:
    # The healthcheck command (and its output) carries rich markup; it must show as text, not style.
    assert "[bold]boom[/bold]" in hostile_plain.stdout, hostile_plain.describe(limit=6000)


def test_hostile_sequences_do_not_pass_through_with_color(scenarios: ScenarioSet) -> None:
    run = run_runbench("scan", "-v", "--container", "rbt-hostile", env={"FORCE_COLOR": "1"})
    assert run.returncode in (0, 1), run.describe()
    assert "rbt-hostile" in run.stdout, run.describe()
    for hostile in ("\x1b[2J", "\x1b[31mEVIL"):
        assert hostile not in run.stdout, f"{hostile!r} reached the terminal"
        assert hostile not in run.stderr, f"{hostile!r} reached stderr"
