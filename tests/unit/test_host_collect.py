"""Which dockerd serves the engine's socket, proven by what a local user cannot forge (a synthetic /proc and the
real one), what is read of an unproven one, daemon.json ownership, and the processes of a container that
exits during the scan."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from builders import container, host

from runbench.collect import host as hostmod
from runbench.collect.host import daemon_facts, find_dockerd, listener_pid, read_daemon_json
from runbench.collect.proc import ProcessTable, attach_processes
from runbench.snapshot import DaemonFacts, Fact, ProcessFacts

SOCK = "/var/run/docker.sock"
HOST = f"unix://{SOCK}"
UNIX_HEADER = "Num       RefCount Protocol Flags    Type St Inode Path\n"
TCP_HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"


def no_peer(sock: str) -> int | None:
    """The kernel's word on the listener is not available (the synthetic /proc has no real sockets)."""
    return None


def listening(inode: int, path: str) -> str:
    return f"0000000000000000: 00000002 00000000 00010000 0001 01 {inode} {path}\n"


def connected(inode: int, path: str) -> str:
    return f"0000000000000000: 00000003 00000000 00000000 0001 03 {inode} {path}\n"


class FakeProc:
    """A /proc tree: net/unix, net/tcp and /proc/<pid>/fd symlinks (`socket:[INODE]`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "net").mkdir(parents=True)

    def __str__(self) -> str:
        return str(self.root)

    def unix(self, *lines: str) -> None:
        (self.root / "net" / "unix").write_text(UNIX_HEADER + "".join(lines))

    def tcp(self, *lines: str) -> None:
        (self.root / "net" / "tcp").write_text(TCP_HEADER + "".join(lines))

    def fds(self, pid: int, **fds: str) -> None:
        fd_dir = self.root / str(pid) / "fd"
        fd_dir.mkdir(parents=True)
        for number, target in fds.items():
            os.symlink(target, fd_dir / number.removeprefix("fd"))

    def status(self, pid: int, uid: int, gid: int, groups: str = "") -> None:
        (self.root / str(pid)).mkdir(parents=True, exist_ok=True)
        text = (
            f"Name:\tdockerd\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t{gid}\t{gid}\t{gid}\t{gid}\nGroups:\t{groups}\n"
        )
        (self.root / str(pid) / "status").write_text(text)


@pytest.fixture
def proc(tmp_path: Path) -> FakeProc:
    return FakeProc(tmp_path / "proc")


def table(dockerd: dict[int, tuple[str, ...]], others: dict[int, str] | None = None, uid: int = 0) -> ProcessTable:
    t = ProcessTable()
    for pid, argv in dockerd.items():
        t.procs[pid] = ProcessFacts(pid=pid, name="dockerd", exe="dockerd", uid=uid)
        t.cmdline[pid] = argv
    for pid, name in (others or {}).items():
        t.procs[pid] = ProcessFacts(pid=pid, name=name, exe=name, uid=0)
    return t


REAL = ("/usr/bin/dockerd", "--containerd=/run/containerd/containerd.sock")
FAKE = ("dockerd", "-H", HOST, "--no-new-privileges")


def unreadable_fds(monkeypatch: pytest.MonkeyPatch, *paths: str) -> None:
    """Listing those fd directories fails as it does for another user's process when runbench is not root."""
    real_listdir = os.listdir

    def listdir(path: str) -> list[str]:
        if path in paths:
            raise PermissionError(13, "Permission denied")
        return real_listdir(path)

    monkeypatch.setattr(hostmod.os, "listdir", listdir)


# --- identity on a synthetic /proc ----------------------------------------------------------------


def test_the_process_holding_the_listening_socket_is_verified(proc: FakeProc) -> None:
    proc.unix(connected(0, SOCK), listening(5001, SOCK), connected(5002, SOCK))
    proc.fds(100, fd3="/dev/null", fd6="socket:[5001]", fd7="socket:[5002]")
    proc.fds(200, fd3="socket:[9999]")
    ident = find_dockerd(table({100: REAL, 200: FAKE}), HOST, proc=str(proc), peer=no_peer)
    assert ident.pid == 100 and ident.verified
    assert ident.verified_by == f"dockerd pid 100 holds the listening socket of {SOCK} (socket:[5001] as fd 6)"


def test_a_fake_dockerd_naming_the_socket_is_not_chosen(proc: FakeProc) -> None:
    """The real daemon is not visible (another PID namespace); a local user's `dockerd -H unix://...` is."""
    proc.unix(listening(5001, SOCK))
    proc.fds(200, fd3="socket:[7777]")
    ident = find_dockerd(table({200: FAKE}), HOST, proc=str(proc), peer=no_peer)
    assert ident.pid is None and not ident.verified
    assert ident.why == f"no visible dockerd holds the listening socket of {SOCK} (socket:[5001])"
    facts, why, config = daemon_facts(table({200: FAKE}), HOST, proc=str(proc), peer=no_peer)
    assert facts is None and why == ident.why and config.text is None


def test_unreadable_fds_leave_the_daemon_unverified_with_the_reason(
    proc: FakeProc, monkeypatch: pytest.MonkeyPatch
) -> None:
    proc.unix(listening(5001, SOCK))
    proc.fds(100, fd6="socket:[5001]")
    proc.fds(200, fd3="socket:[7777]")
    unreadable_fds(monkeypatch, f"{proc}/100/fd")
    ident = find_dockerd(table({100: REAL, 200: FAKE}), HOST, proc=str(proc), peer=no_peer)
    assert not ident.verified
    assert ident.verified_by == (
        f"cannot verify which process serves {SOCK}: cannot read the open files of pid 100: Permission denied "
        "(uid 0): run runbench as root"
    )
    # the best candidate for evidence is the one that could not be ruled out, not the fake whose fds were read
    assert ident.pid == 100 and ident.why == f"the only dockerd that may hold the socket of {SOCK} (pid 100)"


def test_an_unverified_daemon_is_evidence_only(proc: FakeProc, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Its argv is kept as evidence, but the --config-file it names is not read and no socket is taken from it."""
    planted = tmp_path / "planted.json"
    planted.write_text('{"no-new-privileges": true}')
    argv = ("dockerd", "-H", HOST, "-H", "unix:///tmp/other.sock", f"--config-file={planted}")
    proc.unix(listening(5001, SOCK))
    proc.fds(200, fd3="socket:[5001]")
    unreadable_fds(monkeypatch, f"{proc}/200/fd")
    facts, why, config = daemon_facts(table({200: argv}), HOST, proc=str(proc), peer=no_peer)
    assert facts is not None and facts.pid == 200 and facts.argv == argv
    assert (
        facts.verified is False
        and facts.verified_by
        and facts.verified_by.startswith(f"cannot verify which process serves {SOCK}:")
    )
    assert facts.config_file == "" and facts.sockets == (SOCK,)
    assert config.text is None and config.path == "" and config.why == f"not read: {facts.verified_by}"
    assert why == f"the only dockerd that may hold the socket of {SOCK} (pid 200)"


def test_socket_activation_systemd_listens_and_dockerd_holds_fd_3(proc: FakeProc) -> None:
    proc.unix(listening(7001, "/run/docker.sock"))
    proc.fds(1, fd30="socket:[7001]", fd31="socket:[7002]")
    proc.fds(100, fd3="socket:[7001]")
    argv = ("/usr/bin/dockerd", "-H", "fd://")
    t = table({100: argv}, {1: "systemd"})
    ident = find_dockerd(t, "unix:///run/docker.sock", proc=str(proc), peer=lambda sock: 1)
    assert ident.pid == 100 and ident.verified
    assert ident.verified_by == (
        "dockerd pid 100 holds the listening socket of /run/docker.sock (socket:[7001] as fd 3); "
        "pid 1 (systemd) listens on /run/docker.sock and passed it on (socket activation)"
    )
    # without the kernel's word on the listener, dockerd holding the inode is the proof on its own
    assert find_dockerd(t, "unix:///run/docker.sock", proc=str(proc), peer=no_peer).pid == 100


def test_the_kernels_listener_is_proof_without_reading_any_fd(proc: FakeProc) -> None:
    """SO_PEERCRED names the process that called listen(): a non-root run can verify the daemon by it."""
    ident = find_dockerd(table({100: REAL, 200: FAKE}), HOST, proc=str(proc), peer=lambda sock: 100)
    assert ident.pid == 100 and ident.verified
    assert ident.verified_by == f"the kernel names dockerd pid 100 as the listener on {SOCK} (SO_PEERCRED)"


def test_a_socket_served_by_something_else_names_no_dockerd(proc: FakeProc) -> None:
    """A proxy (socat) listening on the socket: no visible dockerd serves it, whatever their argv says."""
    proc.unix(listening(8001, SOCK))
    proc.fds(50, fd5="socket:[8001]")
    proc.fds(100, fd6="socket:[5001]")
    ident = find_dockerd(table({100: REAL}, {50: "socat"}), HOST, proc=str(proc), peer=lambda sock: 50)
    assert ident.pid is None and not ident.verified
    assert ident.why == (
        f"no visible dockerd holds the listening socket of {SOCK} (socket:[8001]); pid 50 (socat) listens on {SOCK}"
    )


def test_an_unreadable_socket_table_leaves_the_daemon_unverified(proc: FakeProc) -> None:
    ident = find_dockerd(table({100: REAL}), HOST, proc=str(proc), peer=no_peer)
    assert ident.pid == 100 and not ident.verified
    assert ident.verified_by == f"cannot verify which process serves {SOCK}: cannot read {proc}/net/unix: no such file"


def test_two_listeners_claiming_the_path_prove_nothing_unless_the_kernel_names_one(proc: FakeProc) -> None:
    """A stale daemon whose socket file was replaced keeps its name in /proc/net/unix."""
    proc.unix(listening(5001, SOCK), listening(6001, SOCK))
    proc.fds(100, fd6="socket:[5001]")
    proc.fds(300, fd6="socket:[6001]")
    t = table({100: REAL, 300: REAL})
    ident = find_dockerd(t, HOST, proc=str(proc), peer=no_peer)
    assert ident.pid is None and not ident.verified
    assert f"2 listening sockets claim {SOCK}" in ident.verified_by
    assert find_dockerd(t, HOST, proc=str(proc), peer=lambda sock: 300).pid == 300


def test_a_forged_line_in_the_socket_table_cannot_verify_a_fake(proc: FakeProc) -> None:
    """A socket bound at a path holding a newline prints a second, forged line into /proc/net/unix: it can
    only make the proof ambiguous, never move it to the forger's process."""
    forged_path = "/tmp/x\n" + listening(6666, SOCK).rstrip("\n")
    proc.unix(listening(5001, SOCK), listening(6000, forged_path))
    proc.fds(100, fd6="socket:[5001]")
    proc.fds(200, fd3="socket:[6666]")
    ident = find_dockerd(table({100: REAL, 200: FAKE}), HOST, proc=str(proc), peer=no_peer)
    assert not ident.verified and ident.pid != 200 and "2 listening sockets claim" in ident.verified_by
    ident = find_dockerd(table({100: REAL, 200: FAKE}), HOST, proc=str(proc), peer=lambda sock: 100)
    assert ident.verified and ident.pid == 100


def test_abstract_unbound_and_connected_sockets_are_not_the_listener(proc: FakeProc) -> None:
    proc.unix(
        listening(4001, "@" + SOCK),  # an abstract name is no file
        connected(4002, SOCK),  # a connection accepted on it carries its name
        listening(4003, SOCK + ".bak"),
        "0000000000000000: 00000002 00000000 00010000 0001 01 4004\n",  # unbound
        "garbage\n",
    )
    for inode in (4001, 4002, 4003, 4004):
        proc.fds(inode, fd3=f"socket:[{inode}]")
    fakes = table(dict.fromkeys((4001, 4002, 4003, 4004), FAKE))
    ident = find_dockerd(fakes, HOST, proc=str(proc), peer=no_peer)
    assert not ident.verified and ident.pid == 4001  # the first with -H: evidence only
    assert (
        ident.verified_by == f"cannot verify which process serves {SOCK}: no listening socket for {SOCK} in {proc}/net"
    )


def test_a_socket_path_through_a_symlinked_directory_matches(proc: FakeProc, tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "var-run").symlink_to(tmp_path / "run")
    proc.unix(listening(5001, f"{tmp_path}/run/docker.sock"))
    proc.fds(100, fd6="socket:[5001]")
    ident = find_dockerd(table({100: REAL}), f"unix://{tmp_path}/var-run/docker.sock", proc=str(proc), peer=no_peer)
    assert ident.pid == 100 and ident.verified


def test_a_loopback_tcp_engine_is_verified_by_its_listening_socket(proc: FakeProc) -> None:
    proc.tcp(
        "   0: 0100007F:0947 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9001 1 0 100 0\n",
        "   1: 0100007F:0947 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 9002 1 0 100 0\n",
    )
    proc.fds(100, fd5="socket:[9001]", fd9="socket:[9002]")
    proc.fds(200, fd5="socket:[9002]")
    ident = find_dockerd(table({100: REAL, 200: FAKE}), "tcp://127.0.0.1:2375", proc=str(proc), peer=no_peer)
    assert ident.pid == 100 and ident.verified and "socket:[9001] as fd 5" in ident.verified_by
    remote = find_dockerd(table({100: REAL}), "tcp://10.0.0.5:2376", proc=str(proc), peer=no_peer)
    assert (
        not remote.verified and remote.verified_by == "the engine at tcp://10.0.0.5:2376 is not on this host's loopback"
    )


# --- daemon.json of a verified daemon ---------------------------------------------------------------


def _verified(proc: FakeProc) -> None:
    proc.unix(listening(5001, SOCK))
    proc.fds(100, fd6="socket:[5001]")


def test_a_verified_daemon_reads_its_config_file(proc: FakeProc, tmp_path: Path) -> None:
    _verified(proc)
    conf = tmp_path / "etc-docker" / "daemon.json"
    conf.parent.mkdir()
    conf.write_text(json.dumps({"hosts": ["unix:///run/alt.sock"], "icc": False}))
    argv = ("/usr/bin/dockerd", "--config-file", str(conf))
    facts, _, config = daemon_facts(table({100: argv}), HOST, proc=str(proc), peer=no_peer)
    assert facts is not None and facts.verified is True and facts.config_file == str(conf)
    assert config.text is not None and json.loads(config.text)["icc"] is False
    assert facts.sockets == ("/run/alt.sock", SOCK)
    assert facts.config_file_owner_note is None and facts.config_file_link is None


def test_a_root_daemons_config_owned_by_another_user_is_noted(proc: FakeProc, tmp_path: Path) -> None:
    _verified(proc)
    conf = tmp_path / "daemon.json"
    conf.write_text("{}")
    os.chown(conf, 1234, 1234)
    facts, _, config = daemon_facts(
        table({100: ("dockerd", f"--config-file={conf}")}), HOST, proc=str(proc), peer=no_peer
    )
    assert facts is not None and config.text == "{}"
    assert facts.config_file_owner_note == (
        f"{conf} is owned by uid 1234, not root: that user can reconfigure a daemon running as root"
    )


def test_a_symlinked_config_is_followed_inside_its_directory_only(proc: FakeProc, tmp_path: Path) -> None:
    _verified(proc)
    etc = tmp_path / "etc-docker"
    etc.mkdir()
    (etc / "prod.json").write_text('{"debug": false}')
    (etc / "daemon.json").symlink_to("prod.json")
    (tmp_path / "secret.json").write_text('{"auths": {"x": "hunter2"}}')
    (etc / "evil.json").symlink_to(tmp_path / "secret.json")
    facts, _, config = daemon_facts(
        table({100: ("dockerd", f"--config-file={etc}/daemon.json")}), HOST, proc=str(proc), peer=no_peer
    )
    assert facts is not None and config.text == '{"debug": false}' and facts.config_file_link == "prod.json"
    facts, _, config = daemon_facts(
        table({100: ("dockerd", f"--config-file={etc}/evil.json")}), HOST, proc=str(proc), peer=no_peer
    )
    assert facts is not None and config.text is None and "hunter2" not in repr((facts, config))
    assert config.why.startswith(f"is a symlink to {tmp_path}/secret.json") and "outside" in config.why


def test_a_config_file_that_is_a_fifo_or_missing(proc: FakeProc, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "daemon.json")
    got = read_daemon_json(str(tmp_path / "daemon.json"), named=False, within=str(tmp_path))
    assert got.text is None and got.why == "is a FIFO"
    absent = str(tmp_path / "absent.json")
    assert read_daemon_json(absent, named=False).path == ""  # no daemon.json: nothing to say
    assert read_daemon_json(absent, named=True).why == "--config-file names a missing file (no such file)"


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory every user can search (tmp_path's parents are root's 0700)."""
    path = Path(tempfile.mkdtemp(prefix="rbt-", dir="/tmp"))
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        subprocess.run(["rm", "-rf", str(path)], check=False)


def test_a_rootless_daemon_reads_only_what_its_user_can(proc: FakeProc, shared_dir: Path) -> None:
    user = 1234
    proc.status(100, user, user)
    conf = shared_dir / "daemon.json"
    conf.write_text("{}")

    def read(owner: int, mode: int) -> tuple[DaemonFacts | None, str | None, str]:
        os.chown(conf, owner, owner)
        os.chmod(conf, mode)
        facts, _, config = daemon_facts(
            table({100: ("dockerd", f"--config-file={conf}")}, uid=user), HOST, proc=str(proc), peer=lambda s: 100
        )
        return facts, config.text, config.why

    facts, text, _ = read(user, 0o600)
    assert text == "{}" and facts is not None and facts.config_file_owner_note is None
    facts, text, _ = read(0, 0o644)
    assert text == "{}" and facts is not None and facts.config_file_owner_note is None
    facts, text, _ = read(4321, 0o644)
    assert text == "{}" and facts is not None
    assert facts.config_file_owner_note == f"{conf} is owned by uid 4321, neither root nor the daemon's user (uid 1234)"
    facts, text, why = read(0, 0o600)  # root's private file: runbench could read it, the daemon could not
    assert text is None and why == "not read: the daemon's user (uid 1234) cannot read it, so it is not the daemon's"
    os.chmod(shared_dir, 0o700)  # nor a readable file in a directory it cannot search
    facts, text, _ = read(0, 0o644)
    assert text is None


# --- identity against the real /proc ------------------------------------------------------------


LISTENER = """
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen()
print("ready", flush=True)
time.sleep(60)
"""


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for child in started:
        child.kill()
        child.wait()


def _listen_in_child(sock: str, started: list[subprocess.Popen[str]]) -> subprocess.Popen[str]:
    child = subprocess.Popen([sys.executable, "-c", LISTENER, sock], stdout=subprocess.PIPE, text=True)
    started.append(child)
    assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    return child


def _sleeper(started: list[subprocess.Popen[str]], **kw: object) -> subprocess.Popen[str]:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], text=True, **kw)  # type: ignore[call-overload]
    started.append(child)
    return child


def test_real_proc_the_child_holding_the_socket_is_verified(
    shared_dir: Path, children: list[subprocess.Popen[str]]
) -> None:
    sock = str(shared_dir / "docker.sock")
    real = _listen_in_child(sock, children)
    fake = _sleeper(children)
    t = table({real.pid: REAL, fake.pid: ("dockerd", "-H", f"unix://{sock}")})
    by_kernel = find_dockerd(t, f"unix://{sock}")
    assert by_kernel.pid == real.pid and by_kernel.verified and "SO_PEERCRED" in by_kernel.verified_by
    assert listener_pid(sock) == real.pid
    by_inode = find_dockerd(t, f"unix://{sock}", peer=no_peer)
    assert by_inode.pid == real.pid and by_inode.verified
    assert by_inode.verified_by.startswith(f"dockerd pid {real.pid} holds the listening socket of {sock} (socket:[")


def test_real_proc_socket_activation(shared_dir: Path, children: list[subprocess.Popen[str]]) -> None:
    """This test process listens (as systemd would) and passes the socket to a child (dockerd -H fd://)."""
    sock = str(shared_dir / "docker.sock")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(sock)
        server.listen()
        child = _sleeper(children, pass_fds=(server.fileno(),))
        t = table({child.pid: ("dockerd", "-H", "fd://")}, {os.getpid(): "systemd"})
        ident = find_dockerd(t, f"unix://{sock}")
    assert ident.pid == child.pid and ident.verified
    assert ident.verified_by.endswith(
        f"pid {os.getpid()} (systemd) listens on {sock} and passed it on (socket activation)"
    )


def _as_nobody(fn_source: str, *args: str) -> dict[str, object]:
    """Run `fn_source` (binding `ident`) in a child process that dropped to uid 65534; return what it found."""
    code = (
        "import json, os, sys\n"
        "from runbench.collect.host import find_dockerd\n"
        "from runbench.collect.proc import ProcessTable\n"
        "from runbench.snapshot import ProcessFacts\n"
        "os.setgroups([]); os.setgid(65534); os.setuid(65534)  # after the imports: the stdlib may be root's\n"
        "pid, sock = int(sys.argv[1]), sys.argv[2]\n"
        "t = ProcessTable(procs={pid: ProcessFacts(pid=pid, name='dockerd', exe='dockerd', uid=0)})\n"
        f"{fn_source}\n"
        "print(json.dumps({'pid': ident.pid, 'verified': ident.verified, 'by': ident.verified_by}))\n"
    )
    root = str(Path(__file__).resolve().parents[2])
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": root},
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to another user")
def test_real_proc_as_another_user(shared_dir: Path, children: list[subprocess.Popen[str]]) -> None:
    """Not root: root's dockerd fds cannot be read, so the inode proof is out of reach; the kernel's word on
    the listener (any user allowed to connect gets it) still verifies."""
    sock = str(shared_dir / "docker.sock")
    real = _listen_in_child(sock, children)
    os.chmod(sock, 0o666)
    inode_only = _as_nobody("ident = find_dockerd(t, f'unix://{sock}', peer=lambda s: None)", str(real.pid), sock)
    assert inode_only["pid"] == real.pid and inode_only["verified"] is False
    assert inode_only["by"] == (
        f"cannot verify which process serves {sock}: cannot read the open files of pid {real.pid}: "
        "Permission denied (uid 0): run runbench as root"
    )
    kernel = _as_nobody("ident = find_dockerd(t, f'unix://{sock}')", str(real.pid), sock)
    assert kernel["pid"] == real.pid and kernel["verified"] is True


# --- processes of a container that exits during the scan ----------------------------------------------

GONE_PID = 4_000_000  # above pid_max: never a live process


def _here() -> tuple[ProcessTable, DaemonFacts]:
    """This host's /proc with a proven dockerd visible in it (this test process stands for it)."""
    me = os.getpid()
    t = table({me: REAL})
    return t, DaemonFacts(pid=me, uid=0, verified=True, verified_by="test")


def test_a_container_that_exited_during_the_scan_is_stopped_not_an_error() -> None:
    t, dockerd = _here()
    c = container(pid=GONE_PID, processes=None)
    got, record = attach_processes(c, t, host(), dockerd)
    assert got.processes == () and not got.running and got.state == "exited"
    assert record is not None and record.fact is Fact.CONTAINER_EXITED and record.subject == c.id
    assert "exited during the scan" in record.why


def test_a_missing_pid_on_a_remote_engine_is_the_old_error() -> None:
    t, dockerd = _here()
    c = container(pid=GONE_PID, processes=None)
    remote = host(
        local=False, local_reason="the engine is remote (tcp://10.0.0.5:2376): host facts are not the engine's"
    )
    got, record = attach_processes(c, t, remote, None)
    assert got == c and record is not None and record.fact is Fact.PROCESSES and record.why == remote.local_reason
    got, record = attach_processes(c, ProcessTable(), host(), None)  # e.g. runbench in a container without --pid=host
    assert got == c and record is not None and record.fact is Fact.PROCESSES
    assert record.why.startswith(f"State.Pid {GONE_PID} is not visible in this host's /proc (a remote engine")


def test_a_missing_pid_with_an_unproven_dockerd_is_an_error() -> None:
    t, dockerd = _here()
    unproven = replace(dockerd, verified=False, verified_by="cannot verify which process serves /var/run/docker.sock")
    got, record = attach_processes(container(pid=GONE_PID, processes=None), t, host(), unproven)
    assert got.processes is None and record is not None and record.fact is Fact.PROCESSES
    assert "not proven" in record.why and "cannot verify" in record.why


def test_a_recycled_pid_is_still_rejected_by_its_cgroup() -> None:
    t, dockerd = _here()
    c = container(pid=os.getpid(), id="f" * 64, processes=None)
    got, record = attach_processes(c, t, host(), dockerd)
    assert got.processes is None and record is not None and record.fact is Fact.PROCESSES
    assert record.why == f"process {os.getpid()} does not belong to this container (its cgroup does not name it)"


def test_processes_of_a_running_and_a_stopped_container() -> None:
    t, dockerd = _here()
    cgroup = Path("/proc/self/cgroup").read_text()
    marker = cgroup.strip().splitlines()[0]  # stands for the container id the cgroup path names
    got, record = attach_processes(container(pid=os.getpid(), id=marker, pid_mode="host"), t, host(), dockerd)
    assert record is None and got.processes is not None and [p.pid for p in got.processes] == [os.getpid()]
    got, record = attach_processes(container(state="exited", pid=0), t, host(), dockerd)
    assert record is None and got.processes == ()


def test_a_missing_pid_of_a_dockerd_in_another_pid_namespace_is_an_error() -> None:
    """A proven dockerd in another PID namespace (rootlesskit --pidns) reports pids of its own."""
    t, dockerd = _here()
    t._pidns[os.getpid()] = "pid:[1]"  # as if it ran in another namespace
    got, record = attach_processes(container(pid=GONE_PID, processes=None), t, host(), dockerd)
    assert got.processes is None and record is not None and record.fact is Fact.PROCESSES
    assert "another PID namespace" in record.why
