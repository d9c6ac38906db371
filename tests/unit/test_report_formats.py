"""The report formats and the cron workflow through the command line (`runbench report SNAPSHOT ...`, no
engine): formats by extension, -q with --format or -v, colour flags and variables, --previous, --out-dir
(run files, latest.*, the previous run compared, --keep, --prom, atomic replacement).
"""

from __future__ import annotations

import json
import os
import re
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from builders import container, snapshot

from runbench.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_snapshot(path: Path, *containers: object, at: str = "2026-11-22T03:30:00+00:00") -> Path:
    path.write_text(snapshot(*containers, collected_at=at).dumps(), encoding="utf-8")  # type: ignore[arg-type]
    return path


@pytest.fixture
def snap(tmp_path: Path) -> Path:
    return write_snapshot(tmp_path / "snap.json", container(name="web", privileged=True), container(name="db"))


# ---- formats by extension ---------------------------------------------------------------------------------


def test_every_extension_writes_its_format(capsys: pytest.CaptureFixture[str], tmp_path: Path, snap: Path) -> None:
    names = ["r.json", "r.txt", "r.html", "r.htm", "r.xml", "r.sarif", "r.prom", "r.md", "r.markdown"]
    args = [a for n in names for a in ("-o", str(tmp_path / n))]
    code, out, err = run(capsys, "report", str(snap), "--no-color", *args)
    assert code == 1, err  # web is privileged
    text = {n: (tmp_path / n).read_text(encoding="utf-8") for n in names}
    assert json.loads(text["r.json"])["schema"] == "runbench/report@1"
    assert text["r.txt"].isascii() and "CRITICAL FAIL  Container is not privileged" in text["r.txt"]
    assert text["r.html"].startswith("<!DOCTYPE html>") and text["r.html"] == text["r.htm"]
    assert ET.fromstring(text["r.xml"].encode()).tag == "testsuites"
    assert json.loads(text["r.sarif"])["version"] == "2.1.0"
    assert "# TYPE runbench_score gauge" in text["r.prom"]
    assert text["r.md"].startswith("## runbench:") and text["r.md"] == text["r.markdown"]
    assert {oct(os.stat(tmp_path / n).st_mode & 0o777) for n in names} == {"0o640"}


@pytest.mark.parametrize("fmt", ["html", "junit", "sarif", "prometheus", "markdown", "text"])
def test_every_format_goes_to_stdout(capsys: pytest.CaptureFixture[str], snap: Path, fmt: str) -> None:
    code, out, _ = run(capsys, "report", str(snap), "--format", fmt)
    assert code == 1 and out and "\x1b[" not in out


def test_an_unknown_extension_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path, snap: Path) -> None:
    code, _, err = run(capsys, "report", str(snap), "-o", str(tmp_path / "r.pdf"))
    assert code == 2 and ".html" in err and ".sarif" in err and ".prom" in err


# ---- flags ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["-q", "--format", "json"], ["-q", "-v"], ["-q", "--format", "terminal"]],
    ids=["format", "verbose", "terminal"],
)
def test_quiet_with_format_or_verbose_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], snap: Path, args: list[str]
) -> None:
    code, out, err = run(capsys, "report", str(snap), *args)
    assert (code, out) == (2, "")
    assert "-q prints only errors: it cannot go with --format or -v" in err


def test_quiet_alone_prints_only_errors(capsys: pytest.CaptureFixture[str], snap: Path) -> None:
    code, out, _ = run(capsys, "report", str(snap), "-q")
    assert code == 1 and "Container is not privileged" not in out


@pytest.mark.parametrize(
    ("args", "env", "styled"),
    [
        ([], {}, False),  # not a terminal
        (["--color"], {}, True),
        (["--color"], {"NO_COLOR": "1"}, True),  # the flag wins
        (["--no-color"], {"FORCE_COLOR": "1"}, False),
        ([], {"FORCE_COLOR": "1"}, True),
        ([], {"FORCE_COLOR": "0"}, False),
        ([], {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
    ],
)
def test_colour_flags_and_variables(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    snap: Path,
    args: list[str],
    env: dict[str, str],
    styled: bool,
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    _, out, _ = run(capsys, "report", str(snap), *args)
    assert ("\x1b[" in out) is styled


def test_colour_never_reaches_files(capsys: pytest.CaptureFixture[str], tmp_path: Path, snap: Path) -> None:
    run(capsys, "report", str(snap), "--color", "-o", str(tmp_path / "r.txt"), "-o", str(tmp_path / "r.md"))
    assert "\x1b" not in (tmp_path / "r.txt").read_text() + (tmp_path / "r.md").read_text()


def test_worst_sets_the_table_rows(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    many = write_snapshot(
        tmp_path / "many.json", *(container(name=f"c{i}", id=f"{i:064x}", memory=0) for i in range(6))
    )
    _, out, _ = run(capsys, "report", str(many), "--worst", "2")
    assert "Containers: the worst 2 of 6" in out
    code, _, err = run(capsys, "report", str(many), "--worst", "0")
    assert code == 2 and "--worst must be at least 1" in err


# ---- --previous ------------------------------------------------------------------------------------------


def test_previous_report_is_compared(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    before = write_snapshot(tmp_path / "a.json", container(name="web"), container(name="db", id="d" * 64))
    after = write_snapshot(
        tmp_path / "b.json", container(name="web", privileged=True), container(name="db", id="d" * 64)
    )
    run(capsys, "report", str(before), "-o", str(tmp_path / "yesterday.json"))
    code, out, _ = run(
        capsys, "report", str(after), "--previous", str(tmp_path / "yesterday.json"), "-o", str(tmp_path / "r.html")
    )
    assert code == 1
    assert "Since the previous report" in out and "Container is not privileged: web" in out
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Since the previous report" in html and "New failures (" in html


@pytest.mark.parametrize(
    ("content", "why"),
    [(None, "No such file"), ("{}", "not a runbench JSON report"), ("[", "not JSON")],
)
def test_a_bad_previous_report_is_a_usage_error_before_anything_is_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, snap: Path, content: str | None, why: str
) -> None:
    previous = tmp_path / "previous.json"
    if content is not None:
        previous.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "report", str(snap), "--previous", str(previous), "-o", str(tmp_path / "r.json"))
    assert (code, out) == (2, "")
    assert "--previous" in err and why in err
    assert not (tmp_path / "r.json").exists()


# ---- --out-dir: the cron workflow -----------------------------------------------------------------------


def _runs(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_two_runs_into_one_dir_say_what_changed(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_dir = tmp_path / "runs"
    out_dir.mkdir()
    first = write_snapshot(tmp_path / "1.json", container(name="web"), container(name="db", id="d" * 64))
    second = write_snapshot(
        tmp_path / "2.json",
        container(name="web"),
        container(name="db", id="d" * 64, privileged=True),
        at="2026-11-23T03:30:00+00:00",
    )
    code, _, err = run(capsys, "report", str(first), "-q", "--out-dir", str(out_dir))
    assert code == 0, err
    assert _runs(out_dir) == [
        "latest.html",
        "latest.json",
        "testhost-20261122T033000Z.html",
        "testhost-20261122T033000Z.json",
    ]
    assert "Since the previous report" not in (out_dir / "latest.html").read_text(encoding="utf-8")
    code, _, err = run(capsys, "report", str(second), "-q", "--out-dir", str(out_dir))
    assert code == 1, err
    html = (out_dir / "latest.html").read_text(encoding="utf-8")
    block = html[html.index('<section id="changes"') : html.index("</section>", html.index('<section id="changes"'))]
    assert "New failures (" in block and "<b>db</b>" in block and "Container is not privileged" in block
    assert "<b>web</b>" not in block  # web did not change
    latest = json.loads((out_dir / "latest.json").read_text(encoding="utf-8"))
    run2 = json.loads((out_dir / "testhost-20261123T033000Z.json").read_text(encoding="utf-8"))
    assert latest == run2 and latest["started_at"] == "2026-11-23T03:30:00+00:00"


def test_keep_leaves_the_newest_runs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_dir = tmp_path / "runs"
    out_dir.mkdir()
    (out_dir / "notes.txt").write_text("mine", encoding="utf-8")
    (out_dir / "otherhost-20261101T000000Z.json").write_text("{}", encoding="utf-8")
    for day in range(20, 24):
        snap = write_snapshot(tmp_path / f"{day}.json", container(name="web"), at=f"2026-11-{day}T03:30:00+00:00")
        code, _, err = run(capsys, "report", str(snap), "-q", "--out-dir", str(out_dir), "--keep", "2", "--prom")
        assert code == 0, err
    stamps = sorted({m.group(1) for n in _runs(out_dir) if (m := re.match(r"testhost-(\w+)\.\w+$", n))})
    assert stamps == ["20261122T033000Z", "20261123T033000Z"]
    assert {"latest.json", "latest.html", "latest.prom", "notes.txt", "otherhost-20261101T000000Z.json"} <= set(
        _runs(out_dir)
    )
    assert (out_dir / "testhost-20261123T033000Z.prom").read_text() == (out_dir / "latest.prom").read_text()


def test_runs_in_the_same_second_do_not_overwrite_each_other(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, snap: Path
) -> None:
    out_dir = tmp_path / "runs"
    out_dir.mkdir()
    for _ in range(3):
        run(capsys, "report", str(snap), "-q", "--out-dir", str(out_dir))
    names = [n for n in _runs(out_dir) if n.endswith(".json") and n != "latest.json"]
    assert names == [
        "testhost-20261122T033000Z-2.json",
        "testhost-20261122T033000Z-3.json",
        "testhost-20261122T033000Z.json",
    ]


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["--keep", "3"], "--keep and --prom go with --out-dir"),
        (["--prom"], "--keep and --prom go with --out-dir"),
        (["--out-dir", "/nonexistent/dir"], "is not a directory"),
        (["--out-dir", "DIR", "--keep", "0"], "--keep must be at least 1"),
    ],
)
def test_out_dir_usage_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, snap: Path, args: list[str], why: str
) -> None:
    args = [str(tmp_path) if a == "DIR" else a for a in args]
    code, _, err = run(capsys, "report", str(snap), *args)
    assert code == 2 and why in err


def test_a_broken_previous_run_in_the_dir_only_warns(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, snap: Path
) -> None:
    (tmp_path / "testhost-20200101T000000Z.json").write_text("not json", encoding="utf-8")
    code, _, err = run(capsys, "report", str(snap), "-q", "--out-dir", str(tmp_path))
    assert code == 1
    assert "warning: no comparison with the previous run" in err
    assert (tmp_path / "latest.html").is_file()


def test_a_reader_polling_latest_html_never_sees_a_partial_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_dir = tmp_path / "runs"
    out_dir.mkdir()
    snaps = [
        write_snapshot(
            tmp_path / f"{i}.json",
            *(container(name=f"c{j}", id=f"{i:02x}{j:062x}", privileged=j % 3 == 0) for j in range(40)),
            at=f"2026-11-{10 + i}T03:30:00+00:00",
        )
        for i in range(5)
    ]
    seen: list[str] = []
    bad: list[str] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            try:
                data = (out_dir / "latest.html").read_bytes()
            except FileNotFoundError:
                continue
            text = data.decode("utf-8")
            seen.append(text[-8:])
            if not (text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")):
                bad.append(f"{len(data)} bytes: {text[-60:]!r}")

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        for s in snaps:
            run(capsys, "report", str(s), "-q", "--out-dir", str(out_dir), "--keep", "2")
    finally:
        stop.set()
        reader.join()
    assert seen, "the reader never saw latest.html"
    assert not bad, bad[:3]
    assert not [n for n in _runs(out_dir) if n.startswith(".")], "a temporary file was left behind"
