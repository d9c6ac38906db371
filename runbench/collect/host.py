"""Facts read on the host itself: which dockerd serves our socket, its flags and daemon.json."""

from __future__ import annotations

import os
import platform
import socket
from pathlib import Path

import psutil

from runbench.collect.proc import ProcessTable
from runbench.snapshot import CollectionError, DaemonFacts, HostFacts, parse_daemon_json

DEFAULT_SOCKET = "/var/run/docker.sock"
DEFAULT_DAEMON_JSON = "/etc/docker/daemon.json"


def unix_socket_path(docker_host: str) -> str | None:
    if not docker_host:
        return DEFAULT_SOCKET
    for prefix in ("unix://", "http+unix://"):
        if docker_host.startswith(prefix):
            return docker_host[len(prefix) :] or DEFAULT_SOCKET
    return None


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


def daemon_facts(table: ProcessTable, docker_host: str, errors: list[CollectionError]) -> DaemonFacts:
    pid, why = find_dockerd(table, docker_host)
    if pid is None:
        errors.append(CollectionError("daemon", "", "daemon", why))
        return DaemonFacts()
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
    config_file, config_json = "", None
    if config_path:
        try:
            config_json = Path(config_path).read_text(encoding="utf-8")
            config_file = config_path
        except FileNotFoundError:
            if config_flag:
                errors.append(
                    CollectionError("daemon", config_path, "daemon.json", "--config-file names a missing file")
                )
        except OSError as exc:
            config_file = config_path
            errors.append(CollectionError("daemon", config_path, "daemon.json", f"cannot read: {exc.strerror or exc}"))
        except UnicodeDecodeError:
            config_file = config_path
            errors.append(CollectionError("daemon", config_path, "daemon.json", "not UTF-8 text"))
    sockets = {unix_socket_path(h) for h in _flag_values(argv, "-H", "--host")}
    config = parse_daemon_json(config_json)
    if config_json is not None and config is None:
        errors.append(CollectionError("daemon", config_file, "daemon.json", "does not parse as a JSON object"))
    if config:
        hosts = config.get("hosts")
        if isinstance(hosts, list):
            sockets |= {unix_socket_path(str(h)) for h in hosts}
    own = unix_socket_path(docker_host)
    sockets.add(own)
    if not _flag_values(argv, "-H", "--host") and not (config and config.get("hosts")):
        sockets.add(DEFAULT_SOCKET)
    return DaemonFacts(
        pid=pid,
        uid=uid,
        argv=argv,
        config_file=config_file,
        config_json=config_json,
        sockets=tuple(sorted(s for s in sockets if s)),
    )


def _home_of(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_dir
    except (KeyError, ImportError):
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
