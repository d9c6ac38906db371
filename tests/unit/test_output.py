"""runbench.output: targets checked before anything runs, atomic writes that keep the old file on failure,
modes that are never world-readable, stdout failures that are told and not raised as tracebacks."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from runbench import output
from runbench.hostfs import UserFileError
from runbench.output import REPORT_MODE, SNAPSHOT_MODE, OutputError, check_target, write_atomic, write_stdout

IN_CI = os.environ.get("CI") == "true"


@contextlib.contextmanager
def mounted_tmpfs(where: Path, options: str) -> Iterator[Path]:
    """A tmpfs mounted at `where` for the duration (root only). Outside CI, a host that does not permit the
    mount skips the test, saying why; in CI (CI=true) it fails instead."""
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        reason = f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode}): needs root and CAP_SYS_ADMIN"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB filesystem: a report larger than what is left does not fit."""
    with mounted_tmpfs(tmp_path / "small", "size=64k,mode=0755") as where:
        yield where


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def leftovers(directory: Path, *keep: str) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name not in keep)


def fill(directory: Path) -> None:
    """Fill the filesystem of `directory` up to the last byte."""
    fd = os.open(directory / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        with contextlib.suppress(OSError):
            while os.write(fd, b"\0" * 4096):
                pass
        with contextlib.suppress(OSError):
            while os.write(fd, b"\0"):
                pass
    finally:
        os.close(fd)


# --- write_atomic -------------------------------------------------------------------------------


def test_a_report_is_written_0640_and_a_snapshot_0600(tmp_path: Path, umask_022: None) -> None:
    write_atomic(str(tmp_path / "r.json"), '{"x": "é"}\n', REPORT_MODE)
    write_atomic(str(tmp_path / "s.json"), b"{}\n", SNAPSHOT_MODE)
    assert (tmp_path / "r.json").read_text(encoding="utf-8") == '{"x": "é"}\n'
    assert stat.S_IMODE((tmp_path / "r.json").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "s.json").stat().st_mode) == 0o600
    assert leftovers(tmp_path, "r.json", "s.json") == []


def test_a_world_readable_old_report_is_replaced_by_a_0640_one(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "r.txt"
    path.write_text("old\n")
    path.chmod(0o644)
    write_atomic(str(path), "new\n", REPORT_MODE)
    assert path.read_text() == "new\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_the_umask_only_narrows_the_mode(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        write_atomic(str(tmp_path / "r.json"), "{}", REPORT_MODE)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "r.json").stat().st_mode) == 0o600


def test_a_full_filesystem_keeps_the_old_report_and_leaves_no_temp_file(small_fs: Path) -> None:
    path = small_fs / "r.json"
    path.write_text('{"old": true}\n')
    fill(small_fs)
    with pytest.raises(OutputError) as caught:
        write_atomic(str(path), "x" * 200_000, REPORT_MODE)
    assert str(caught.value) == f"could not write {path}: No space left on device"
    assert path.read_text() == '{"old": true}\n'
    assert leftovers(small_fs, "r.json", "filler") == []


def test_a_report_larger_than_the_filesystem_keeps_the_old_one(small_fs: Path) -> None:
    path = small_fs / "r.txt"
    path.write_text("previous report\n")
    with pytest.raises(OutputError, match="No space left on device"):
        write_atomic(str(path), "y" * 100_000, REPORT_MODE)  # more than the whole 64 KiB
    assert path.read_text() == "previous report\n"
    assert leftovers(small_fs, "r.txt") == []


def test_a_failing_fsync_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "r.json"
    path.write_text("old")

    def eio(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fsync", eio)
    with pytest.raises(OutputError, match="Input/output error"):
        write_atomic(str(path), "new", REPORT_MODE)
    assert path.read_text() == "old"
    assert leftovers(tmp_path, "r.json") == []


def test_a_symlink_at_the_target_is_replaced_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    link = tmp_path / "r.json"
    link.symlink_to(victim)
    write_atomic(str(link), "{}", REPORT_MODE)
    assert victim.read_text() == "keep me"
    assert not link.is_symlink() and link.read_text() == "{}"


def test_writing_into_a_missing_directory_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="No such file or directory"):
        write_atomic(str(tmp_path / "nope" / "r.json"), "{}", REPORT_MODE)
    assert not (tmp_path / "nope").exists()


# --- check_target -------------------------------------------------------------------------------


def test_a_new_file_in_a_writable_directory_and_stdout_are_fine(tmp_path: Path) -> None:
    check_target(str(tmp_path / "r.json"))
    check_target("-")
    (tmp_path / "old.json").write_text("{}")
    check_target(str(tmp_path / "old.json"))


def test_a_missing_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(OutputError) as caught:
        check_target(str(tmp_path / "missing" / "r.json"))
    assert (
        str(caught.value)
        == f"cannot write {tmp_path / 'missing' / 'r.json'}: the directory {tmp_path / 'missing'} does not exist"
    )


def test_a_directory_as_target_is_refused(tmp_path: Path) -> None:
    (tmp_path / "r.json").mkdir()
    with pytest.raises(OutputError, match=": is a directory$"):
        check_target(str(tmp_path / "r.json"))


def test_a_file_as_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="is not a directory"):
        check_target(str(tmp_path / "file" / "r.json"))


def test_a_fifo_as_target_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "r.json")
    with pytest.raises(OutputError, match=": is a FIFO$"):
        check_target(str(tmp_path / "r.json"))


def test_an_unwritable_directory_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        with pytest.raises(OutputError, match="is not writable"):
            check_target(str(locked / "r.json"))
        return
    # root may write anywhere: a read-only filesystem is what stops it
    with mounted_tmpfs(tmp_path / "ro", "ro,size=16k") as locked:
        with pytest.raises(OutputError) as caught:
            check_target(str(locked / "r.json"))
        assert str(caught.value) == f"cannot write {locked / 'r.json'}: the directory {locked} is not writable"


# --- stdout -------------------------------------------------------------------------------------


class _Failing(io.StringIO):
    def __init__(self, exc: OSError) -> None:
        super().__init__()
        self.exc = exc

    def flush(self) -> None:
        raise self.exc


def test_a_closed_pipe_on_stdout_is_a_broken_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdout", _Failing(BrokenPipeError(errno.EPIPE, "Broken pipe")))
    with pytest.raises(BrokenPipeError):
        write_stdout("report")


def test_a_full_stdout_is_an_output_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdout", _Failing(OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(OutputError) as caught:
        write_stdout("report")
    assert str(caught.value) == "could not write stdout: No space left on device"


# --- stdin --------------------------------------------------------------------------------------


def test_stdin_is_read_up_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("x" * 10))
    assert output.read_stdin_bounded(10) == "x" * 10
    monkeypatch.setattr("sys.stdin", io.StringIO("x" * 11))
    with pytest.raises(UserFileError, match="stdin: is over the 10-byte cap"):
        output.read_stdin_bounded(10)


def test_a_nul_in_a_file_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="cannot hold a NUL character"):
        check_target(str(tmp_path / "r\x00.json"))


def test_a_report_written_piece_by_piece_replaces_the_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("yesterday")
    write_atomic(str(target), iter(["{", '"a": 1', "}"]), 0o640)
    assert target.read_text() == '{"a": 1}'

    def broken() -> Iterator[str]:
        yield "{"
        raise ValueError("the report holds a non-finite number")

    with pytest.raises(ValueError, match="non-finite"):
        write_atomic(str(target), broken(), 0o640)
    assert target.read_text() == '{"a": 1}'  # the old report stays, and no temporary file is left
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
