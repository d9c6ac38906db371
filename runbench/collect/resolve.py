"""What each container really gets, resolved after the inventory pass: its namespaces through `container:<X>`
chains and, on the engine's own host, the kernel's namespace inodes; the host paths its mounts really are
(symlinks resolved on the host, bind-backed volumes of the local driver); and the engine sockets that exist
on the host, with who listens on them.

Pure where it can be (`follow`, `volume_source`, `listening_unix_sockets`); the rest reads the host through
runbench.hostfs / HostRoot (below --host-root), /proc/<pid>/ns links and the fds of the engine's processes.
Nothing here talks to the engine: the caller hands in the volume inspects and a lookup for containers out
of scope.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from runbench.collect.host import NET_UNIX_CAP, HostRoot, file_type_of, held_sockets
from runbench.collect.proc import PROC, ProcessTable
from runbench.collect.values import evolve
from runbench.hostfs import read_host_file
from runbench.semantics import (
    DOCKERD_MANAGED_CONTAINERD_SOCKET,
    ENGINE_PROCESS_NAMES,
    NAMESPACE_FIELDS,
    SENSITIVE_DIRS,
    WELL_KNOWN_SOCKETS,
    joined_container,
    norm_path,
)
from runbench.snapshot import (
    ContainerFacts,
    DaemonFacts,
    EngineSocket,
    FileType,
    MountFacts,
    NamespaceFacts,
    RuntimeHost,
)

MAX_CHAIN = 16  # container: joins followed before calling it a loop
_SO_ACCEPTCON = 0x10000  # /proc/net/unix Flags of a listening socket
_SS_UNCONNECTED = "01"


# --- namespace chains ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Joinable:
    """What a namespace chain reads of one container: its name and namespace modes (from its inspect)."""

    id: str
    name: str
    modes: Mapping[str, str]  # /proc/<pid>/ns/ kind (net, pid, ipc, uts) -> HostConfig mode
    networks: tuple[str, ...] = ()

    @classmethod
    def of(cls, c: ContainerFacts) -> Joinable:
        modes = {"net": c.network_mode, "pid": c.pid_mode, "ipc": c.ipc_mode, "uts": c.uts_mode}
        return cls(c.id, c.name, modes, c.networks)

    @classmethod
    def of_inspect(cls, data: Mapping[str, Any]) -> Joinable:
        """From a container inspect answer (already shape-checked by the collector)."""
        host = data.get("HostConfig") or {}
        settings = data.get("NetworkSettings") or {}
        modes = {kind: str(host.get(field) or "") for kind, field in NAMESPACE_FIELDS}
        modes["net"] = modes["net"] or "default"
        return cls(
            id=str(data.get("Id") or ""),
            name=str(data.get("Name") or "").lstrip("/"),
            modes=modes,
            networks=tuple(sorted(settings.get("Networks") or {})),
        )


Lookup = Callable[[str], "tuple[Joinable | None, str]"]  # a name or id -> the container, or None and why


class Directory:
    """The containers a chain may lead to: those inspected in scope, and others fetched once on demand."""

    def __init__(self, known: Iterable[Joinable], fetch: Lookup | None = None) -> None:
        self._by_id = {j.id: j for j in known}
        self._by_name = {j.name: j for j in self._by_id.values()}
        self._fetch = fetch
        self._fetched: dict[str, tuple[Joinable | None, str]] = {}

    def find(self, ref: str) -> tuple[Joinable | None, str]:
        ref = ref.lstrip("/")
        hit = self._by_id.get(ref) or self._by_name.get(ref)
        if hit is None and len(ref) >= 12:
            prefixed = [j for i, j in self._by_id.items() if i.startswith(ref)]
            hit = prefixed[0] if len(prefixed) == 1 else None
        if hit is not None:
            return hit, ""
        if self._fetch is None:
            return None, f"container {short(ref)} is not known to this scan"
        if ref not in self._fetched:
            self._fetched[ref] = self._fetch(ref)
        return self._fetched[ref]


def short(ref: str) -> str:
    """A container id as evidence shows it (12 hex digits and an ellipsis); names as they are."""
    if len(ref) == 64 and all(ch in "0123456789abcdef" for ch in ref):
        return ref[:12] + "…"
    return ref


def follow(
    kind: str, start: Joinable, directory: Directory, inode: int | None = None, host_inode: int | None = None
) -> NamespaceFacts:
    """Namespace `kind` of `start`: its configured mode and where `container:<X>` joins lead. Docker's rule
    (moby daemon/oci_linux.go WithNamespaces): a container joined to X's namespace is in whatever namespace X
    is in, so X's own mode decides, and X's join in turn; a net join also takes X's networks. `inode` and
    `host_inode`: the kernel's namespace of the container's process and the host's, when read."""
    configured = start.modes.get(kind, "")
    mode, last = configured, start
    via: list[str] = []
    seen = {start.id}
    while (ref := joined_container(mode)) is not None:
        target, why = directory.find(ref)
        if target is None:
            why = why or f"container {short(ref)} not found"
            return NamespaceFacts(kind, configured, "", tuple(via), why=why, inode=inode, host_inode=host_inode)
        if target.id in seen or len(via) >= MAX_CHAIN:
            loop = " -> ".join([start.name, *via, target.name])
            why = f"the joins make a loop ({loop})"
            return NamespaceFacts(kind, configured, "", tuple(via), why=why, inode=inode, host_inode=host_inode)
        via.append(target.name)
        seen.add(target.id)
        mode, last = target.modes.get(kind, ""), target
    networks = last.networks if kind == "net" else None
    return NamespaceFacts(kind, configured, mode, tuple(via), networks=networks, inode=inode, host_inode=host_inode)


def ns_inode(pid: int, kind: str, proc: str = PROC) -> int | None:
    """The inode of /proc/<pid>/ns/<kind> (`net:[4026531833]`); None when it cannot be read."""
    try:
        link = os.readlink(f"{proc}/{pid}/ns/{kind}")
    except OSError:
        return None
    head, _, rest = link.partition(":[")
    if head != kind or not rest.endswith("]") or not rest[:-1].isdigit():
        return None
    return int(rest[:-1])


def ns_inodes(pid: int, proc: str = PROC) -> dict[str, int] | None:
    """Every namespace a container can share, of process `pid`; None unless all can be read."""
    found = {kind: ns_inode(pid, kind, proc) for kind, _ in NAMESPACE_FIELDS}
    if any(v is None for v in found.values()):
        return None
    return {k: v for k, v in found.items() if v is not None}


def host_namespaces(
    table: ProcessTable | None, daemon: DaemonFacts | None, proc: str = PROC
) -> tuple[dict[str, int] | None, str, str]:
    """The host's namespaces: pid 1's; when those cannot be read (a non-dumpable init), those of the dockerd
    proven to serve the engine, which is where Docker's `host` modes put a container. Returns (inodes,
    whose, why none)."""
    inodes = ns_inodes(1, proc)
    if inodes is not None:
        return inodes, "pid 1", ""
    dockerd = daemon.pid if daemon is not None and daemon.verified is True else None
    if dockerd is not None and table is not None and dockerd in table.procs:
        inodes = ns_inodes(dockerd, proc)
        if inodes is not None:
            return inodes, f"dockerd pid {dockerd}; pid 1's cannot be read", ""
    return None, "", "the namespaces of neither pid 1 nor the engine's proven dockerd can be read"


def resolve_namespaces(
    c: ContainerFacts, directory: Directory, host_inodes: Mapping[str, int] | None, proc: str = PROC
) -> tuple[NamespaceFacts, ...]:
    """Every shareable namespace of `c`, followed through its chain; with the kernel's inodes when `c` runs on
    this host (its processes were attached from this /proc) and the host's are known."""
    start = Joinable.of(c)
    mine = None
    if host_inodes is not None and c.running and c.processes and c.pid > 0:
        mine = ns_inodes(c.pid, proc)
    if mine is None or host_inodes is None:
        return tuple(follow(kind, start, directory) for kind, _ in NAMESPACE_FIELDS)
    return tuple(follow(kind, start, directory, mine[kind], host_inodes[kind]) for kind, _ in NAMESPACE_FIELDS)


# --- mount sources ------------------------------------------------------------------------------------


def file_type(root: HostRoot, path: str) -> FileType:
    try:
        mode = root.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return FileType.MISSING
    except OSError:
        return FileType.UNKNOWN
    return file_type_of(mode)


def volume_source(data: Mapping[str, Any]) -> tuple[str | None, str]:
    """The host path a volume binds (Docker's local driver with o=bind / rbind and an absolute device: the
    driver mounts the device on the volume's directory, so the container gets the device), or None and what
    the volume is. Only `o`'s bind flag and the device are read: the options of other volumes (cifs, nfs) may
    hold credentials and are never shown."""
    name, driver = str(data.get("Name") or ""), str(data.get("Driver") or "")
    if driver != "local":
        return None, f"volume {name} of the {driver or '?'} driver: not a host bind"
    options = data.get("Options") or {}
    flags = [f.strip() for f in str(options.get("o") or "").split(",")]
    flag = next((f for f in flags if f in ("bind", "rbind")), "")
    device = str(options.get("device") or "")
    if not flag:
        return None, f"volume {name} of the local driver: its own directory"
    if not device.startswith("/"):
        return None, f"volume {name} of the local driver with o={flag} and no absolute device"
    return device, f"volume {name} of the local driver binds {device} (o={flag})"


@dataclass(frozen=True, slots=True)
class VolumeAnswer:
    """A volume inspect (its answer, or why there is none)."""

    data: Mapping[str, Any] | None
    why: str = ""


def resolve_mount(
    m: MountFacts, root: HostRoot | None, volumes: Mapping[str, VolumeAnswer], remote_why: str
) -> MountFacts:
    """`m` with the host path the kernel mounts: a bind's source resolved on the host (`root`, None for a remote
    engine: then only lexically), a volume's bind device."""
    if m.type == "bind":
        return _on_host(replace(m, resolution=""), m.source, root, remote_why)
    if m.type != "volume":
        return m
    if m.driver and m.driver != "local":
        return replace(m, volume_bind=False, resolution=f"volume {m.name} of the {m.driver} driver: not a host bind")
    answer = volumes.get(m.name)
    if answer is None or answer.data is None:
        why = answer.why if answer is not None else "not inspected"
        return replace(m, volume_bind=None, resolution=f"volume {m.name or '?'} could not be inspected: {why}")
    device, what = volume_source(answer.data)
    if device is None:
        return replace(m, volume_bind=False, resolution=what)
    return _on_host(replace(m, volume_bind=True, resolution=what), device, root, remote_why)


def _on_host(m: MountFacts, path: str, root: HostRoot | None, remote_why: str) -> MountFacts:
    note = m.resolution or ""
    if root is None:
        tail = f"symlinks not resolved: {remote_why}"
        return replace(m, host_path=norm_path(path), resolution=f"{note}; {tail}" if note else tail)
    real = root.resolve(path)
    if real is None:
        tail = f"{path} is a symlink loop on the host"
        return replace(m, host_path=None, resolution=f"{note}; {tail}" if note else tail)
    real = norm_path(real)
    tail = f"{path} is {real} on the host" if real != norm_path(path) else "resolved on the host"
    return replace(m, host_path=real, host_type=file_type(root, real), resolution=f"{note}; {tail}" if note else tail)


def real_paths(root: HostRoot, paths: Iterable[str]) -> dict[str, str]:
    """The paths of `paths` that are not their own real path on the host (a symlink on the way), to it."""
    out = {}
    for path in paths:
        real = root.resolve(path)
        if real is not None and norm_path(real) != norm_path(path):
            out[path] = norm_path(real)
    return out


# --- engine sockets -----------------------------------------------------------------------------------


def listening_unix_sockets(text: str) -> dict[int, str]:
    """Listening unix sockets bound to a path, from the text of /proc/net/unix: inode -> path."""
    out: dict[int, str] = {}
    for line in text.split("\n")[1:]:
        fields = line.split(None, 7)
        if len(fields) < 8 or fields[5] != _SS_UNCONNECTED or not fields[7].startswith("/"):
            continue
        try:
            flags, inode = int(fields[3], 16), int(fields[6])
        except ValueError:
            continue
        if flags & _SO_ACCEPTCON and inode > 0:
            out[inode] = fields[7]
    return out


def engine_sockets(
    table: ProcessTable, root: HostRoot, daemon: DaemonFacts | None, proc: str = PROC
) -> tuple[tuple[EngineSocket, ...], bool, tuple[str, ...]]:
    """The engine sockets that exist on this host: every unix socket a dockerd, containerd, podman or crio
    process listens on (its fds against /proc/net/unix), then the well-known paths and the daemon's own
    sockets where a socket exists. Returns (sockets, complete, notes): incomplete when an engine process's
    fds could not be read (runbench not root)."""
    notes: list[str] = []
    found: dict[str, EngineSocket] = {}  # real path -> socket
    table_text = read_host_file(f"{proc}/net/unix", max_bytes=NET_UNIX_CAP, errors="surrogateescape")
    listening: dict[int, str] = {}
    complete = table_text.text is not None
    if table_text.text is None:
        notes.append(f"cannot read {proc}/net/unix: {table_text.why}")
    else:
        listening = listening_unix_sockets(table_text.text)
    engines = sorted(pid for pid, p in table.procs.items() if (p.name or p.exe) in ENGINE_PROCESS_NAMES)
    inodes = frozenset(listening)
    for pid in engines if listening else ():
        name = table.procs[pid].name or table.procs[pid].exe
        held, why = held_sockets(pid, inodes, proc)
        if held is None:
            notes.append(f"the sockets of {name} pid {pid} cannot be told: {why}")
            complete = False
            continue
        for inode in sorted(held):
            path = listening[inode]
            _add(found, root, path, f"{name} pid {pid} listens on it", name, pid)
    if not engines:
        notes.append("no dockerd, containerd, podman or crio process is visible")
    extra = [*WELL_KNOWN_SOCKETS, DOCKERD_MANAGED_CONTAINERD_SOCKET, *(daemon.sockets if daemon is not None else ())]
    for path in extra:
        _add(found, root, path, "a well-known engine socket path that exists", "", None)
    sockets = tuple(sorted(found.values(), key=lambda s: s.real))
    return sockets, complete, tuple(notes)


def _add(found: dict[str, EngineSocket], root: HostRoot, path: str, how: str, process: str, pid: int | None) -> None:
    """Record `path` when a socket exists there (and no listener already claimed the same real path)."""
    real = root.resolve(path)
    if real is None:
        return
    real = norm_path(real)
    if real in found or file_type(root, real) is not FileType.SOCKET:
        return
    found[real] = EngineSocket(path=path, real=real, found_by=how, process=process, pid=pid)


def remote_sockets(why: str) -> RuntimeHost:
    """A remote engine: the well-known socket paths stand in, and the facts say so."""
    sockets = tuple(
        EngineSocket(path=p, real=norm_path(p), found_by="a well-known engine socket path (not known to exist)")
        for p in (*WELL_KNOWN_SOCKETS, DOCKERD_MANAGED_CONTAINERD_SOCKET)
    )
    note = f"the engine's host is not this one ({why}): the well-known socket paths stand in for its sockets"
    return RuntimeHost(local=False, sockets=sockets, sockets_complete=False, notes=(note,))


# --- the whole pass -----------------------------------------------------------------------------------


def kernel_seccomp(proc: str = PROC) -> bool | None:
    """Whether this kernel has seccomp: its status files have a Seccomp field (CONFIG_SECCOMP)."""
    found = read_host_file(f"{proc}/self/status", max_bytes=64 * 1024, errors="replace")
    if found.text is None:
        return None
    return any(line.startswith("Seccomp:") for line in found.text.splitlines())


def runtime_host(
    *,
    local: bool,
    local_why: str,
    cpus: int | None,
    table: ProcessTable | None,
    daemon: DaemonFacts | None,
    root: HostRoot | None,
    docker_root: str = "",
    proc: str = PROC,
) -> tuple[RuntimeHost, dict[str, int] | None]:
    """The engine host's facts the container checks compare with, and the host's namespace inodes."""
    if not local or table is None or root is None:
        return replace(remote_sockets(local_why), cpus=cpus), None
    inodes, whose, why = host_namespaces(table, daemon, proc)
    sockets, complete, notes = engine_sockets(table, root, daemon, proc)
    compared = [*SENSITIVE_DIRS, *([docker_root] if docker_root.startswith("/") else [])]
    return (
        RuntimeHost(
            local=True,
            cpus=cpus,
            seccomp=kernel_seccomp(proc),
            namespace_reference=whose,
            namespace_why=why,
            sockets=sockets,
            sockets_complete=complete,
            notes=notes,
            real_paths=real_paths(root, compared),
        ),
        inodes,
    )


def resolve_container(
    c: ContainerFacts,
    directory: Directory,
    host_inodes: Mapping[str, int] | None,
    volumes: Mapping[str, VolumeAnswer],
    root: HostRoot | None,
    remote_why: str,
    proc: str = PROC,
) -> ContainerFacts:
    """`c` with its namespaces and mount sources resolved."""
    return evolve(
        c,
        namespaces=resolve_namespaces(c, directory, host_inodes, proc),
        mounts=tuple(resolve_mount(m, root, volumes, remote_why) for m in c.mounts),
    )


def volumes_in_use(containers: Iterable[ContainerFacts]) -> list[str]:
    """Names of the volumes of the local driver (or of an unknown one) the containers mount, sorted."""
    return sorted(
        {
            m.name
            for c in containers
            for m in c.mounts
            if m.type == "volume" and m.name and m.driver in (None, "", "local")
        }
    )
