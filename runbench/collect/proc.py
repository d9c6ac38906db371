"""The host's process table, read once through psutil and /proc (never docker exec or docker top)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

import psutil

from runbench.hostfs import read_host_file
from runbench.snapshot import CollectionError, ContainerFacts, DaemonFacts, Fact, HostFacts, ProcessFacts

CGROUP_CAP = 256 * 1024


@dataclass(slots=True)
class ProcessTable:
    """One pass over /proc: every visible process, its parent and its PID namespace."""

    procs: dict[int, ProcessFacts] = field(default_factory=dict)
    parent: dict[int, int] = field(default_factory=dict)
    cmdline: dict[int, tuple[str, ...]] = field(default_factory=dict)
    _pidns: dict[int, str | None] = field(default_factory=dict)
    _children: dict[int, list[int]] | None = None
    _by_ns: dict[str | None, list[int]] | None = None

    @classmethod
    def read(cls, cmdline_of: frozenset[str] = frozenset()) -> ProcessTable:
        """Read every process; keep full command lines only for processes named in `cmdline_of`."""
        table = cls()
        for p in psutil.process_iter(["pid", "ppid", "name", "exe", "uids"], ad_value=None):
            info = p.info
            pid = int(info["pid"])
            name = info.get("name") or ""
            exe = info.get("exe") or ""
            uids = info.get("uids")
            table.procs[pid] = ProcessFacts(
                pid=pid, name=name, exe=os.path.basename(exe), uid=uids.real if uids is not None else None
            )
            table.parent[pid] = int(info.get("ppid") or 0)
            if name in cmdline_of:
                try:
                    table.cmdline[pid] = tuple(p.cmdline())
                except (psutil.Error, OSError):
                    table.cmdline[pid] = ()
        return table

    def pidns(self, pid: int) -> str | None:
        if pid not in self._pidns:
            try:
                self._pidns[pid] = os.readlink(f"/proc/{pid}/ns/pid")
            except OSError:
                self._pidns[pid] = None
        return self._pidns[pid]

    def descendants(self, root: int) -> list[int]:
        if self._children is None:
            self._children = {}
            for pid, ppid in self.parent.items():
                self._children.setdefault(ppid, []).append(pid)
        children = self._children
        out, todo = [], [root]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo.extend(children.get(pid, ()))
        return sorted(out)

    def same_pidns(self, root: int) -> list[int] | None:
        """Processes sharing `root`'s PID namespace, or None when namespaces cannot be read."""
        target = self.pidns(root)
        if target is None:
            return None
        if self._by_ns is None:
            self._by_ns = {}
            for pid in self.procs:
                self._by_ns.setdefault(self.pidns(pid), []).append(pid)
        return sorted(self._by_ns.get(target, ()))


def cgroup_mentions(pid: int, container_id: str, proc: str = "/proc") -> bool | None:
    """Whether /proc/<pid>/cgroup names the container (True/False), None when unreadable."""
    found = read_host_file(f"{proc}/{pid}/cgroup", max_bytes=CGROUP_CAP, errors="replace")
    return None if found.text is None else container_id in found.text


def container_processes(
    table: ProcessTable, pid: int, container_id: str, host_pid_mode: bool
) -> tuple[tuple[ProcessFacts, ...] | None, str]:
    """The processes of a running container, or (None, why) when they cannot be seen from here."""
    if pid <= 0:
        return None, "the engine reports no process id for this running container"
    if pid not in table.procs:
        return None, (
            f"State.Pid {pid} is not visible in this host's /proc (a remote engine, or runbench running in a "
            "container without --pid=host)"
        )
    owned = cgroup_mentions(pid, container_id)
    if owned is False:
        return None, f"process {pid} does not belong to this container (its cgroup does not name it)"
    members = None if host_pid_mode else table.same_pidns(pid)
    if members is None:
        members = table.descendants(pid)
    return tuple(table.procs[p] for p in members if p in table.procs), ""


def attach_processes(
    c: ContainerFacts, table: ProcessTable, host: HostFacts, daemon: DaemonFacts | None
) -> tuple[ContainerFacts, CollectionError | None]:
    """`c` with its processes from the host's /proc, and what could not be read (or None).

    A running container whose State.Pid is gone from /proc, on a local engine whose proven dockerd is
    visible here, stopped during the scan: it is reported as stopped (state "exited", no processes, so its
    process checks skip as for any stopped container) with a Fact.CONTAINER_EXITED record, not an error.
    Without that proof the pid may simply live in a /proc this host cannot see, and that is an error."""
    if not c.running:
        return replace(c, processes=()), None
    if not host.local:
        return c, CollectionError(Fact.PROCESSES, c.id, host.local_reason)
    procs, why = container_processes(table, c.pid, c.id, c.pid_mode == "host")
    if procs is not None:
        return replace(c, processes=procs), None
    if c.pid > 0 and c.pid not in table.procs and daemon is not None and daemon.pid in table.procs:
        if _engine_visible(table, daemon):
            gone = f"{c.name} exited during the scan (State.Pid {c.pid} is no longer in /proc)"
            return replace(c, state="exited", processes=()), CollectionError(Fact.CONTAINER_EXITED, c.id, gone)
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
