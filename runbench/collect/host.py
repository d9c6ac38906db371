"""Facts read on the host itself: which dockerd serves our socket, its flags and daemon.json, and the files
the file checks declare."""

from __future__ import annotations

import grp
import os
import platform
import pwd
import socket
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import psutil

from runbench.collect.proc import ProcessTable
from runbench.semantics import DEFAULT_DAEMON_JSON, DEFAULT_DOCKER_SOCKET, unix_socket_path
from runbench.snapshot import DaemonFacts, FileFacts, FileType, HostFacts

DEFAULT_SOCKET = DEFAULT_DOCKER_SOCKET


def _real(path: str) -> str:
    try:
        return os.path.realpath(path)
    except OSError:
        return path


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
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


def _serves(pid: int, sock: str) -> bool | None:
    """Whether process `pid` listens on unix socket `sock`; None when its sockets cannot be read."""
    try:
        conns = psutil.Process(pid).net_connections(kind="unix")
    except (psutil.Error, OSError):
        return None
    target = _real(sock)
    return any(isinstance(c.laddr, str) and c.laddr and _real(c.laddr) == target for c in conns)


def find_dockerd(table: ProcessTable, docker_host: str) -> tuple[int | None, str]:
    """The dockerd serving `docker_host`, and how it was chosen (or why none was)."""
    candidates = sorted(pid for pid, p in table.procs.items() if p.name == "dockerd" or p.exe == "dockerd")
    if not candidates:
        return None, "no dockerd process is visible on this host"
    sock = unix_socket_path(docker_host)
    if sock is not None:
        for pid in candidates:
            if _serves(pid, sock):
                return pid, f"dockerd pid {pid} listens on {sock}"
        for pid in candidates:  # socket-activated or unreadable sockets: fall back to the -H flags
            hosts = _flag_values(table.cmdline.get(pid, ()), "-H", "--host")
            if any(unix_socket_path(h) and _real(unix_socket_path(h) or "") == _real(sock) for h in hosts):
                return pid, f"dockerd pid {pid} has -H {sock}"
    if len(candidates) == 1:
        return candidates[0], f"the only dockerd on this host (pid {candidates[0]})"
    return None, f"{len(candidates)} dockerd processes and none could be matched to {docker_host or DEFAULT_SOCKET}"


@dataclass(frozen=True, slots=True)
class DaemonJson:
    """The daemon.json in use: its path ("" when none), its text, or why it could not be read."""

    path: str = ""
    text: str | None = None
    why: str = ""


def daemon_facts(table: ProcessTable, docker_host: str) -> tuple[DaemonFacts | None, str, DaemonJson]:
    """The dockerd serving `docker_host` (None and why when it cannot be told), and its daemon.json."""
    pid, why = find_dockerd(table, docker_host)
    if pid is None:
        return None, why, DaemonJson()
    argv = table.cmdline.get(pid, ())
    proc = table.procs.get(pid)
    uid = proc.uid if proc else None
    config_flag = _flag_values(argv, "--config-file")
    if config_flag:
        config_path = config_flag[-1]
    elif uid not in (0, None):
        home = _home_of(uid)
        config_path = os.path.join(home, ".config/docker/daemon.json") if home else ""
    else:
        config_path = DEFAULT_DAEMON_JSON
    config = read_daemon_json(config_path, named=bool(config_flag)) if config_path else DaemonJson()
    hosts = _flag_values(argv, "-H", "--host")
    sockets = {unix_socket_path(h) for h in hosts}
    listed = _json_hosts(config.text)
    sockets |= {unix_socket_path(h) for h in listed}
    sockets.add(unix_socket_path(docker_host))
    if not hosts and not listed:
        sockets.add(DEFAULT_SOCKET)
    facts = DaemonFacts(
        pid=pid,
        uid=uid,
        argv=argv,
        config_file=config.path,
        sockets=tuple(sorted(s for s in sockets if s)),
    )
    return facts, why, config


def read_daemon_json(path: str, *, named: bool) -> DaemonJson:
    """daemon.json's text; a missing file is no daemon.json unless --config-file named it."""
    try:
        return DaemonJson(path, Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return DaemonJson(path, None, "--config-file names a missing file") if named else DaemonJson()
    except OSError as exc:
        return DaemonJson(path, None, f"cannot read: {exc.strerror or exc}")
    except UnicodeDecodeError:
        return DaemonJson(path, None, "not UTF-8 text")


def _json_hosts(text: str | None) -> list[str]:
    import json

    if text is None:
        return []
    try:
        data = json.loads(text)
    except ValueError:
        return []
    hosts = data.get("hosts") if isinstance(data, dict) else None
    return [str(h) for h in hosts] if isinstance(hosts, list) else []


def _home_of(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_dir
    except KeyError:
        return ""


def host_facts(engine_hostname: str, docker_host: str, dockerd_visible: bool) -> HostFacts:
    """Whether this host is the engine's: only then are /proc and the host's files the engine's."""
    name = socket.gethostname()
    sock = unix_socket_path(docker_host)
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


def file_facts(path: str) -> FileFacts:
    """lstat of `path` (a symlink is reported as one, with its target, never followed)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return FileFacts(path=path, type=FileType.MISSING)
    except OSError as exc:
        return FileFacts(path=path, type=FileType.UNKNOWN, error=exc.strerror or str(exc))
    kind = next((t for test, t in _FILE_TYPES if test(st.st_mode)), FileType.UNKNOWN)
    target = ""
    if kind is FileType.SYMLINK:
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
    return FileFacts(
        path=path,
        type=kind,
        uid=st.st_uid,
        gid=st.st_gid,
        owner=_user_name(st.st_uid),
        group=_group_name(st.st_gid),
        mode=stat.S_IMODE(st.st_mode),
        target=target,
    )


def files_facts(paths: Iterable[str]) -> tuple[FileFacts, ...]:
    return tuple(file_facts(p) for p in sorted(set(paths)))


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
