"""Host facts: whether this host is the engine's, what the host says about Docker (systemd units, audit
rules, mounts, groups, kernel security modules), and the files the file checks declare."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

# --- systemd units (runbench.collect.systemd) -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitSetting:
    """One `Key=value` line of a unit file or drop-in: its value (continuation lines joined, secrets
    redacted) and where it was written."""

    value: str
    path: str  # the unit file or drop-in (a host path)
    line: int  # 1-based line of the key

    @property
    def source(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class EnvAssignment:
    """One environment variable a unit sets (Environment=, or a line of an EnvironmentFile); the value is
    redacted when the name or the value says secret."""

    name: str
    value: str
    path: str
    line: int

    @property
    def source(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class EnvironmentFileFacts:
    """An environment file (EnvironmentFile=, /etc/default/docker, /etc/sysconfig/docker): its assignments,
    or why it was not read."""

    path: str  # as named, without systemd's '-' prefix (a host path)
    optional: bool = False  # named with '-': a missing file is no error to systemd
    read: bool = False
    missing: bool = False
    why: str = ""  # not read: why ("" when read, or missing)
    values: tuple[EnvAssignment, ...] = ()
    named_by: UnitSetting | None = None  # the EnvironmentFile= line naming it (None: read on its own)

    def get(self, name: str) -> EnvAssignment | None:
        """The last assignment of `name` (the one that counts)."""
        return next((v for v in reversed(self.values) if v.name == name), None)


@dataclass(frozen=True, slots=True)
class UnitCommand:
    """An ExecStart= command: its line, and its argv after systemd's variable expansion with the unit's
    environment (`$VAR` splits into words, `${VAR}` stays one word)."""

    setting: UnitSetting
    argv: tuple[str, ...]
    prefixes: str = ""  # systemd's special prefixes as written ('-', '@', '+', '!', '!!', ':')
    undefined: tuple[str, ...] = ()  # variables referenced but set nowhere (systemd expands them to nothing)


@dataclass(frozen=True, slots=True)
class SystemdUnit:
    """A unit as systemd would load it: the unit file that wins (FragmentPath) and its drop-ins, in systemd's
    precedence order, with the settings runbench reads."""

    name: str  # docker.service, docker.socket
    fragment_path: str = ""  # "" when no unit file exists in any unit directory
    masked: bool = False  # the unit file is a link to /dev/null
    dropins: tuple[str, ...] = ()  # NAME.d/*.conf in the order systemd applies them
    exec_start: tuple[UnitCommand, ...] = ()  # the ExecStart= commands after the last reset
    environment: tuple[EnvAssignment, ...] = ()  # Environment= assignments after the last reset
    environment_files: tuple[EnvironmentFileFacts, ...] = ()  # EnvironmentFile= after the last reset
    listen_streams: tuple[UnitSetting, ...] = ()  # ListenStream= after the last reset
    socket_mode: UnitSetting | None = None
    socket_user: UnitSetting | None = None
    socket_group: UnitSetting | None = None
    unread: tuple[str, ...] = ()  # "PATH: why" of unit files, drop-ins and directories not read

    @property
    def exists(self) -> bool:
        return bool(self.fragment_path)

    @property
    def files(self) -> tuple[str, ...]:
        """The unit file and its drop-ins: every file that configures the unit."""
        return ((self.fragment_path,) if self.fragment_path else ()) + self.dropins

    @property
    def command(self) -> UnitCommand | None:
        """The ExecStart= that runs: the last one after the last reset (a service has one)."""
        return self.exec_start[-1] if self.exec_start else None

    def env(self) -> dict[str, EnvAssignment]:
        """The unit's environment as systemd builds it: Environment= first, then each EnvironmentFile= in
        order (a file overrides Environment=; a later assignment overrides an earlier one)."""
        out = {a.name: a for a in self.environment}
        for f in self.environment_files:
            out.update((a.name, a) for a in f.values)
        return out


# --- audit rules ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditWatch:
    """A file or directory watch of the audit rules: `-w PATH -p PERMS -k KEY`, or an
    `-a always,exit -F path=PATH` / `-F dir=PATH` rule."""

    path: str  # as written
    perms: str = ""  # r, w, x, a letters ("" = all)
    key: str = ""
    rule: str = ""  # the rule as written (for evidence)
    source: str = ""  # "auditctl -l", or FILE:LINE
    tree: bool = False  # watches everything below `path` (a -w on a directory, -F dir=)
    real: str = ""  # `path` with the host's symlinks resolved ("" when it does not resolve)


@dataclass(frozen=True, slots=True)
class AuditFacts:
    """The audit rules in force: the kernel's (`auditctl -l`, needs root) or, when that cannot be asked, the
    rule files (/etc/audit/rules.d/*.rules and /etc/audit/audit.rules)."""

    source: str  # "auditctl -l", "rule files", or "" when neither could be read
    watches: tuple[AuditWatch, ...] = ()
    files: tuple[str, ...] = ()  # the rule files read
    notes: tuple[str, ...] = ()  # why auditctl was not used; rule files that could not be read
    why: str = ""  # the rules could not be read at all: why


@dataclass(frozen=True, slots=True)
class AuditTarget:
    """A Docker file or directory the audit rules should watch (CIS 1.1.3-1.1.18) and where it is here."""

    name: str  # the target's name: dockerd, run_containerd, docker_service ...
    path: str  # host path
    exists: bool | None  # None: could not be told (`why`)
    real: str = ""  # the path with the host's symlinks resolved
    found_by: str = ""  # how the path was chosen ("pid 812's executable", "docker.service FragmentPath")
    why: str = ""


# --- mounts, groups, listings ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PathMount:
    """The mount holding a Docker data directory (/proc/self/mountinfo)."""

    role: str  # "Docker root", "containerd root"
    path: str  # the directory judged (a host path)
    found_by: str = ""  # where the path came from ("docker info DockerRootDir", "containerd --root")
    exists: bool = True
    mount_point: str = ""  # the mount holding `path` (a host path)
    fs_type: str = ""
    source: str = ""
    device: str = ""  # major:minor of the mounted filesystem
    root: str = ""  # the mount's root inside its filesystem ("/" unless a bind mount of a subdirectory)
    parent_device: str = ""  # major:minor of the mount below `mount_point` ("" when it is the host's /)

    @property
    def own_filesystem(self) -> bool:
        """`path` is a mount point of a filesystem of its own: not the one of the directory above it (a bind
        mount of a directory of the root filesystem is not a partition)."""
        return self.mount_point == self.path and bool(self.device) and self.device != self.parent_device


@dataclass(frozen=True, slots=True)
class GroupFacts:
    """A group whose members can drive the engine (/etc/group and /etc/passwd of the host)."""

    name: str  # "" when the gid has no name
    gid: int
    members: tuple[str, ...] = ()  # listed in /etc/group
    primary: tuple[str, ...] = ()  # users whose primary group it is (/etc/passwd)
    reasons: tuple[str, ...] = ()  # why it matters: "the daemon's group (docker)", "group of /run/docker.sock"

    @property
    def everyone(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.members) | set(self.primary)))


@dataclass(frozen=True, slots=True)
class DirListing:
    """The files below a directory (not following symlinks, bounded depth and count)."""

    path: str
    exists: bool
    files: tuple[str, ...] = ()  # every entry below that is not a directory (host paths, sorted)
    why: str = ""  # (part of) the directory could not be listed: why
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class HostFacts:
    hostname: str
    local: bool  # the engine runs on this host, so its /proc and files are the engine's
    local_reason: str = ""
    kernel: str = ""
    os: str = ""
    # What runbench.collect.hostinfo reads (None: not collected, see `why`). Every host file is read below
    # `host_root` ("/", or the --host-root PATH where the host's / is mounted).
    host_root: str | None = None
    euid: int | None = None  # runbench's effective uid: 0 is root
    lsms: tuple[str, ...] | None = None  # active Linux security modules (/sys/kernel/security/lsm)
    cgroup_version: str | None = None  # "2", "1", or "hybrid" (v1 with the unified v2 hierarchy mounted)
    systemd: tuple[SystemdUnit, ...] | None = None  # docker.service and docker.socket
    default_files: tuple[EnvironmentFileFacts, ...] | None = None  # /etc/default/docker, /etc/sysconfig/docker
    audit: AuditFacts | None = None
    audit_targets: tuple[AuditTarget, ...] | None = None
    data_mounts: tuple[PathMount, ...] | None = None  # the Docker root and the containerd root
    groups: tuple[GroupFacts, ...] | None = None  # the docker group, the daemon's group, the sockets' groups
    registry_certs: DirListing | None = None  # /etc/docker/certs.d
    unread: Mapping[str, str] | None = None  # fact name (lsms, groups, mounts ...) -> why it is None

    def why(self, fact: str) -> str:
        """Why the host fact `fact` (a field name) was not collected."""
        if self.unread and fact in self.unread:
            return self.unread[fact]
        return f"host {fact} not collected (a snapshot of an older runbench, or --no-host)"

    def unit(self, name: str) -> SystemdUnit | None:
        """The systemd unit `name` as collected (None when units were not collected)."""
        if self.systemd is None:
            return None
        return next((u for u in self.systemd if u.name == name), SystemdUnit(name=name))


class FileType(StrEnum):
    FILE = "file"
    DIRECTORY = "directory"
    SYMLINK = "symlink"
    SOCKET = "socket"
    FIFO = "fifo"
    CHAR_DEVICE = "char-device"
    BLOCK_DEVICE = "block-device"
    MISSING = "missing"
    UNKNOWN = "unknown"  # could not be stat'ed: see `error`


@dataclass(frozen=True, slots=True)
class FileFacts:
    """lstat of one host path: never followed through a symlink."""

    path: str
    type: FileType
    uid: int | None = None
    gid: int | None = None
    owner: str = ""  # user name of uid ("" when it has none)
    group: str = ""  # group name of gid
    mode: int | None = None  # permission bits, 0o7777 mask
    target: str = ""  # a symlink's target
    error: str = ""  # why it could not be read (type UNKNOWN)

    @property
    def exists(self) -> bool:
        return self.type not in (FileType.MISSING, FileType.UNKNOWN)

    @property
    def mode_text(self) -> str:
        return "?" if self.mode is None else f"{self.mode:04o}"
