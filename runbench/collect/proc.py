"""The host's process table, read once from /proc (never docker exec or docker top), and the
kernel's view of each container process: one /proc/<pid>/status read per process of a running container."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from runbench.collect.values import evolve
from runbench.hostfs import read_host_file
from runbench.semantics import RUNTIME_SUPERVISORS, capability_names
from runbench.snapshot import (
    CollectionError,
    ContainerFacts,
    DaemonFacts,
    Fact,
    HostFacts,
    ProcessFacts,
    ProcessStatus,
)

CGROUP_CAP = 256 * 1024
STATUS_CAP = 64 * 1024
PROC = "/proc"


@dataclass(slots=True)
class ProcessTable:
    """One pass over /proc: every visible process and its parent (PID namespaces read on demand), and the
    status file each was read from (the kernel's view of a container's processes is parsed from it later)."""

    procs: dict[int, ProcessFacts] = field(default_factory=dict)
    parent: dict[int, int] = field(default_factory=dict)
    cmdline: dict[int, tuple[str, ...]] = field(default_factory=dict)
    status: dict[int, str] = field(default_factory=dict)
    _pidns: dict[int, str | None] = field(default_factory=dict)
    _children: dict[int, list[int]] | None = None

    @classmethod
    def read(cls, cmdline_of: frozenset[str] = frozenset(), proc: str = PROC) -> ProcessTable:
        """Read every process; keep full command lines only for processes named in `cmdline_of`.

        Three small reads per process (stat, status, the exe link) and the command line of a process whose
        name the kernel truncated: the name, parent, uid and executable psutil's process_iter gives, by its
        rules (see `_name`), at a fraction of its cost on a host with thousands of processes."""
        table = cls()
        for entry in process_entries(proc):
            pid = int(entry)
            base = f"{proc}/{entry}"
            stat = read_proc_file(f"{base}/stat", 4096)
            if stat is None:
                continue  # exited meanwhile
            fields = _stat_fields(stat)
            if fields is None:
                continue
            comm, ppid = fields
            status = _read_small(f"{base}/status", STATUS_CAP)
            uid = None
            if status is not None:
                table.status[pid] = status
                uid = _real_uid(status)
            argv: tuple[str, ...] | None = None
            if len(comm) >= 15 or comm in cmdline_of:
                argv = _cmdline(base)
            name = _name(comm, argv)
            table.procs[pid] = ProcessFacts(pid=pid, name=name, exe=os.path.basename(exe_path(pid, proc)), uid=uid)
            table.parent[pid] = ppid
            if name in cmdline_of:
                table.cmdline[pid] = argv or ()
        return table

    def pidns(self, pid: int) -> str | None:
        if pid not in self._pidns:
            try:
                self._pidns[pid] = os.readlink(f"/proc/{pid}/ns/pid")
            except OSError:
                self._pidns[pid] = None
        return self._pidns[pid]

    def children(self, pid: int) -> list[int]:
        if self._children is None:
            self._children = {}
            for child, ppid in self.parent.items():
                self._children.setdefault(ppid, []).append(child)
        return self._children.get(pid, [])

    def descendants(self, root: int) -> list[int]:
        """`root` and every process below it."""
        out, todo, seen = [], [root], {root}
        while todo:
            pid = todo.pop()
            out.append(pid)
            for child in self.children(pid):
                if child not in seen:  # a pid recycled during the pass must not make a loop
                    seen.add(child)
                    todo.append(child)
        return sorted(out)


def process_entries(proc: str = PROC) -> list[str]:
    """The process directories of `proc` (its numeric entries); none when it cannot be listed."""
    try:
        return [entry for entry in os.listdir(proc) if entry.isdigit()]
    except OSError:
        return []


def read_proc_file(path: str, cap: int) -> bytes | None:
    """At most `cap` bytes of a /proc file, with bare os.read calls (no buffered file object: this runs a few
    thousand times on a busy host); None when it cannot be opened or read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        chunks = []
        got = 0
        while got < cap:
            chunk = os.read(fd, cap - got)
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _stat_fields(stat: bytes) -> tuple[str, int] | None:
    """The name and parent pid of a /proc/PID/stat line (the name is between the first "(" and the last ")":
    it may hold spaces and parentheses itself); None when malformed."""
    rpar = stat.rfind(b")")
    after = stat[rpar + 2 :].split()
    try:
        return os.fsdecode(stat[stat.find(b"(") + 1 : rpar]), int(after[1])
    except (IndexError, ValueError):
        return None


def parent_pid(pid: int, proc: str = PROC) -> int:
    """The parent of process `pid` (0 when it is gone or its stat file cannot be read)."""
    stat = read_proc_file(f"{proc}/{pid}/stat", 4096)
    fields = _stat_fields(stat) if stat is not None else None
    return fields[1] if fields is not None else 0


def _read_small(path: str, cap: int) -> str | None:
    data = read_proc_file(path, cap)
    return None if data is None else os.fsdecode(data)


def _real_uid(status: str) -> int | None:
    i = status.find("\nUid:\t")
    if i < 0:
        return None
    first = status[i + 6 :].split("\t", 1)[0].strip()
    return int(first) if first.isdigit() else None


def _cmdline(base: str) -> tuple[str, ...] | None:
    """/proc/PID/cmdline split as psutil splits it (NUL-separated, or by spaces for a process that rewrote
    it with setproctitle); None when unreadable, () when empty (a kernel thread, a zombie)."""
    data = _read_small(f"{base}/cmdline", 1 << 20)
    if data is None:
        return None
    if not data:
        return ()
    sep = "\x00" if data.endswith("\x00") else " "
    if data.endswith(sep):
        data = data[:-1]
    argv = data.split(sep)
    if sep == "\x00" and len(argv) == 1 and " " in data:
        argv = data.split(" ")
    return tuple(argv)


def _name(comm: str, argv: tuple[str, ...] | None) -> str:
    """psutil's process name: the kernel's (at most 15 characters), extended to argv[0]'s base name when that
    starts with it ("containerd-shim" -> "containerd-shim-runc-v2")."""
    if len(comm) >= 15 and argv:
        extended = os.path.basename(argv[0])
        if extended.startswith(comm):
            return extended
    return comm


def exe_path(pid: int, proc: str = PROC) -> str:
    """The executable's path as psutil gives it: " (deleted)" dropped from a replaced binary's link, '' for a
    kernel thread or when it cannot be read."""
    try:
        path = os.readlink(f"{proc}/{pid}/exe")
    except OSError:
        return ""
    path = path.split("\x00")[0]
    if path.endswith(" (deleted)") and not os.path.exists(path):
        path = path[:-10]
    return path


def cgroup_mentions(pid: int, container_id: str, proc: str = PROC) -> bool | None:
    """Whether /proc/<pid>/cgroup names the container (True/False), None when unreadable."""
    data = read_proc_file(f"{proc}/{pid}/cgroup", CGROUP_CAP)  # the kernel's own file: one bounded read
    return None if data is None else os.fsencode(container_id) in data


def _supervisor(p: ProcessFacts | None) -> bool:
    """A container runtime supervisor (containerd-shim-*, conmon): the parent of a container's init and of the
    processes its exec sessions start."""
    return p is not None and (p.name or p.exe).startswith(RUNTIME_SUPERVISORS)


def container_pids(
    table: ProcessTable, pid: int, container_id: str, exec_pids: Iterable[int] = (), proc: str = PROC
) -> list[int]:
    """The processes the container started: its init (State.Pid) and everything below it, and the processes of
    its exec sessions and their children. These are not below the init: the runtime supervisor (the
    containerd shim, conmon) starts them, and orphans of a container without a PID namespace of its own are
    handed to it too. So every other child of the init's supervisor, and every exec session's process, counts
    with its subtree when its cgroup names the container (a shim may serve several containers). The same rule
    for every PID mode: --pid host and --pid container:<X> see other processes, but did not start them."""
    mine = set(table.descendants(pid))
    roots = {p for p in exec_pids if p in table.procs}
    parent = table.parent.get(pid, 0)
    if _supervisor(table.procs.get(parent)):
        roots.update(table.children(parent))
    for root in sorted(roots - mine):
        if cgroup_mentions(root, container_id, proc) is True:
            mine.update(table.descendants(root))
    return sorted(mine)


def container_processes(
    table: ProcessTable, pid: int, container_id: str, exec_pids: Iterable[int] = (), proc: str = PROC
) -> tuple[tuple[ProcessFacts, ...] | None, str]:
    """The processes of a running container, or (None, why) when they cannot be seen from here."""
    if pid <= 0:
        return None, "the engine reports no process id for this running container"
    if pid not in table.procs:
        return None, (
            f"State.Pid {pid} is not visible in this host's /proc (a remote engine, or runbench running in a "
            "container without --pid=host)"
        )
    owned = cgroup_mentions(pid, container_id, proc)
    if owned is False:
        return None, f"process {pid} does not belong to this container (its cgroup does not name it)"
    members = container_pids(table, pid, container_id, exec_pids, proc)
    return tuple(table.procs[p] for p in members if p in table.procs), ""


# --- the kernel's view of one process -------------------------------------------------------------------


def parse_status(text: str) -> tuple[ProcessStatus | None, str]:
    """/proc/<pid>/status as a ProcessStatus, or None and why when a field it must have is missing or broken.
    Seccomp and NoNewPrivs are None when the kernel has no such line (built without seccomp; before 4.10)."""
    fields = {key: value.strip() for key, value in _STATUS_LINE.findall(text)}  # the last of a repeated key wins
    missing = [k for k in ("Uid", "Gid", "CapPrm", "CapEff", "CapBnd") if k not in fields]
    if missing:
        return None, f"no {', '.join(missing)} in it"
    try:
        uid = tuple(int(x) for x in fields["Uid"].split())
        gid = tuple(int(x) for x in fields["Gid"].split())
        caps = {k: capability_names(int(fields[k], 16)) for k in ("CapEff", "CapPrm", "CapBnd")}
        seccomp = int(fields["Seccomp"]) if "Seccomp" in fields else None
        nnp = int(fields["NoNewPrivs"]) if "NoNewPrivs" in fields else None
    except ValueError as exc:
        return None, f"a malformed field ({exc})"
    if len(uid) != 4 or len(gid) != 4:
        return None, "a malformed Uid or Gid line"
    return (
        ProcessStatus(
            uid=uid,
            gid=gid,
            cap_eff=caps["CapEff"],
            cap_prm=caps["CapPrm"],
            cap_bnd=caps["CapBnd"],
            seccomp=seccomp,
            no_new_privs=None if nnp is None else nnp != 0,
        ),
        "",
    )


# The lines read, each a whole line ("\n"-separated, as the kernel writes it: the process name on the first
# line is escaped, so that it cannot forge a line of its own).
_STATUS_LINE = re.compile(r"^(Uid|Gid|CapPrm|CapEff|CapBnd|Seccomp|NoNewPrivs):([^\n]*)$", re.MULTILINE)


def read_status(pid: int, proc: str = PROC, text: str | None = None) -> tuple[ProcessStatus | None, str]:
    """The kernel's view of process `pid` (one bounded read of its status file, or the `text` the process
    table read from it), or None and why."""
    if text is None:
        found = read_host_file(f"{proc}/{pid}/status", max_bytes=STATUS_CAP, errors="replace")
        if found.text is None:
            if found.missing:
                return None, f"pid {pid} exited during the scan"
            return None, f"cannot read {proc}/{pid}/status: {found.why}"
        text = found.text
    status, why = parse_status(text)
    return status, "" if status is not None else f"{proc}/{pid}/status: {why}"


def with_status(p: ProcessFacts, proc: str = PROC, text: str | None = None) -> ProcessFacts:
    status, why = read_status(p.pid, proc, text)
    return evolve(p, status=status, status_why=why or None)


def attach_processes(
    c: ContainerFacts, table: ProcessTable, host: HostFacts, daemon: DaemonFacts | None, proc: str = PROC
) -> tuple[ContainerFacts, CollectionError | None]:
    """`c` with its processes from the host's /proc, each with the kernel's view of it (its status), and what
    could not be read (or None).

    A running container whose State.Pid is gone from /proc, on a local engine whose proven dockerd is
    visible here, stopped during the scan: it is reported as stopped (state "exited", no processes, so its
    process checks skip as for any stopped container) with a Fact.CONTAINER_EXITED record, not an error.
    Without that proof the pid may simply live in a /proc this host cannot see, and that is an error."""
    if not c.running:
        return evolve(c, processes=()), None
    if not host.local:
        return c, CollectionError(Fact.PROCESSES, c.id, host.local_reason)
    exec_pids = [e.pid for e in c.execs or () if e.running and e.pid]
    procs, why = container_processes(table, c.pid, c.id, exec_pids, proc)
    if procs is not None:
        return evolve(c, processes=tuple(with_status(p, proc, table.status.get(p.pid)) for p in procs)), None
    if c.pid > 0 and c.pid not in table.procs and daemon is not None and daemon.pid in table.procs:
        if _engine_visible(table, daemon):
            gone = f"{c.name} exited during the scan (State.Pid {c.pid} is no longer in /proc)"
            return evolve(c, state="exited", processes=()), CollectionError(Fact.CONTAINER_EXITED, c.id, gone)
        maybe = f"State.Pid {c.pid} is not in /proc: the container may have exited during the scan, but"
        if daemon.verified is not True:
            why = f"{maybe} the dockerd visible here is not proven to be the engine's ({daemon.verified_by or '?'})"
        else:
            why = f"{maybe} the engine's dockerd runs in another PID namespace, whose pids are not this /proc's"
    return c, CollectionError(Fact.PROCESSES, c.id, why)


def _engine_visible(table: ProcessTable, daemon: DaemonFacts) -> bool:
    """Whether the engine's pids are this /proc's: the dockerd proven to serve it is here, in our PID
    namespace (a dockerd in another one, e.g. under rootlesskit --pidns, reports pids of its own)."""
    if daemon.verified is not True or daemon.pid is None or daemon.pid not in table.procs:
        return False
    try:
        ours = os.readlink("/proc/self/ns/pid")
    except OSError:
        return False
    return table.pidns(daemon.pid) == ours
