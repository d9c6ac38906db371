"""The CLI end to end: report shape, snapshot round trip, exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.runner import JSON_ARGS, SELECTION, run_runbench

pytestmark = pytest.mark.integration

STATUSES = {"pass", "fail", "manual", "skip", "error"}


# Containers of these scenarios with a healthcheck: each probe is an exec session that shows up in
# ExecIDs for a moment (about 0.2% of inspects catch one with a 1 s interval), so exec_* details of
# these may legitimately differ between two collections.
_HEALTHCHECKED = {"rbt-hardened", "rbt-unhealthy", "rbt-hostile"}


def _key_set(report: dict[str, Any]) -> set[tuple[str, str | None, str, str | None]]:
    """(check, subject name, status, detail) of every result, leaving out containers that are not ours
    (another container on the engine may carry runbench.test=1, e.g. one run from a test image, and
    may change between the two collections) and the exec_* results of healthchecked containers."""
    keys = set()
    for r in report["results"]:
        subject = r.get("subject") or {}
        name = subject.get("name")
        if subject.get("kind") == "container":
            if not str(name).startswith("rbt-"):
                continue
            if name in _HEALTHCHECKED and r["check"].startswith("container.exec_"):
                continue
        keys.add((r["check"], name, r["status"], r.get("detail")))
    return keys


def test_report_shape(report: dict[str, Any]) -> None:
    assert report["schema"] == "runbench/report@1"
    for key in (
        "runbench_version",
        "benchmark",
        "host",
        "started_at",
        "duration_s",
        "score",
        "results",
        "errors",
    ):
        assert key in report, f"report lacks {key!r}"
    for key in ("total", "grade", "coverage", "sections", "containers"):
        assert key in report["score"], f"score lacks {key!r}"
    assert "rbt-hardened" in report["score"]["containers"]
    bad = [r for r in report["results"] if r.get("status") not in STATUSES]
    assert not bad, bad[:3]
    for r in report["results"]:
        if r["check"] == "container.privileged":
            assert r["cis"].get("1.8.0") == "5.5", r
            assert r["subject"]["kind"] == "container" and not r["subject"]["name"].startswith("/"), r
            break
    else:
        pytest.fail("no container.privileged result")


def test_report_of_the_scans_snapshot_is_the_scan(scan: Any) -> None:
    """`runbench report` on the facts a scan kept gives exactly that scan's results, scores and errors."""
    run = run_runbench("report", str(scan.snapshot), "--format", "json", "-o", "-")
    assert run.returncode == scan.run.returncode, run.describe()
    again = run.json()
    for key in ("results", "score", "errors", "counts", "policy", "host", "notes"):
        assert again[key] == scan.report[key], f"report differs from scan in {key!r}"


def test_collect_then_report(report: dict[str, Any], snapshot_path: Path) -> None:
    """A separate `collect` + `report` sees the same verdicts (details may differ: live process counts)."""
    run = run_runbench("report", str(snapshot_path), "--format", "json", "-o", "-")
    assert run.returncode in (0, 1), run.describe()
    from_snapshot = {k[:3] for k in _key_set(run.json())}
    from_scan = {k[:3] for k in _key_set(report)}
    only_scan = sorted(from_scan - from_snapshot, key=str)
    only_snap = sorted(from_snapshot - from_scan, key=str)
    assert not only_scan and not only_snap, (
        f"scan and collect+report disagree.\nonly in scan: {only_scan[:15]}\nonly from snapshot: {only_snap[:15]}"
    )


def test_exit_1_when_policy_fails(scan: Any) -> None:
    # The scenario containers include critical and high failures; the default --fail-on is high.
    assert scan.run.returncode == 1, scan.run.describe()


def test_exit_0_for_the_hardened_container(scenarios: Any) -> None:
    run = run_runbench("scan", "--container", "rbt-hardened", "--label", "runbench.test=1", "--no-color")
    assert run.returncode == 0, run.describe()


def test_exit_3_when_the_engine_is_unreachable() -> None:
    run = run_runbench("scan", "--no-color", env={"DOCKER_HOST": "unix:///nonexistent.sock"})
    assert run.returncode == 3, run.describe()
    assert "DOCKER_HOST" in run.stderr, run.describe()


def test_exit_2_on_unknown_check(scenarios: Any) -> None:
    run = run_runbench("scan", "--check", "container.nope", *SELECTION, *JSON_ARGS)
    assert run.returncode == 2, run.describe()
    assert run.stderr.strip(), "a usage error must say what is wrong on stderr"


def test_container_filter_by_id_prefix(scenarios: Any, docker_client: Any) -> None:
    prefix = docker_client.containers.get("rbt-hardened").id[:10]
    run = run_runbench("scan", "--container", prefix, *SELECTION, *JSON_ARGS, "--check", "5.5")
    assert run.returncode == 0, run.describe()
    assert [r["subject"]["name"] for r in run.json()["results"]] == ["rbt-hardened"]


def test_a_filter_that_matches_no_container_is_exit_2(scenarios: Any) -> None:
    run = run_runbench("scan", "--container", "rbt-no-such-container-*", *SELECTION, *JSON_ARGS)
    assert run.returncode == 2, run.describe()
    assert "no container matches --container 'rbt-no-such-container-*'" in run.stderr
    assert run.stdout == ""
    run = run_runbench("scan", "--label", "runbench.test=no-such-value", *JSON_ARGS)
    assert run.returncode == 2, run.describe()
    assert "runbench.test=no-such-value" in run.stderr


def test_report_keys_are_stable_across_scans(scan: Any) -> None:
    again = run_runbench("scan", *SELECTION, *JSON_ARGS)
    assert again.returncode == scan.run.returncode, again.describe()
    keys = {r["key"] for r in scan.report["results"] if r["subject"]["name"].startswith("rbt-")}
    assert keys and keys == {r["key"] for r in again.json()["results"] if r["subject"]["name"].startswith("rbt-")}
    assert all(":" in k and not k.split(":", 1)[1].startswith(("sha256", "0", "1")) for k in keys)
