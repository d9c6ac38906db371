"""Facts read on the host itself: which dockerd serves our socket (proven, not guessed), its flags and
daemon.json, and the files the file checks declare. Every file is read through runbench.hostfs."""

from __future__ import annotations

import grp
import os
import platform
import pwd
import socket
import stat
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from runbench import daemonconfig
from runbench.collect.proc import ProcessTable
from runbench.hostfs import HOST_FILE_CAP, MIB, HostFile, read_host_file
from runbench.semantics import DEFAULT_DAEMON_JSON, DEFAULT_DOCKER_SOCKET, unix_socket_path
from runbench.snapshot import DaemonFacts, FileFacts, FileType, HostFacts

PROC = "/proc"
OS_RELEASE_CAP = 64 * 1024
NET_UNIX_CAP = 64 * MIB  # ~150 bytes a socket: hundreds of thousands of sockets
_SO_ACCEPTCON = 0x10000  # /proc/net/unix Flags of a listening socket
_SS_UNCONNECTED = "01"  # /proc/net/unix St of a listening socket

PeerPid = Callable[[str], "int | None"]


def _os_name(path: str = "/etc/os-release", root: HostRoot | None = None) -> str:
    # /etc/os-release is usually a symlink to ../usr/lib/os-release
    root = root or HostRoot()
    release = root.read(path, max_bytes=OS_RELEASE_CAP, within="/usr/lib")
    for line in (release.text or "").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')[:200]
    return platform.system()


def _flag_values(argv: tuple[str, ...], *names: str) -> list[str]:
    out = []
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                out.append(argv[i + 1])
            elif arg.startswith(name + "="):
                out.append(arg.split("=", 1)[1])
    return out


def _real(path: str) -> str:
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return path


# --- which dockerd serves the socket ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DaemonIdentity:
    """The dockerd serving the engine's socket: `pid` (None when there is none to name), how it was chosen,
    and whether that is proven (`verified_by` says by what, or why it cannot be)."""

    pid: int | None
    why: str
    verified: bool = False
    verified_by: str = ""


def listener_pid(sock: str, timeout: float = 2.0) -> int | None:
    """The process the kernel names as the listener of unix socket `sock` (SO_PEERCRED of a connection to it:
    the process that called listen(), as seen from this PID namespace); None when it cannot be told."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect(sock)
            raw = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except (OSError, ValueError):
        return None
    pid = struct.unpack("3i", raw)[0]
    return pid if pid > 0 else None


def unix_listeners(sock: str, proc: str = PROC) -> tuple[frozenset[int] | None, str]:
    """Inodes of the listening unix sockets bound at `sock` (or at a path resolving to the same file), from
    `proc`/net/unix; None and why when the table cannot be read. Abstract names (`@...`) are not paths; a
    deleted socket keeps its name in the table, so more than one inode can claim a path."""
    table = read_host_file(f"{proc}/net/unix", max_bytes=NET_UNIX_CAP, errors="surrogateescape")
    if table.text is None:
        return None, f"cannot read {proc}/net/unix: {table.why}"
    names = {sock, os.path.normpath(sock), _real(sock)}
    bases = {os.path.basename(n) for n in names}
    target = _real(sock)
    inodes: set[int] = set()
    for line in table.text.split("\n")[1:]:
        fields = line.split(None, 7)
        if len(fields) < 8 or fields[5] != _SS_UNCONNECTED or fields[7].startswith("@"):
            continue
        try:
            flags, inode = int(fields[3], 16), int(fields[6])
        except ValueError:
            continue
        path = fields[7]
        if not flags & _SO_ACCEPTCON or inode <= 0 or os.path.basename(path) not in bases:
            continue
        if path in names or _real(path) == target:
            inodes.add(inode)
    return frozenset(inodes), ""


def held_sockets(pid: int, inodes: frozenset[int], proc: str = PROC) -> tuple[dict[int, int] | None, str]:
    """Which of `inodes` process `pid` holds open: inode -> fd number; None and why when its fds are
    unreadable (another user's process, runbench not root)."""
    fd_dir = f"{proc}/{pid}/fd"
    try:
        fds = os.listdir(fd_dir)
    except FileNotFoundError:
        return {}, ""  # exited: it holds nothing
    except OSError as exc:
        return None, f"cannot read the open files of pid {pid}: {exc.strerror or exc}"
    held: dict[int, int] = {}
    for fd in fds:
        try:
            link = os.readlink(f"{fd_dir}/{fd}")
        except OSError:
            continue  # closed meanwhile
        if link.startswith("socket:[") and link.endswith("]"):
            try:
                inode = int(link[8:-1])
            except ValueError:
                continue
            if inode in inodes and fd.isdigit():
                held.setdefault(inode, int(fd))
    return held, ""


def _tcp_endpoint(docker_host: str) -> tuple[set[bytes], int] | None:
    """The loopback addresses (packed) and port of a tcp:// DOCKER_HOST on this host, None for any other."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(docker_host)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme != "tcp" or port is None:
        return None
    host = (parts.hostname or "").lower()
    if host == "localhost":
        return {socket.inet_pton(socket.AF_INET, "127.0.0.1"), socket.inet_pton(socket.AF_INET6, "::1")}, port
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            packed = socket.inet_pton(family, host)
        except OSError:
            continue
        if (len(packed) == 4 and packed[:1] == b"\x7f") or packed == socket.inet_pton(socket.AF_INET6, "::1"):
            return {packed}, port
    return None


def _proc_net_address(text: str) -> bytes:
    """A /proc/net/tcp{,6} address (32-bit words in host byte order) as packed network bytes."""
    words = [int(text[i : i + 8], 16) for i in range(0, len(text), 8)]
    return b"".join(struct.pack("=I", w) for w in words)


def tcp_listeners(addresses: set[bytes], port: int, proc: str = PROC) -> tuple[frozenset[int] | None, str]:
    """Inodes of the TCP sockets listening on `port` at one of `addresses` or a wildcard address."""
    wildcards = {bytes(4), bytes(16)}
    inodes: set[int] = set()
    for name in ("tcp", "tcp6"):
        table = read_host_file(f"{proc}/net/{name}", max_bytes=NET_UNIX_CAP)
        if table.text is None:
            if table.missing and name == "tcp6":
                continue  # no IPv6
            return None, f"cannot read {proc}/net/{name}: {table.why}"
        for line in table.text.split("\n")[1:]:
            fields = line.split()
            if len(fields) < 10 or fields[3] != "0A":  # TCP_LISTEN
                continue
            addr, _, port_hex = fields[1].partition(":")
            try:
                if int(port_hex, 16) != port:
                    continue
                packed, inode = _proc_net_address(addr), int(fields[9])
            except ValueError:
                continue
            v4_mapped = packed[:12] == b"\0" * 10 + b"\xff\xff" and packed[12:] in addresses
            if inode > 0 and (packed in addresses or packed in wildcards or v4_mapped):
                inodes.add(inode)
    return frozenset(inodes), ""


def _name_of(table: ProcessTable, pid: int) -> str:
    proc = table.procs.get(pid)
    return f"pid {pid} ({proc.name})" if proc is not None and proc.name else f"pid {pid}"


@dataclass(frozen=True, slots=True)
class _Proof:
    pid: int | None  # the proven server, when proven
    text: str  # the proof, or why there is none
    suspects: tuple[int, ...] | None = None  # unproven: the candidates not ruled out (None: no evidence at all)


def _prove(
    table: ProcessTable,
    candidates: list[int],
    where: str,
    listeners: tuple[frozenset[int] | None, str],
    peer: int | None,
    proc: str,
) -> _Proof:
    """Which candidate holds the listening socket of `where` (its inodes in `listeners`, or why they are not
    known). `peer` is the listener the kernel names when it is not a dockerd: with socket activation it is
    systemd, which passed the socket on, so only the sockets it holds count."""
    inodes, why = listeners
    listener = f"{_name_of(table, peer)} listens on {where}" if peer is not None else ""
    if inodes is None:
        return _Proof(None, why)
    if not inodes:
        return _Proof(None, f"no listening socket for {where} in {proc}/net" + (f"; {listener}" if listener else ""))
    if peer is not None:
        held, why = held_sockets(peer, inodes, proc)
        if held is None:
            return _Proof(None, f"{listener} but {why}")
        if not held:
            return _Proof(None, f"{listener} but holds none of the sockets {proc}/net lists for it")
        inodes = frozenset(held)
    holders: dict[int, tuple[int, int]] = {}  # pid -> (inode, fd)
    unreadable: list[int] = []
    reasons: list[str] = []
    for pid in candidates:
        held, why = held_sockets(pid, inodes, proc)
        if held is None:
            unreadable.append(pid)
            reasons.append(why)
        elif held:
            holders[pid] = min(held.items())
    suspects = (*holders, *unreadable)
    if len(inodes) > 1:  # a stale daemon's socket keeps its name; a name with a newline forges a line
        listed = ", ".join(str(i) for i in sorted(inodes))
        return _Proof(None, f"{len(inodes)} listening sockets claim {where} in {proc}/net (inodes {listed})", suspects)
    (inode,) = inodes
    if len(holders) == 1:
        ((pid, (_, fd)),) = holders.items()
        text = f"dockerd pid {pid} holds the listening socket of {where} (socket:[{inode}] as fd {fd})"
        return _Proof(pid, text + (f"; {listener} and passed it on (socket activation)" if listener else ""))
    if holders:
        pids = ", ".join(str(p) for p in holders)
        return _Proof(None, f"dockerd pids {pids} all hold the listening socket of {where} (socket:[{inode}])", ())
    if unreadable:
        uids = sorted({str(u) for p in unreadable if (u := table.procs[p].uid) is not None})
        whose = f" (uid {', '.join(uids)})" if uids else ""
        return _Proof(None, f"{'; '.join(reasons)}{whose}: run runbench as root", suspects)
    text = f"no visible dockerd holds the listening socket of {where} (socket:[{inode}])"
    return _Proof(None, text + (f"; {listener}" if listener else ""), ())


def _guess(table: ProcessTable, candidates: list[int], sock: str | None) -> tuple[int | None, str]:
    """The likeliest dockerd when nothing proves which one serves: evidence only, never trusted."""
    if sock is not None:
        for pid in candidates:
            hosts = _flag_values(table.cmdline.get(pid, ()), "-H", "--host")
            if any(_real(unix_socket_path(h) or "") == _real(sock) for h in hosts if unix_socket_path(h)):
                return pid, f"dockerd pid {pid} has -H {sock}"
    if len(candidates) == 1:
        return candidates[0], f"the only dockerd on this host (pid {candidates[0]})"
    return None, f"{len(candidates)} dockerd processes and none could be matched to {sock or 'the engine'}"


def find_dockerd(
    table: ProcessTable, docker_host: str, *, proc: str = PROC, peer: PeerPid = listener_pid
) -> DaemonIdentity:
    """The dockerd serving `docker_host`, how it was chosen, and whether that is proven. Only evidence a local
    user cannot forge verifies: the kernel naming the process as the listener of the unix socket
    (SO_PEERCRED), or the process holding the listening socket's inode (`proc`/net/unix, /net/tcp), which
    covers socket activation (systemd listens, dockerd holds the socket as fd 3). Without proof the likeliest
    candidate is returned unverified, as evidence only; with proof that no visible dockerd serves, none is.
    `peer` tells the listener of a unix socket (tests replace it)."""
    candidates = sorted(pid for pid, p in table.procs.items() if p.name == "dockerd" or p.exe == "dockerd")
    if not candidates:
        return DaemonIdentity(None, "no dockerd process is visible on this host")
    sock = unix_socket_path(docker_host)
    listener: int | None = None
    if sock is not None:
        listener = peer(sock)
        if listener is not None and listener in candidates:
            text = f"the kernel names dockerd pid {listener} as the listener on {sock} (SO_PEERCRED)"
            return DaemonIdentity(listener, text, True, text)
        where, listeners = sock, unix_listeners(sock, proc)
    else:
        endpoint = _tcp_endpoint(docker_host)
        if endpoint is None:
            pid, how = _guess(table, candidates, None)
            return DaemonIdentity(pid, how, False, f"the engine at {docker_host} is not on this host's loopback")
        where, listeners = docker_host, tcp_listeners(*endpoint, proc)
    proof = _prove(table, candidates, where, listeners, listener, proc)
    if proof.pid is not None:
        return DaemonIdentity(proof.pid, proof.text, True, proof.text)
    if proof.suspects == ():  # proven: no visible dockerd serves it
        return DaemonIdentity(None, proof.text, False, proof.text)
    unverified = f"cannot verify which process serves {where}: {proof.text}"
    if proof.suspects is None:  # no evidence either way: the old guess, as evidence only
        pid, how = _guess(table, candidates, sock)
    elif len(proof.suspects) == 1:
        pid, how = proof.suspects[0], f"the only dockerd that may hold the socket of {where} (pid {proof.suspects[0]})"
    else:  # several remain and nothing but their (forgeable) argv tells them apart: name none
        pid, how = None, unverified
    return DaemonIdentity(pid, how, False, unverified)


# --- the daemon's facts and daemon.json ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DaemonJson:
    """The daemon.json in use: its path ("" when none), its text, or why it could not be read."""

    path: str = ""
    text: str | None = None
    why: str = ""
    link: str = ""  # the path is a symlink: its target (followed only inside the expected directory)
    owner_note: str = ""  # owned by a user other than root or the daemon's own ("" when not)


def daemon_facts(
    table: ProcessTable,
    docker_host: str,
    *,
    proc: str = PROC,
    peer: PeerPid = listener_pid,
    host_root: str | None = None,
) -> tuple[DaemonFacts | None, str, DaemonJson]:
    """The dockerd serving `docker_host` (None and why when there is none to name) and its daemon.json.

    An unverified dockerd is reported as evidence, but its --config-file is not read and its argv must not
    be taken for the daemon's configuration: anyone can start a process named dockerd with any argv."""
    ident = find_dockerd(table, docker_host, proc=proc, peer=peer)
    if ident.pid is None:
        return None, ident.why, DaemonJson()
    pid = ident.pid
    argv = table.cmdline.get(pid, ())
    found = table.procs.get(pid)
    uid = found.uid if found else None
    sock = unix_socket_path(docker_host)
    if not ident.verified:
        facts = DaemonFacts(
            pid=pid,
            uid=uid,
            argv=argv,
            sockets=(sock,) if sock else (),
            verified=False,
            verified_by=ident.verified_by,
        )
        return facts, ident.why, DaemonJson(why=f"not read: {ident.verified_by}")
    config = _read_config(argv, pid, uid, proc, HostRoot(host_root or "/"))
    hosts = _flag_values(argv, "-H", "--host")
    sockets = {unix_socket_path(h) for h in hosts}
    listed = _json_hosts(config.text)
    sockets |= {unix_socket_path(h) for h in listed}
    sockets.add(sock)
    if not hosts and not listed:
        sockets.add(DEFAULT_DOCKER_SOCKET)
    facts = DaemonFacts(
        pid=pid,
        uid=uid,
        argv=argv,
        config_file=config.path,
        sockets=tuple(sorted(s for s in sockets if s)),
        verified=True,
        verified_by=ident.verified_by,
        config_file_owner_note=config.owner_note or None,
        config_file_link=config.link or None,
    )
    return facts, ident.why, config


def _read_config(argv: tuple[str, ...], pid: int, uid: int | None, proc: str, root: HostRoot) -> DaemonJson:
    """The daemon.json a verified dockerd reads: --config-file, else the default for root or rootless."""
    named = any(a == "--config-file" or a.startswith("--config-file=") for a in argv)
    if named:
        path = daemonconfig.config_file(argv)
        if not os.path.isabs(path):
            return DaemonJson(path, None, "--config-file names a relative path: not read")
        within = os.path.dirname(path)
    elif uid not in (0, None):
        home = _home_of(uid)
        if not home:
            return DaemonJson()
        within = os.path.join(home, ".config/docker")
        path = os.path.join(within, "daemon.json")
    else:
        path, within = DEFAULT_DAEMON_JSON, os.path.dirname(DEFAULT_DAEMON_JSON)
    return read_daemon_json(path, named=named, within=within, daemon_uid=uid, daemon_pid=pid, proc=proc, root=root)


def read_daemon_json(
    path: str,
    *,
    named: bool,
    within: str | None = None,
    daemon_uid: int | None = 0,
    daemon_pid: int | None = None,
    proc: str = PROC,
    root: HostRoot | None = None,
) -> DaemonJson:
    """daemon.json's text; a missing file is no daemon.json unless --config-file named it. A symlink is
    followed only inside `within`; for a daemon not running as root, a file its user could not read is not
    read either (runbench, as root, could read what the daemon cannot). Read below `root` (--host-root)."""
    root = root or HostRoot()
    found = root.read(path, within=within)
    if found.missing:
        return DaemonJson(path, None, f"--config-file names a missing file ({found.why})") if named else DaemonJson()
    if found.text is None:
        return DaemonJson(path, None, found.why, link=found.link)
    if daemon_uid not in (0, None) and not _could_read(found, daemon_uid, daemon_pid, proc, root):
        why = f"not read: the daemon's user (uid {daemon_uid}) cannot read it, so it is not the daemon's"
        return DaemonJson(path, None, why, link=found.link)
    return DaemonJson(path, found.text, "", link=found.link, owner_note=_owner_note(found, daemon_uid))


def _owner_note(found: HostFile, daemon_uid: int | None) -> str:
    owner = found.uid
    if owner is None or daemon_uid is None or owner in (0, daemon_uid):
        return ""
    who = f"uid {owner}" + (f" ({name})" if (name := _user_name(owner)) else "")
    if daemon_uid == 0:
        return f"{found.path} is owned by {who}, not root: that user can reconfigure a daemon running as root"
    return f"{found.path} is owned by {who}, neither root nor the daemon's user (uid {daemon_uid})"


def _credentials(uid: int, pid: int | None, proc: str) -> tuple[int, set[int]]:
    """The filesystem uid and the groups a process checks file access with (from its status when readable,
    else the user's entry in the group database)."""
    if pid is not None:
        status = read_host_file(f"{proc}/{pid}/status", max_bytes=64 * 1024)
        fields = dict(line.split(":", 1) for line in (status.text or "").splitlines() if ":" in line)
        try:
            fsuid = int(fields["Uid"].split()[3])
            groups = {int(fields["Gid"].split()[3]), *(int(g) for g in fields.get("Groups", "").split())}
            return fsuid, groups
        except (KeyError, IndexError, ValueError):
            pass
    try:
        entry = pwd.getpwuid(uid)
        return uid, set(os.getgrouplist(entry.pw_name, entry.pw_gid))
    except (KeyError, OSError):
        return uid, set()


def _could_read(found: HostFile, uid: int, pid: int | None, proc: str, root: HostRoot | None = None) -> bool:
    """Whether user `uid` could read `found`: read permission on it, search permission on every directory
    above its real path (mode bits; ACLs are not read)."""
    fsuid, groups = _credentials(uid, pid, proc)

    def allows(owner: int | None, group: int | None, mode: int, bit: int) -> bool:
        if owner == fsuid:
            return bool(mode & (bit << 6))
        if group in groups:
            return bool(mode & (bit << 3))
        return bool(mode & bit)

    if found.mode is None or not allows(found.uid, found.gid, found.mode, 4):
        return False
    if root is None or root.is_host:
        directory = os.path.dirname(found.followed or _real(found.path))
    else:  # the same walk on the host's tree below the host root, up to the host's /
        directory = root.local(os.path.dirname(root.resolve(found.followed or found.path) or found.path))
    while True:
        try:
            st = os.stat(directory)
        except OSError:
            return False
        if not allows(st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode), 1):
            return False
        parent = os.path.dirname(directory)
        if parent == directory:
            return True
        directory = parent


def _json_hosts(text: str | None) -> list[str]:
    import json

    if text is None:
        return []
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return []
    hosts = data.get("hosts") if isinstance(data, dict) else None
    return [str(h) for h in hosts] if isinstance(hosts, list) else []


def _home_of(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_dir
    except KeyError:
        return ""


# --- the host ---------------------------------------------------------------------------------------


def host_facts(
    engine_hostname: str, docker_host: str, dockerd_visible: bool, host_root: str | None = None
) -> HostFacts:
    """Whether this host is the engine's: only then are /proc and the host's files the engine's. With
    `host_root` (--host-root) the user says the engine's host has its / mounted there: its files are read
    below it (processes still come from this /proc)."""
    name = socket.gethostname()
    sock = unix_socket_path(docker_host)
    if host_root is not None:
        root = HostRoot(host_root)
        reason = f"--host-root {host_root}: the engine host's files are read below {host_root}"
        return HostFacts(
            hostname=name,
            local=True,
            local_reason=reason,
            kernel=platform.release(),
            os=_os_name(root=root),
            host_root=root.path,
        )
    if sock is None and not docker_host.startswith(("tcp://127.", "tcp://localhost", "tcp://[::1]")):
        local, reason = False, f"the engine is remote ({docker_host}): host facts are not the engine's"
    elif dockerd_visible:
        local, reason = True, "the engine's dockerd process is visible here"
    elif engine_hostname and engine_hostname == name:
        local, reason = True, "the engine reports this host's name"
    else:
        local, reason = False, "no dockerd process is visible and the engine reports another host name"
    return HostFacts(hostname=name, local=local, local_reason=reason, kernel=platform.release(), os=_os_name())


_FILE_TYPES = (
    (stat.S_ISREG, FileType.FILE),
    (stat.S_ISDIR, FileType.DIRECTORY),
    (stat.S_ISLNK, FileType.SYMLINK),
    (stat.S_ISSOCK, FileType.SOCKET),
    (stat.S_ISFIFO, FileType.FIFO),
    (stat.S_ISCHR, FileType.CHAR_DEVICE),
    (stat.S_ISBLK, FileType.BLOCK_DEVICE),
)


def file_type_of(mode: int) -> FileType:
    """The kind of file an lstat mode describes."""
    return next((t for test, t in _FILE_TYPES if test(mode)), FileType.UNKNOWN)


def file_facts(path: str, root: HostRoot | None = None, names: AccountNames | None = None) -> FileFacts:
    """lstat of host path `path` (below `root`; a symlink is reported as one, with its target, never
    followed). Owner and group names come from `names` (the host's /etc/passwd and /etc/group under a host
    root), else from this system's user database."""
    root = root or HostRoot()
    try:
        st = root.lstat(path)
    except FileNotFoundError:
        return FileFacts(path=path, type=FileType.MISSING)
    except NotADirectoryError:
        return FileFacts(path=path, type=FileType.MISSING)
    except OSError as exc:
        return FileFacts(path=path, type=FileType.UNKNOWN, error=exc.strerror or str(exc))
    kind = file_type_of(st.st_mode)
    target = ""
    if kind is FileType.SYMLINK:
        try:
            target = os.readlink(root.local(path))
        except OSError:
            target = "?"
    return FileFacts(
        path=path,
        type=kind,
        uid=st.st_uid,
        gid=st.st_gid,
        owner=names.users.get(st.st_uid, "") if names is not None else _user_name(st.st_uid),
        group=names.groups.get(st.st_gid, "") if names is not None else _group_name(st.st_gid),
        mode=stat.S_IMODE(st.st_mode),
        target=target,
    )


def files_facts(paths: Iterable[str], root: str | None = None) -> tuple[FileFacts, ...]:
    """lstat of every host path in `paths`, below `root` (--host-root; None: this system's /)."""
    host_root = HostRoot(root or "/")
    names = None if host_root.is_host else account_names(host_root)
    return tuple(file_facts(p, host_root, names) for p in sorted(set(paths)) if p.startswith("/"))


def files_elsewhere(paths: Iterable[str]) -> tuple[FileFacts, ...]:
    """The declared paths of an engine whose host is not this one: nothing is stat'ed (FileType.UNKNOWN); the
    file checks skip them ("not this machine")."""
    why = "not stat'ed: the engine's host is not this machine (--host-root reads its files)"
    return tuple(FileFacts(path=p, type=FileType.UNKNOWN, error=why) for p in sorted(set(paths)))


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return ""


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return ""


# --- the host's / (--host-root) ---------------------------------------------------------------------

MAX_LINKS = 40  # symlinks followed in one path, as the kernel allows


class HostRoot:
    """Where the host's / is: "/" (runbench runs on the host), or the --host-root PATH where it is mounted
    (runbench in a container with the host's / at /host). Host paths are resolved inside the root: an
    absolute symlink on the host (/var/run -> /run) means the host's /run, never this system's. Reads go
    through runbench.hostfs and are cached, so that each file is read once per collection."""

    __slots__ = ("_cache", "path")

    def __init__(self, path: str = "/") -> None:
        self.path = os.path.normpath(path) if path else "/"
        self._cache: dict[tuple[str, int, str | None, str], HostFile] = {}

    @property
    def is_host(self) -> bool:
        return self.path == "/"

    def _join(self, host_path: str) -> str:
        return self.path.rstrip("/") + "/" + host_path.lstrip("/") if not self.is_host else host_path

    def resolve(self, host_path: str, *, follow_last: bool = True) -> str | None:
        """`host_path` with its symlinks resolved inside the root (a host path; None on a symlink loop). A
        component that does not exist ends the resolution: the rest is kept as written."""
        parts = [p for p in host_path.split("/") if p]
        done: list[str] = []
        hops = 0
        while parts:
            part = parts.pop(0)
            if part == ".":
                continue
            if part == "..":
                if done:
                    done.pop()
                continue
            if not parts and not follow_last:
                done.append(part)
                break
            try:
                target = os.readlink(self._join("/" + "/".join([*done, part])))
            except OSError:  # not a symlink, or missing: keep it as written
                done.append(part)
                continue
            hops += 1
            if hops > MAX_LINKS:
                return None
            if target.startswith("/"):
                done = []
            parts = [p for p in target.split("/") if p] + parts
        return "/" + "/".join(done)

    def local(self, host_path: str) -> str:
        """The path on this system of `host_path`: its directories resolved inside the root, the last
        component left as it is (so a symlink there is seen as one)."""
        if self.is_host:
            return host_path
        resolved = self.resolve(host_path, follow_last=False)
        return self._join(resolved if resolved is not None else host_path)

    def lstat(self, host_path: str) -> os.stat_result:
        return os.lstat(self.local(host_path))

    def scandir(self, host_path: str) -> list[os.DirEntry[str]]:
        with os.scandir(self.local(host_path)) as entries:
            return list(entries)

    def read(
        self,
        host_path: str,
        *,
        max_bytes: int = HOST_FILE_CAP,
        within: str | None = None,
        errors: str = "strict",
    ) -> HostFile:
        """A host file through runbench.hostfs.read_host_file (regular files only, capped, a symlink followed
        only when it resolves inside `within`, a host directory); cached."""
        key = (host_path, max_bytes, within, errors)
        found = self._cache.get(key)
        if found is None:
            found = self._read(host_path, max_bytes, within, errors)
            self._cache[key] = found
        return found

    def _read(self, host_path: str, max_bytes: int, within: str | None, errors: str) -> HostFile:
        if self.is_host:
            return read_host_file(host_path, max_bytes=max_bytes, within=within, errors=errors)
        local = self.local(host_path)
        try:
            is_link = stat.S_ISLNK(os.lstat(local).st_mode)
        except OSError:
            is_link = False
        if not is_link:
            return replace(read_host_file(local, max_bytes=max_bytes, errors=errors), path=host_path)
        try:
            link = os.readlink(local)
        except OSError as exc:
            return HostFile(host_path, None, f"is a symlink that cannot be read: {exc.strerror or exc}")
        resolved = self.resolve(host_path)
        inside = within is not None and resolved is not None and resolved.startswith(within.rstrip("/") + "/")
        if resolved is None or not inside:
            where = f" (resolving to {resolved})" if resolved else ""
            why = f"is a symlink to {link}{where}, outside {within}: not followed"
            return HostFile(host_path, None, why, link=link)
        found = read_host_file(self._join(resolved), max_bytes=max_bytes, errors=errors)
        return replace(found, path=host_path, link=link, followed=resolved)


# --- the host's accounts ----------------------------------------------------------------------------

ACCOUNTS_CAP = 16 * MIB


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    uid: int
    gid: int  # primary group


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    gid: int
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Accounts:
    """/etc/passwd and /etc/group of the host, parsed (`why` says what could not be read)."""

    users: tuple[Account, ...] = ()
    groups: tuple[Group, ...] = ()
    why: str = ""


@dataclass(frozen=True, slots=True)
class AccountNames:
    users: dict[int, str]
    groups: dict[int, str]


def parse_passwd(text: str) -> tuple[Account, ...]:
    """`name:password:uid:gid:gecos:home:shell` lines; malformed lines and NIS `+`/`-` entries are skipped."""
    out = []
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 4 or not fields[0] or fields[0][0] in "+-#":
            continue
        try:
            out.append(Account(fields[0], int(fields[2]), int(fields[3])))
        except ValueError:
            continue
    return tuple(out)


def parse_group(text: str) -> tuple[Group, ...]:
    """`name:password:gid:member,member` lines; malformed lines and NIS `+`/`-` entries are skipped."""
    out = []
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 3 or not fields[0] or fields[0][0] in "+-#":
            continue
        try:
            gid = int(fields[2])
        except ValueError:
            continue
        members = tuple(m.strip() for m in fields[3].split(",") if m.strip()) if len(fields) > 3 else ()
        out.append(Group(fields[0], gid, members))
    return tuple(out)


def read_accounts(root: HostRoot) -> Accounts:
    """The host's /etc/passwd and /etc/group (below `root`)."""
    passwd = root.read("/etc/passwd", max_bytes=ACCOUNTS_CAP, errors="replace")
    group = root.read("/etc/group", max_bytes=ACCOUNTS_CAP, errors="replace")
    why = "; ".join(f"{f.path}: {f.why}" for f in (passwd, group) if f.text is None)
    return Accounts(parse_passwd(passwd.text or ""), parse_group(group.text or ""), why)


def account_names(root: HostRoot) -> AccountNames:
    """uid -> user name and gid -> group name from the host's own files (the first entry of an id wins)."""
    accounts = read_accounts(root)
    users: dict[int, str] = {}
    groups: dict[int, str] = {}
    for a in accounts.users:
        users.setdefault(a.uid, a.name)
    for g in accounts.groups:
        groups.setdefault(g.gid, g.name)
    return AccountNames(users, groups)
