"""Secrets never leave the host in any output; hostile labels and health output cannot drive the terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.runner import Run, container_results, explain, find_result, run_runbench
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
    assert "rbt-envsecret" in terminal_verbose.stdout, terminal_verbose.describe()
    leaks = leaked_fragments(terminal_verbose.stdout + terminal_verbose.stderr)
    assert not leaks, f"secret fragments in the terminal report: {leaks}"


def test_no_secret_in_snapshot(snapshot_path: Path) -> None:
    text = snapshot_path.read_text(encoding="utf-8", errors="replace")
    assert "rbt-envsecret" in text, "the snapshot does not cover rbt-envsecret"
    leaks = leaked_fragments(text)
    assert not leaks, f"secret fragments in the snapshot {snapshot_path}: {leaks}"


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
