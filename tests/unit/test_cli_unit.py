"""runbench.cli.main on paths that need no engine: catalog commands, usage errors, `report` on snapshots.

Exit codes: 0 policy met · 1 policy failed · 2 usage or config error · 3 could not collect.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from builders import container, engine, env, mount, snapshot
from test_output import fill, mounted_tmpfs

from runbench import __version__
from runbench.catalog import load_catalog
from runbench.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_snapshot(tmp_path: Path, *containers: Any, name: str = "snap.json") -> Path:
    path = tmp_path / name
    path.write_text(snapshot(*containers).dumps(), encoding="utf-8")
    return path


# --- catalog commands ---------------------------------------------------------------------------


def test_checks_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "checks")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "CIS", "SEVERITY", "TITLE"]
    assert len(lines) == 1 + len(load_catalog())
    row = next(line for line in lines if line.startswith("container.privileged "))
    assert row.split()[1:3] == ["5.5", "critical"]


def test_checks_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "checks", "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert data["schema"] == "runbench/catalog@1"
    assert len(data["checks"]) == len(load_catalog())
    priv = next(c for c in data["checks"] if c["id"] == "container.privileged")
    assert (priv["severity"], priv["cis"], priv["scope"]) == ("critical", {"1.8.0": "5.5", "1.6.0": "5.5"}, "container")


def test_checks_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "checks", "--format", "markdown")
    assert code == 0
    assert out.startswith("# runbench checks\n")
    assert "## Container runtime (container)" in out
    assert "| `container.privileged` | 5.5 | 1 | critical |" in out
    assert out.count("### `container.") == 39


@pytest.mark.parametrize("ref", ["container.privileged", "5.5", "1.6.0:5.5"])
def test_explain(capsys: pytest.CaptureFixture[str], ref: str) -> None:
    code, out, _ = run(capsys, "explain", ref)
    assert code == 0
    assert out.startswith("container.privileged: Container is not privileged\n")
    assert "severity critical" in out and "CIS v1.8.0 5.5, v1.6.0 5.5" in out
    assert "Why:" in out and "Fix:" in out


def test_explain_a_check_without_cis_number(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "container.env_secrets")
    assert code == 0
    assert "CIS none (beyond the benchmark)" in out


def test_explain_unknown_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "explain", "container.privileged_mode")
    assert (code, out) == (2, "")
    assert "did you mean container.privileged" in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"runbench {__version__}"


def test_unknown_flag_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checks", "--no-such-flag"]) == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "s.json", "--all"],  # must not become --allow-cap
        ["scan", "--allow", "X"],
        ["scan", "--verb"],
        ["--fail", "low"],
        ["checks", "--form", "json"],
    ],
)
def test_abbreviated_options_are_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert main(argv) == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_help_shows_the_scan_options_and_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--all", "--container", "--check", "--fail-on", "--output", "--format", "--timeout"):
        assert option in out, option
    assert out.count("\n  runbench ") >= 3  # three examples
    assert "4 internal error" in out


@pytest.mark.parametrize(
    ("refs", "expected"),
    [
        (["container.*_mounts"], {"container.sensitive_mounts", "container.rw_host_mounts"}),
        (
            ["5.1?"],
            {
                "container.host_network",
                "container.memory_limit",
                "container.cpu_limit",
                "container.read_only_rootfs",
                "container.ports_all_interfaces",
                "container.restart_policy",
                "container.host_pid",
                "container.host_ipc",
                "container.devices",
                "container.ulimit_override",
            },
        ),
        (["1.6.0:5.3?"], {"container.host_userns", "container.docker_socket", "container.default_bridge"}),
        (["container.host_[pu]*"], {"container.host_pid", "container.host_uts", "container.host_userns"}),
    ],
)
def test_check_globs(capsys: pytest.CaptureFixture[str], tmp_path: Path, refs: list[str], expected: set[str]) -> None:
    path = write_snapshot(tmp_path, container())
    args = [a for r in refs for a in ("--check", r)]
    code, out, _ = run(capsys, "report", str(path), "--format", "json", *args)
    assert code == 0
    assert {r["check"] for r in json.loads(out)["results"]} == expected


def test_a_cis_glob_covers_a_whole_section(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_snapshot(tmp_path, container())
    code, out, _ = run(capsys, "report", str(path), "--format", "json", "--check", "5.*")
    assert code == 0
    assert len({r["check"] for r in json.loads(out)["results"]}) == 32  # 5.1 (daemon.swarm_mode) to 5.32


# --- exit 4: internal errors --------------------------------------------------------------------


def test_a_check_file_that_raises_at_import_is_exit_4(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "broken.py").write_text("raise RuntimeError('check file exploded')\n")
    monkeypatch.setattr("runbench.catalog.resource_dir", lambda name: tmp_path)
    code, out, err = run(capsys, "checks")
    assert (code, out) == (4, "")
    assert "internal error" in err and "check file exploded" in err
    assert "Traceback" not in err and "--debug" in err


def test_an_exception_in_the_collector_is_exit_4_with_a_traceback_only_under_debug(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("injected")

    monkeypatch.setattr("runbench.collect.engine.collect", boom)
    code, _, err = run(capsys, "scan", "--no-color")
    assert code == 4
    assert "ZeroDivisionError: injected" in err and "Traceback" not in err
    code, _, err = run(capsys, "scan", "--debug")
    assert code == 4
    assert "Traceback (most recent call last)" in err and "ZeroDivisionError: injected" in err


# --- container filters --------------------------------------------------------------------------


def _fake_engine(monkeypatch: pytest.MonkeyPatch, *names_states: tuple[str, str]) -> list[Any]:
    """A collector that lists `names_states` and scans whichever match the request, as the real one does."""
    from runbench.collect import engine as collect_engine
    from runbench.snapshot import ContainerSummary

    seen: list[Any] = []
    inventory = tuple(
        ContainerSummary(f"{i:x}" * 64, name, "app", state) for i, (name, state) in enumerate(names_states, 10)
    )

    def fake(req: Any, progress: Any = None, api: Any = None, file_paths: Any = None) -> Any:
        seen.append(req)
        picked = [
            container(id=s.id, name=s.name, state=s.state)
            for s in inventory
            if collect_engine._matches(s, req) and (req.all_containers or s.state == "running")
        ]
        return snapshot(*picked, containers=tuple(picked), inventory=inventory)

    monkeypatch.setattr(collect_engine, "collect", fake)
    return seen


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--container", "nope*"], "no container matches --container 'nope*'"),
        (["--container", "web", "--container", "zzz"], "no container matches --container 'zzz'"),
        (["--container", "old"], "matches only stopped containers: add --all"),
    ],
)
def test_a_filter_that_matches_nothing_is_exit_2_naming_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    _fake_engine(monkeypatch, ("web", "running"), ("old", "exited"))
    code, out, err = run(capsys, "scan", "--format", "json", *args)
    assert (code, out) == (2, "")
    assert message in err


def test_a_label_filter_that_matches_nothing_is_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_engine(monkeypatch)  # the engine filters labels: nothing listed
    code, _, err = run(capsys, "scan", "--label", "team=none")
    assert code == 2 and "team=none" in err and "--label" in err


def test_no_filters_on_an_empty_host_still_runs_and_exits_on_policy(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_engine(monkeypatch)
    code, out, _ = run(capsys, "scan", "--format", "json")
    assert code == 0
    assert json.loads(out)["notes"][0].startswith("scanned 0 of 0")


def test_container_filter_matches_id_prefixes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_engine(monkeypatch, ("web", "running"), ("db", "running"))  # ids "aaaa…" and "bbbb…"
    code, out, _ = run(capsys, "scan", "--format", "json", "--container", "bbbb", "--check", "5.5")
    assert code == 0
    assert [r["subject"]["name"] for r in json.loads(out)["results"]] == ["db"]
    code, out, _ = run(capsys, "scan", "--format", "json", "--exclude-container", "aaaa", "--check", "5.5")
    assert [r["subject"]["name"] for r in json.loads(out)["results"]] == ["db"]


# --- usage errors before anything is collected --------------------------------------------------


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to reach an engine fails loudly: usage errors must come first."""
    import runbench.collect.engine as collect_engine

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("tried to reach the engine")

    monkeypatch.setattr(collect_engine, "connect", refuse)
    monkeypatch.setattr(collect_engine, "collect", refuse)


def test_scan_with_an_unknown_check_is_2_with_a_suggestion(capsys: pytest.CaptureFixture[str], no_engine: None) -> None:
    code, out, err = run(capsys, "scan", "--check", "container.nope")
    assert code == 2
    assert "unknown check 'container.nope'" in err
    assert "did you mean" in err and "runbench checks" in err


def test_scan_with_a_typo_suggests_the_check(capsys: pytest.CaptureFixture[str], no_engine: None) -> None:
    code, _, err = run(capsys, "--check", "container.host_pdi")  # `scan` is the default command
    assert code == 2
    assert "did you mean container.host_pid" in err


def test_scan_with_an_unknown_report_extension_is_2(capsys: pytest.CaptureFixture[str], no_engine: None) -> None:
    code, _, err = run(capsys, "scan", "-o", "report.xyz")
    assert code == 2
    assert "report.xyz" in err and ".json" in err


@pytest.mark.parametrize("score", ["-1", "100.5"])
def test_min_score_out_of_range_is_2(capsys: pytest.CaptureFixture[str], no_engine: None, score: str) -> None:
    code, _, err = run(capsys, "scan", "--min-score", score)
    assert code == 2
    assert "--min-score" in err


def test_unreachable_engine_is_3_with_a_docker_host_hint(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent.sock")
    code, out, err = run(capsys, "scan", "--timeout", "2")
    assert code == 3
    assert out == ""
    assert "could not collect" in err and "/nonexistent.sock" in err
    assert "hint:" in err and "DOCKER_HOST" in err


def test_unreachable_host_flag_is_3(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    code, _, err = run(capsys, "collect", "--host", "unix:///nonexistent.sock", "--timeout", "2")
    assert code == 3
    assert "unix:///nonexistent.sock" in err and "DOCKER_HOST" in err


# --- report on snapshot files -------------------------------------------------------------------


def test_report_on_a_missing_file_is_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "report", str(tmp_path / "nope.json"))
    assert code == 2
    assert "cannot read snapshot" in err and "nope.json" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("this is not json", "not JSON"),
        ('{"schema": "runbench/report@1"}', "not a runbench snapshot"),
        ("[]", "not a runbench snapshot"),
        ('{"schema": "runbench/snapshot@2", "containers": 5}', "malformed snapshot"),
        ('{"schema": "runbench/snapshot@1", "containers": 5}', "collect it again"),
    ],
)
def test_report_on_a_bad_file_is_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "report", str(path))
    assert (code, out) == (2, "")
    assert message in err


def test_report_on_a_binary_file_is_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "bin.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    code, _, err = run(capsys, "report", str(path))
    assert code == 2
    assert "not UTF-8" in err


def test_report_with_a_bad_output_is_2_before_reading(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "report", str(tmp_path / "missing.json"), "-o", "out.xyz")
    assert code == 2
    assert "out.xyz" in err  # the usage error, not the missing file


def test_report_compliant_snapshot_is_0_with_json_on_stdout(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_snapshot(tmp_path, container())
    code, out, err = run(capsys, "report", str(path), "-o", "-", "--format", "json", "--check", "container.*")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["schema"] == "runbench/report@1"
    assert data["policy"] == {"met": True, "reasons": []}
    assert data["score"]["total"] == 100.0 and data["score"]["grade"] == "A"
    assert data["counts"] == {"pass": 37, "fail": 0, "manual": 0, "skip": 2, "error": 0}
    assert data["started_at"] == "2026-01-01T00:00:00+00:00"  # a report keeps the snapshot's time
    # the evaluating runbench's version, and the collecting one's when it differs
    assert (data["runbench_version"], data["collected_by"]) == (__version__, "0.0.0-test")
    assert data["results"][0]["key"] == "container.apparmor:app"


def test_report_failing_snapshot_is_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_snapshot(tmp_path, container(privileged=True))
    code, out, _ = run(capsys, "report", str(path), "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["policy"]["met"] is False
    assert data["policy"]["reasons"][0].endswith("(worst: critical)")
    assert data["score"]["grade"] in ("D", "F")
    failed = {r["check"] for r in data["results"] if r["status"] == "fail"}
    assert {"container.privileged", "container.capabilities", "container.devices", "container.seccomp"} <= failed


@pytest.mark.parametrize(
    ("facts", "args", "code"),
    [
        ({"memory": 0}, (), 0),  # a medium failure under the default --fail-on high
        ({"memory": 0}, ("--fail-on", "medium"), 1),
        ({"privileged": True}, ("--fail-on", "none"), 0),
        ({"privileged": True}, ("--fail-on", "none", "--skip", "container.privileged"), 0),
        ({"privileged": True}, ("--skip", "container.privileged"), 1),  # capabilities etc. still fail high
        ({"privileged": True}, ("--check", "5.5,5.11"), 1),
        ({"memory": 0}, ("--check", "5.5", "--check", "container.memory_limit", "--fail-on", "none"), 0),
        ({"memory": 0}, ("--fail-on", "none", "--min-score", "99"), 1),
        ({}, ("--min-score", "100", "--check", "container.*"), 0),
        ({"cap_add": ("SYS_NICE",)}, (), 1),
        ({"cap_add": ("SYS_NICE",)}, ("--allow-cap", "cap_sys_nice"), 0),
        ({"cap_add": ("SYS_ADMIN",)}, ("--allow-cap", "SYS_ADMIN"), 1),
        ({"processes": None}, ("--fail-on-error",), 1),
        ({"processes": None}, (), 0),
    ],
)
def test_report_exit_code_follows_the_policy(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, facts: dict[str, Any], args: tuple[str, ...], code: int
) -> None:
    path = write_snapshot(tmp_path, container(**facts))
    got, out, _ = run(capsys, "report", str(path), "--format", "json", *args)
    assert got == code, json.loads(out)["policy"]


def test_report_selection_limits_the_results(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_snapshot(tmp_path, container(memory=0))
    code, out, _ = run(capsys, "report", str(path), "--format", "json", "--check", "5.5", "--check", "5.11")
    data = json.loads(out)
    assert code == 0
    assert [(r["check"], r["status"]) for r in data["results"]] == [
        ("container.privileged", "pass"),
        ("container.memory_limit", "fail"),
    ]
    # (10·1 + 3·0) / 13 = 76.9
    assert (data["score"]["total"], data["score"]["grade"]) == (76.9, "C")


def test_report_writes_files_by_extension(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_snapshot(tmp_path, container(mounts=(mount("/etc", rw=False),)))
    out_json, out_txt = tmp_path / "r.json", tmp_path / "r.txt"
    code, out, _ = run(capsys, "report", str(path), "-q", "-o", str(out_json), "-o", str(out_txt))
    assert code == 1  # a read-only /etc mount is a high failure
    data = json.loads(out_json.read_text(encoding="utf-8"))
    (sensitive,) = [r for r in data["results"] if r["check"] == "container.sensitive_mounts"]
    assert (sensitive["status"], sensitive["severity"]) == ("fail", "high")
    text = out_txt.read_text(encoding="utf-8")
    assert "container.sensitive_mounts" in text
    assert "\x1b[" not in text  # plain text, no styles


def test_report_from_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(snapshot(container()).dumps()))
    code, out, _ = run(capsys, "report", "-", "--format", "json", "--check", "container.*")
    assert code == 0
    assert json.loads(out)["score"]["total"] == 100.0


def test_report_terminal_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write_snapshot(tmp_path, container(name="web", privileged=True))
    code, out, _ = run(capsys, "report", str(path), "--no-color")
    assert code == 1
    assert "web" in out and "container.privileged" in out


def test_report_never_prints_secret_values(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    value = "fake-db-password-never-printed-01"
    path = write_snapshot(tmp_path, container(env=(env("DB_PASSWORD", value),)))
    assert value not in path.read_text(encoding="utf-8")
    code, out, _ = run(capsys, "report", str(path), "--format", "json", "-v")
    assert code == 1  # a secret in the environment is a high failure
    assert value not in out and "DB_PASSWORD=fa\\u2026(33 chars)" in out  # JSON is ASCII: … is \\u2026


# --- outputs: checked first, written independently, stdout failures told ----------------------------

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("argv", "target"),
    [
        (["scan", "-o", "/nonexistent/dir/r.json"], "/nonexistent/dir/r.json"),
        (["scan", "-o", "-", "-o", "/nonexistent/dir/r.txt"], "/nonexistent/dir/r.txt"),
        (["scan", "--snapshot", "/nonexistent/dir/s.json"], "/nonexistent/dir/s.json"),
        (["collect", "-o", "/nonexistent/dir/s.json"], "/nonexistent/dir/s.json"),
    ],
)
def test_an_output_in_a_missing_directory_is_2_before_collecting(
    capsys: pytest.CaptureFixture[str], no_engine: None, argv: list[str], target: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert f"cannot write {target}: the directory /nonexistent/dir does not exist" in err


def test_a_directory_as_output_is_2_before_reading(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "r.json").mkdir()
    code, out, err = run(capsys, "report", str(tmp_path / "missing.json"), "-o", str(tmp_path / "r.json"))
    assert (code, out) == (2, "")
    assert "r.json: is a directory" in err


def test_the_same_output_twice_is_2(capsys: pytest.CaptureFixture[str], tmp_path: Path, no_engine: None) -> None:
    target = str(tmp_path / "r.json")
    code, _, err = run(capsys, "scan", "-o", target, "--snapshot", target)
    assert code == 2 and "given twice (-o and --snapshot)" in err


def test_reports_are_written_0640(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        code, _, _ = run(capsys, "report", str(write_snapshot(tmp_path, container())), "-o", str(tmp_path / "r.json"))
    finally:
        os.umask(old)
    assert code == 0
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == 0o640


def test_one_output_that_cannot_be_written_does_not_stop_the_others(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    snap = write_snapshot(tmp_path, container(privileged=True))
    with mounted_tmpfs(tmp_path / "full", "size=64k") as full:
        (full / "r.txt").write_text("yesterday's report\n")
        fill(full)
        good_json, bad_txt, good_txt = tmp_path / "r.json", full / "r.txt", tmp_path / "r.txt"
        code, out, err = run(
            capsys, "report", str(snap), "--no-color", "-o", str(good_json), "-o", str(bad_txt), "-o", str(good_txt)
        )
        assert bad_txt.read_text() == "yesterday's report\n"  # the old report is intact
        assert sorted(p.name for p in full.iterdir()) == ["filler", "r.txt"]  # no temp file left
    assert code == 2
    assert json.loads(good_json.read_text(encoding="utf-8"))["policy"]["met"] is False
    assert "container.privileged" in good_txt.read_text(encoding="utf-8")
    assert "container.privileged" in out  # stdout too
    assert f"runbench: error: could not write {bad_txt}: No space left on device" in err
    assert "runbench: policy NOT met (" in err and "(worst: critical)" in err and "1 output(s) not written" in err


def test_a_snapshot_that_cannot_be_written_does_not_stop_the_reports(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _fake_engine(monkeypatch, ("web", "running"))
    with mounted_tmpfs(tmp_path / "full", "size=64k") as full:
        fill(full)
        code, _, err = run(capsys, "scan", "-q", "--snapshot", str(full / "s.json"), "-o", str(tmp_path / "r.json"))
        assert sorted(p.name for p in full.iterdir()) == ["filler"]
    assert code == 2
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["schema"] == "runbench/report@1"
    assert f"could not write {full / 's.json'}: No space left on device" in err and "policy met;" in err


def test_snapshots_are_written_0600(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _fake_engine(monkeypatch, ("web", "running"))
    old = os.umask(0o022)
    try:
        code, _, _ = run(capsys, "scan", "-q", "--snapshot", str(tmp_path / "s.json"))
        assert run(capsys, "collect", "-o", str(tmp_path / "c.json"))[0] == 0
    finally:
        os.umask(old)
    assert code == 0
    assert (tmp_path / "s.json").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "c.json").stat().st_mode & 0o777 == 0o600


def _runbench(*argv: str, stdout: Any = subprocess.PIPE) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "PYTHONWARNINGS")}
    return subprocess.Popen(
        [sys.executable, "-m", "runbench", *argv], cwd=ROOT, stdout=stdout, stderr=subprocess.PIPE, env=env
    )


def test_stdout_on_a_full_device_is_2_with_a_message(tmp_path: Path) -> None:
    snap = write_snapshot(tmp_path, container(privileged=True))
    with open("/dev/full", "wb") as full:
        proc = _runbench("report", str(snap), "--format", "json", "-o", "-", stdout=full)
        _, err = proc.communicate(timeout=60)
    text = err.decode()
    assert proc.returncode == 2, text
    assert text.splitlines() == [
        "runbench: error: could not write stdout: No space left on device",
        "runbench: policy NOT met (4 failure(s) at or above high (worst: critical)); 1 output(s) not written",
    ]


def test_checks_on_a_full_device_is_2_with_a_message() -> None:
    with open("/dev/full", "wb") as full:
        proc = _runbench("checks", stdout=full)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.decode() == "runbench: error: could not write stdout: No space left on device\n"


@pytest.mark.parametrize("fmt", ["terminal", "json"])
def test_a_closed_pipe_ends_quietly_with_the_policy_exit_code(tmp_path: Path, fmt: str) -> None:
    # 60 failing containers: far more output than a pipe holds, so runbench is still writing when it closes
    many = [container(name=f"web{i:02d}", id=f"{i:064x}", privileged=True) for i in range(60)]
    path = tmp_path / "many.json"
    path.write_text(snapshot(*many).dumps(), encoding="utf-8")
    proc = _runbench("report", str(path), "-v", "--format", fmt)
    assert proc.stdout is not None and proc.stderr is not None
    head = proc.stdout.read(10)
    proc.stdout.close()  # `| head -c 10`
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert len(head) == 10
    assert (proc.returncode, err.decode()) == (1, "")


def test_checks_into_a_closed_pipe_is_0_and_quiet() -> None:
    proc = _runbench("checks", "--format", "markdown")
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert (proc.returncode, err.decode()) == (0, "")


# --- hostile text: nothing from an engine or a snapshot drives the terminal ------------------------

HOSTILE = (
    "\x1b[31mEVIL\x1b[0m \x1b]8;;http://evil\x07link\x1b]8;;\x07 \x1b[2J\x1b]0;title\x1b\\ \x9b1m \x85"
    "\u202eevil\u202c \u2066iso\u2069 zero\u200bwidth \ufeff\u00ad \u061c\u2028\u2029 \r\nFAKE: all good \x00\x7f"
)
# every character that must never reach a terminal raw (the newline of our own layout excepted)
UNSAFE = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def _hostile_snapshot(tmp_path: Path) -> Path:
    from runbench.snapshot import CollectionError, Fact

    bad = container(
        id="ab" * 32,
        name="web" + HOSTILE,
        user="root" + HOSTILE,
        labels={"team" + HOSTILE: "x" + HOSTILE},
        privileged=True,
        mounts=(mount("/etc" + HOSTILE, rw=False),),
    )
    snap = snapshot(
        bad,
        runbench_version="0.0.1" + HOSTILE,
        engine=engine(hostname="host" + HOSTILE, os="os" + HOSTILE, server_version="24" + HOSTILE),
        errors=(CollectionError(Fact.PROCESSES, "ab" * 32, "why" + HOSTILE),),
    )
    path = tmp_path / "hostile.json"
    path.write_text(snap.dumps(), encoding="utf-8")
    return path


def _assert_inert(text: str) -> None:
    found = UNSAFE.search(text)
    assert found is None, (
        f"{found.group()!r} at {found.start()}: {text[max(0, found.start() - 60) : found.start() + 20]!r}"
    )


@pytest.mark.parametrize("fmt", ["terminal", "text"])
def test_a_hostile_snapshot_is_inert_on_stdout(capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str) -> None:
    code, out, err = run(capsys, "report", str(_hostile_snapshot(tmp_path)), "-v", "--format", fmt)
    assert code == 1, err
    _assert_inert(out)
    _assert_inert(err)
    assert "\\x1b[31mEVIL" in out and "\\u202eevil" in out  # shown, escaped
    assert "host\\x1b[31mEVIL" in out  # the summary's host name
    assert "why\\x1b[31mEVIL" in out  # a collection error's why
    assert "\nFAKE: all good" not in out  # no line of its own


def test_a_hostile_snapshot_is_inert_in_report_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    txt, js = tmp_path / "r.txt", tmp_path / "r.json"
    code, _, _ = run(capsys, "report", str(_hostile_snapshot(tmp_path)), "-v", "-o", str(txt), "-o", str(js))
    assert code == 1
    _assert_inert(txt.read_text(encoding="utf-8"))
    raw = js.read_bytes()
    assert raw.isascii(), "the JSON report is ASCII only"
    _assert_inert(raw.decode("ascii"))
    data = json.loads(raw)
    assert data["host"]["hostname"] == "host" + HOSTILE  # JSON keeps the exact value, escaped by the encoder
    assert any(r["subject"]["name"] == "web" + HOSTILE for r in data["results"])
    assert data["errors"][0]["why"] == "why" + HOSTILE


def test_a_hostile_snapshot_name_in_an_error_is_inert(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "report", str(tmp_path / f"x{HOSTILE}.json"))
    assert code == 2
    _assert_inert(err.rstrip("\n"))
    assert "cannot read snapshot" in err and "\\x1b[31mEVIL" in err


def test_a_hostile_engine_error_is_inert_on_stderr(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from runbench.collect.engine import CollectFailure

    def refuse(*args: object, **kwargs: object) -> None:
        raise CollectFailure("engine says " + HOSTILE, hint="try " + HOSTILE)

    monkeypatch.setattr("runbench.collect.engine.collect", refuse)
    code, out, err = run(capsys, "scan")
    assert (code, out) == (3, "")
    lines = err.splitlines()
    assert len(lines) == 2, err  # the CR LF inside is shown, not obeyed
    assert lines[0].startswith("runbench: could not collect: engine says \\x1b[31mEVIL")
    assert lines[1].startswith("runbench: hint: try \\x1b[31mEVIL")
    _assert_inert(err.replace("\n", ""))


def test_a_hostile_internal_error_is_inert_even_with_its_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise ValueError("bad " + HOSTILE)

    monkeypatch.setattr("runbench.collect.engine.collect", boom)
    for argv in (["scan"], ["scan", "--debug"]):
        code, _, err = run(capsys, *argv)
        assert code == 4
        assert "internal error: ValueError: bad \\x1b[31mEVIL" in err
        _assert_inert(err.replace("\n", ""))


def test_a_huge_engine_error_is_cut_on_stderr(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from runbench.collect.engine import CollectFailure

    def refuse(*args: object, **kwargs: object) -> None:
        raise CollectFailure("E" * 1_000_000)

    monkeypatch.setattr("runbench.collect.engine.collect", refuse)
    code, _, err = run(capsys, "scan")
    assert code == 3 and len(err) < 5000 and "chars)" in err


# --- snapshots given to `report`: bounded, never blocking ---------------------------------------


def test_report_on_a_fifo_is_2_at_once(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fifo = tmp_path / "snap.json"
    os.mkfifo(fifo)
    code, out, err = run(capsys, "report", str(fifo))  # would hang forever if it were opened for reading
    assert (code, out) == (2, "")
    assert f"cannot read snapshot {fifo}: is a FIFO" in err


def test_report_on_a_device_is_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "report", "/dev/zero")  # would never end if it were read
    assert code == 2
    assert "cannot read snapshot /dev/zero: is a character device" in err


def test_report_on_a_huge_file_is_2_naming_the_cap(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    huge = tmp_path / "huge.json"
    with huge.open("wb") as f:
        f.truncate(256 * 1024 * 1024 + 1)  # sparse: no disk used
    code, _, err = run(capsys, "report", str(huge))
    assert code == 2
    assert "cannot read snapshot" in err and str(256 * 1024 * 1024) in err


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_a_snapshot_with_a_non_finite_duration_is_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, value: str
) -> None:
    path = write_snapshot(tmp_path, container())
    text = re.sub(r'"duration_s": [0-9.]+', f'"duration_s": {value}', path.read_text(encoding="utf-8"))
    path.write_text(text, encoding="utf-8")
    code, out, err = run(capsys, "report", str(path), "--format", "json")
    assert (code, out) == (2, "")
    assert "is not a JSON number" in err or "duration_s" in err


def test_a_hostile_output_name_is_inert_in_the_message(capsys: pytest.CaptureFixture[str], no_engine: None) -> None:
    code, _, err = run(capsys, "scan", "-o", f"/nonexistent/{HOSTILE}/r.json")
    assert code == 2
    assert "cannot write /nonexistent/\\x1b[31mEVIL" in err
    _assert_inert(err.rstrip("\n"))
