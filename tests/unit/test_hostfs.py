"""runbench.hostfs: host files are read without following symlinks out of place, regular files only, capped,
strict UTF-8; user-given files follow symlinks but never hang on a FIFO and are capped too."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from runbench import hostfs
from runbench.hostfs import UserFileError, read_host_file, read_user_file

T = TypeVar("T")
SECRET = "-----BEGIN OPENSSH PRIVATE KEY----- do-not-leak-7731"


@contextmanager
def _deadline(seconds: int = 3) -> Iterator[None]:
    """Fail the test instead of hanging it: a read that blocks is interrupted by SIGALRM."""

    def _expired(signum: int, frame: Any) -> None:
        raise TimeoutError("the read blocked")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _fast(fn: Callable[[], T]) -> T:
    started = time.monotonic()
    with _deadline():
        result = fn()
    assert time.monotonic() - started < 1.0
    return result


def test_a_regular_file_is_read_with_its_owner_and_mode(tmp_path: Path) -> None:
    f = tmp_path / "daemon.json"
    f.write_text('{"icc": false}\n')
    os.chmod(f, 0o640)
    os.chown(f, 1234, 4321)
    got = read_host_file(str(f))
    assert got.ok and got.text == '{"icc": false}\n' and got.why == ""
    assert (got.uid, got.gid, got.mode) == (1234, 4321, 0o640)
    assert not got.missing and got.link == "" and got.followed == ""


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "daemon.json"
    os.mkfifo(fifo)
    got = _fast(lambda: read_host_file(str(fifo)))
    assert got.text is None and got.why == "is a FIFO" and not got.missing


def test_a_fifo_reached_through_an_allowed_symlink_is_refused_too(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "daemon.json").symlink_to("pipe")
    got = _fast(lambda: read_host_file(str(tmp_path / "daemon.json"), within=str(tmp_path)))
    assert got.text is None and got.why == "is a symlink to pipe: is a FIFO" and got.link == "pipe"


def test_a_symlink_to_dev_zero_is_never_read(tmp_path: Path) -> None:
    link = tmp_path / "daemon.json"
    link.symlink_to("/dev/zero")
    plain = _fast(lambda: read_host_file(str(link)))
    assert plain.text is None and plain.why == "is a symlink to /dev/zero: not followed" and plain.link == "/dev/zero"
    outside = _fast(lambda: read_host_file(str(link), within=str(tmp_path)))
    assert outside.text is None and "outside" in outside.why and "/dev/zero" in outside.why
    inside = _fast(lambda: read_host_file(str(link), within="/dev"))
    assert inside.text is None and inside.why == "is a symlink to /dev/zero: is a character device"


def test_a_symlink_to_a_private_file_outside_the_directory_is_refused(tmp_path: Path) -> None:
    etc_docker, home = tmp_path / "etc-docker", tmp_path / "root"
    etc_docker.mkdir()
    home.mkdir()
    key = home / "id_ed25519"
    key.write_text(SECRET)
    os.chmod(key, 0o600)
    (etc_docker / "daemon.json").symlink_to(key)
    got = read_host_file(str(etc_docker / "daemon.json"), within=str(etc_docker))
    assert got.text is None and got.why.startswith(f"is a symlink to {key}") and str(etc_docker) in got.why
    assert got.link == str(key) and got.followed == "" and got.uid is None
    assert SECRET not in repr(got)


def test_a_symlinked_directory_leading_outside_is_refused(tmp_path: Path) -> None:
    etc_docker, elsewhere = tmp_path / "etc-docker", tmp_path / "elsewhere"
    etc_docker.mkdir()
    elsewhere.mkdir()
    (elsewhere / "daemon.json").write_text(SECRET)
    (etc_docker / "conf").symlink_to(elsewhere)
    (etc_docker / "daemon.json").symlink_to("conf/daemon.json")
    got = read_host_file(str(etc_docker / "daemon.json"), within=str(etc_docker))
    assert got.text is None and "outside" in got.why and SECRET not in repr(got)


def test_a_symlink_inside_the_directory_is_followed_and_recorded(tmp_path: Path) -> None:
    etc_docker = tmp_path / "etc-docker"
    (etc_docker / "conf.d").mkdir(parents=True)
    real = etc_docker / "conf.d" / "prod.json"
    real.write_text('{"live-restore": true}')
    os.chmod(real, 0o600)
    (etc_docker / "daemon.json").symlink_to("conf.d/prod.json")
    (etc_docker / "alias.json").symlink_to("daemon.json")  # a chain stays inside too
    for name in ("daemon.json", "alias.json"):
        got = read_host_file(str(etc_docker / name), within=str(etc_docker))
        assert got.text == '{"live-restore": true}', got.why
        assert got.followed == str(real) and got.link and got.mode == 0o600


def test_a_dangling_symlink_inside_the_directory_is_missing(tmp_path: Path) -> None:
    (tmp_path / "daemon.json").symlink_to("nowhere.json")
    got = read_host_file(str(tmp_path / "daemon.json"), within=str(tmp_path))
    assert got.missing and got.text is None and got.link == "nowhere.json"
    assert got.why == "is a symlink to nowhere.json: no such file"


def test_a_symlink_swapped_while_being_followed_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What was opened must be what was resolved (st_dev/st_ino), or nothing is returned."""
    (tmp_path / "real.json").write_text("{}")
    (tmp_path / "other.json").write_text(SECRET)
    (tmp_path / "daemon.json").symlink_to("real.json")
    resolved = str(tmp_path / "real.json")
    true_stat = os.stat

    def stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if path == resolved:  # the resolved path now names another file
            return true_stat(tmp_path / "other.json", *args, **kwargs)
        return true_stat(path, *args, **kwargs)

    monkeypatch.setattr(hostfs.os, "stat", stat)
    got = read_host_file(str(tmp_path / "daemon.json"), within=str(tmp_path))
    assert got.text is None and "changed" in got.why


def test_a_large_file_is_refused_by_the_cap_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "daemon.json"
    with open(big, "wb") as fh:
        fh.truncate(10 * 1024 * 1024)
    got = _fast(lambda: read_host_file(str(big)))
    assert got.text is None and got.why == f"is {10 * 1024 * 1024} bytes, over the {1024 * 1024}-byte cap"
    assert read_host_file(str(big), max_bytes=20 * 1024 * 1024).text == "\0" * (10 * 1024 * 1024)


def test_a_file_that_lies_about_its_size_is_cut_at_the_cap() -> None:
    """/proc files say they are empty: the cap holds while reading, not only on fstat."""
    assert os.stat("/proc/self/status").st_size == 0
    got = read_host_file("/proc/self/status", max_bytes=64)
    assert got.text is None and got.why == "is over the 64-byte cap"
    assert read_host_file("/proc/self/status").ok


def test_a_directory_a_socket_and_a_missing_file(tmp_path: Path) -> None:
    got = read_host_file(str(tmp_path))
    assert got.text is None and got.why == "is a directory" and not got.missing
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(tmp_path / "docker.sock"))
        got = _fast(lambda: read_host_file(str(tmp_path / "docker.sock")))
    assert got.why == "is a socket"
    missing = read_host_file(str(tmp_path / "absent.json"))
    assert missing.missing and missing.text is None and missing.why == "no such file"


def test_unreadable_is_not_missing(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    got = read_host_file(str(tmp_path / "file" / "daemon.json"))
    assert not got.missing and got.text is None and got.why == "cannot read: Not a directory"


def test_non_utf8_content_is_a_reason_not_a_crash(tmp_path: Path) -> None:
    f = tmp_path / "daemon.json"
    f.write_bytes(b'{"labels": ["caf\xe9"]}')
    got = read_host_file(str(f))
    assert got.text is None and got.why == "not UTF-8 text (byte 0xe9 at offset 16)"
    assert got.uid == 0  # what was opened is still described
    assert read_host_file(str(f), errors="surrogateescape").text == '{"labels": ["caf\udce9"]}'


def test_a_hard_link_is_an_ordinary_file(tmp_path: Path) -> None:
    (tmp_path / "original.json").write_text("{}")
    os.link(tmp_path / "original.json", tmp_path / "daemon.json")
    got = read_host_file(str(tmp_path / "daemon.json"), within=str(tmp_path))
    assert got.text == "{}" and got.link == "" and got.followed == ""


# --- user-given files ------------------------------------------------------------------------------


def test_user_file_reads_a_regular_file_and_follows_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "snap.json").write_bytes(b'{"schema": 1}')
    (tmp_path / "latest.json").symlink_to("snap.json")
    assert read_user_file(str(tmp_path / "latest.json")) == b'{"schema": 1}'


def test_user_file_refuses_a_fifo_at_once(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "snap.json")
    with pytest.raises(UserFileError, match="is a FIFO") as caught:
        _fast(lambda: read_user_file(str(tmp_path / "snap.json")))
    assert caught.value.reason == "is a FIFO" and caught.value.path == str(tmp_path / "snap.json")


def test_user_file_refuses_devices_directories_missing_and_oversized(tmp_path: Path) -> None:
    with pytest.raises(UserFileError, match="is a character device"):
        _fast(lambda: read_user_file("/dev/zero"))
    with pytest.raises(UserFileError, match="is a directory"):
        read_user_file(str(tmp_path))
    with pytest.raises(UserFileError, match="No such file"):
        read_user_file(str(tmp_path / "absent.json"))
    big = tmp_path / "big.json"
    with open(big, "wb") as fh:
        fh.truncate(3000)
    with pytest.raises(UserFileError, match="over the 1000-byte cap"):
        _fast(lambda: read_user_file(str(big), max_bytes=1000))
    with pytest.raises(UserFileError, match="over the 64-byte cap"):
        read_user_file("/proc/self/status", max_bytes=64)
    assert hostfs.USER_FILE_CAP == 256 * 1024 * 1024
