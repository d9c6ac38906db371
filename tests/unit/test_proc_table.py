"""The process table's own /proc pass gives what psutil's process_iter gave (name by psutil's rules, parent,
real uid, executable), reads each status file once for the container processes, and copes with processes
that exit or hide their files."""

from __future__ import annotations

import os
from pathlib import Path

import psutil

from runbench.collect.proc import ProcessTable, parent_pid, read_status, with_status
from runbench.snapshot import ProcessFacts

STATUS = "Name:\t{name}\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t0\t0\t0\t0\n"
CAPS = "CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t00000000a80425fb\nSeccomp:\t2\n"


def fake_proc(
    tmp_path: Path,
    pid: int,
    comm: str,
    *,
    ppid: int = 1,
    uid: int | None = 0,
    cmdline: bytes = b"",
    exe: str | None = None,
) -> Path:
    d = tmp_path / str(pid)
    d.mkdir(parents=True)
    (d / "stat").write_bytes(f"{pid} ({comm}) S {ppid} {pid} {pid} 0 -1 4194560 0 0".encode())
    if uid is not None:
        (d / "status").write_text(STATUS.format(name=comm, uid=uid) + CAPS)
    (d / "cmdline").write_bytes(cmdline)
    if exe is not None:
        os.symlink(exe, d / "exe")
    return d


def test_a_truncated_name_is_extended_from_argv0_as_psutil_does(tmp_path: Path) -> None:
    fake_proc(
        tmp_path,
        10,
        "containerd-shim",
        cmdline=b"/usr/bin/containerd-shim-runc-v2\x00-id\x00abc\x00",
        exe="/usr/bin/containerd-shim-runc-v2",
    )
    fake_proc(tmp_path, 11, "gnome-keyring-d", cmdline=b"/usr/bin/other\x00")  # argv0 does not extend it
    fake_proc(tmp_path, 12, "a-very-long-nam", cmdline=b"")  # a kernel thread or zombie: no argv
    table = ProcessTable.read(proc=str(tmp_path))
    assert table.procs[10].name == "containerd-shim-runc-v2"
    assert table.procs[10].exe == "containerd-shim-runc-v2"
    assert table.procs[11].name == "gnome-keyring-d"
    assert table.procs[12].name == "a-very-long-nam"


def test_parent_uid_exe_and_the_command_lines_asked_for(tmp_path: Path) -> None:
    fake_proc(tmp_path, 20, "dockerd", ppid=1, uid=0, cmdline=b"dockerd\x00-H\x00fd://\x00", exe="/usr/bin/dockerd")
    fake_proc(tmp_path, 21, "sleep", ppid=20, uid=1000, cmdline=b"sleep\x003600\x00", exe="/bin/sleep")
    fake_proc(tmp_path, 22, "weird ) name (x", ppid=21, uid=7)  # parentheses in the name
    fake_proc(tmp_path, 23, "titled", cmdline=b"nginx: master process a b\x00")  # setproctitle: split by spaces
    table = ProcessTable.read(cmdline_of=frozenset({"dockerd", "titled"}), proc=str(tmp_path))
    assert table.parent == {20: 1, 21: 20, 22: 21, 23: 1}
    assert (table.procs[21].uid, table.procs[21].exe) == (1000, "sleep")
    assert table.procs[22].name == "weird ) name (x" and table.procs[22].exe == ""
    assert table.cmdline == {20: ("dockerd", "-H", "fd://"), 23: ("nginx:", "master", "process", "a", "b")}


def test_a_process_whose_status_is_unreadable_has_no_uid_and_its_status_is_read_again(tmp_path: Path) -> None:
    fake_proc(tmp_path, 30, "hidden", uid=None)
    fake_proc(tmp_path, 31, "seen", uid=5)
    (tmp_path / "self").mkdir()  # not a pid: ignored
    table = ProcessTable.read(proc=str(tmp_path))
    assert table.procs[30].uid is None and 30 not in table.status
    assert table.procs[31].uid == 5 and table.status[31].startswith("Name:\tseen")
    seen = with_status(table.procs[31], str(tmp_path), table.status.get(31))
    assert seen.status is not None and seen.status.uid == (5, 5, 5, 5) and seen.status.seccomp == 2
    gone = with_status(ProcessFacts(pid=30, name="hidden", exe="", uid=None), str(tmp_path), table.status.get(30))
    assert gone.status is None and gone.status_why == "pid 30 exited during the scan"


def test_a_status_text_from_the_table_is_parsed_like_a_fresh_read(tmp_path: Path) -> None:
    fake_proc(tmp_path, 40, "app", uid=33)
    text = (tmp_path / "40" / "status").read_text()
    assert read_status(40, str(tmp_path), text) == read_status(40, str(tmp_path))


def test_a_missing_proc_gives_an_empty_table(tmp_path: Path) -> None:
    assert ProcessTable.read(proc=str(tmp_path / "nowhere")).procs == {}


def _psutil_pass() -> dict[int, tuple[str, str, int | None, int]]:
    ref = {}
    for p in psutil.process_iter(["pid", "ppid", "name", "exe", "uids"], ad_value=None):
        i = p.info
        uid = i["uids"].real if i["uids"] else None
        ref[i["pid"]] = (i["name"] or "", os.path.basename(i["exe"] or ""), uid, int(i["ppid"] or 0))
    return ref


def test_the_live_table_agrees_with_psutil() -> None:
    """On this host: every process that psutil saw the same before and after our pass (not starting, ending
    or exec'ing meanwhile; no kernel thread) has psutil's name, parent, real uid and executable in our table."""
    before = _psutil_pass()
    table = ProcessTable.read()
    after = _psutil_pass()
    # kernel threads (children of kthreadd, pid 2) rename themselves as they take work: left out
    userland = {pid: want for pid, want in before.items() if want[3] != 2 and pid != 2}
    stable = {pid: want for pid, want in userland.items() if after.get(pid) == want and pid in table.procs}
    for pid, want in stable.items():
        got = table.procs[pid]
        assert (got.name, got.exe, got.uid, table.parent[pid]) == want, pid
    assert os.getpid() in stable and len(stable) >= 0.5 * len(userland)
    me = table.procs[os.getpid()]
    assert me.uid == os.getuid() and me.name == psutil.Process().name()


def test_parent_pid_reads_the_stat_file(tmp_path: Path) -> None:
    fake_proc(tmp_path, 50, "a (b) c", ppid=49)
    assert parent_pid(50, str(tmp_path)) == 49
    assert parent_pid(51, str(tmp_path)) == 0  # gone
    assert parent_pid(os.getpid()) == os.getppid()
