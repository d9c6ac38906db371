"""Container facts: one inspect (plus its exec sessions and, on a local engine, its processes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from runbench.frozen import fast_init
from runbench.snapshot.host import FileType


class ValueKind(StrEnum):
    """What a value looks like, decided at collection from the value itself (runbench.secrets.value_kind), so
    that the secret detector can decide from the stored facts without the value."""

    EMPTY = "empty"
    BOOLEAN = "boolean"  # true, no, off, disabled ...
    NUMBER = "number"  # a short number, a size (512m), a version (1.2.3), an IP address
    DURATION = "duration"  # 30s, 1h30m, PT5M
    PATH = "path"  # /run/secrets/db, ./conf, a PATH-style list
    REFERENCE = "reference"  # $VAR, ${VAR}, {{ .x }}, <placeholder>, a secret store reference (arn:, vault:)
    MASKED = "masked"  # ****, xxxxxx, an already redacted stub
    URL = "url"  # a URL without credentials
    URL_USER = "url-user"  # a URL naming a user or key but no password (https://key@host/1: a DSN)
    URL_CREDENTIALS = "url-credentials"  # a URL with a password, or a secret query parameter
    EMBEDDED = "embedded"  # text holding a credential: an option (-Dx.password=...), JSON, a header
    DEFAULT_PASSWORD = "default-password"  # a well-known default: changeme, admin, guest, example ...
    AUTH_SCHEME = "auth-scheme"  # the name of an authentication mechanism: basic, htpasswd, ldap, scram-sha-256
    TEXT = "text"  # anything else


@fast_init
@dataclass(frozen=True, slots=True)
class EnvVar:
    name: str
    length: int
    stub: str  # redacted preview, never the value: "hu…(14 chars)"
    detectors: tuple[str, ...] = ()  # detect-secrets plugins that matched the value (not the entropy heuristics)
    kind: ValueKind | None = None  # what the value looks like (None: a snapshot older than the classification)


@fast_init
@dataclass(frozen=True, slots=True)
class MountFacts:
    type: str  # bind | volume | tmpfs | npipe
    source: str
    destination: str
    rw: bool
    propagation: str = ""
    mode: str = ""
    name: str = ""  # volume name
    # What the kernel mounts (runbench.collect.resolve); None everywhere in snapshots older than the resolution.
    driver: str | None = None  # a volume's driver (Mounts[].Driver)
    # The host path mounted: a bind's source with the host's symlinks resolved (realpath on the engine's host),
    # or the device of a bind-backed volume of the local driver (type=none, o=bind, device=/etc); None when not
    # resolved (a remote engine's bind, a volume that is not a bind: see `resolution`).
    host_path: str | None = None
    host_type: FileType | None = None  # what `host_path` is on the host (lstat); None when not looked at
    volume_bind: bool | None = None  # a volume: whether it binds a host path (None: unknown, see `resolution`)
    resolution: str | None = None  # how the source was resolved, or why it was not

    @property
    def binds_host(self) -> bool:
        """A host path is mounted: a bind mount, or a volume of the local driver that binds one."""
        return self.type == "bind" or (self.type == "volume" and self.volume_bind is True)

    @property
    def real_source(self) -> str:
        """The host path judged: the resolved one when known, else the source as the engine recorded it."""
        return self.host_path if self.host_path is not None else self.source


@fast_init
@dataclass(frozen=True, slots=True)
class PortBinding:
    container_port: str  # "80/tcp"
    host_ip: str  # "" means all interfaces
    host_port: str  # "" means an ephemeral port


@dataclass(frozen=True, slots=True)
class DeviceMapping:
    host_path: str
    container_path: str
    permissions: str


@dataclass(frozen=True, slots=True)
class Ulimit:
    name: str
    soft: int
    hard: int


@dataclass(frozen=True, slots=True)
class Healthcheck:
    test: tuple[str, ...]
    interval_ns: int = 0
    timeout_ns: int = 0
    retries: int = 0

    @property
    def disabled(self) -> bool:
        return not self.test or self.test[0] == "NONE"


@fast_init
@dataclass(frozen=True, slots=True)
class ProcessStatus:
    """What the kernel says of one process: /proc/<pid>/status read from the host, so uids are host uids (a
    root remapped by a user namespace shows its host uid) and capabilities are those of its own namespace."""

    uid: tuple[int, ...]  # real, effective, saved, filesystem
    gid: tuple[int, ...]
    cap_eff: tuple[str, ...]  # capability names (runbench.semantics.CAPABILITY_BITS)
    cap_prm: tuple[str, ...]
    cap_bnd: tuple[str, ...]
    seccomp: int | None  # 0 disabled, 1 strict, 2 filter; None: the kernel reports no Seccomp field
    no_new_privs: bool | None  # None: the kernel reports no NoNewPrivs field

    @property
    def root(self) -> bool:
        """Runs as uid 0 on the host (real or effective)."""
        return 0 in self.uid[:2]


@fast_init
@dataclass(frozen=True, slots=True)
class ProcessFacts:
    pid: int
    name: str
    exe: str  # basename of the executable, "" when unreadable
    uid: int | None
    status: ProcessStatus | None = None  # None: not read (see `status_why`; absent in older snapshots)
    status_why: str | None = None  # why /proc/<pid>/status could not be read


@dataclass(frozen=True, slots=True)
class ExecFacts:
    id: str
    running: bool
    privileged: bool
    user: str
    entrypoint: str  # the exec'd program (argv[0]), without its arguments
    healthcheck: bool = False  # the engine's own healthcheck probe (its argv is the container's health test)
    pid: int | None = None  # the exec'd process on the engine's host (exec inspect Pid; None: not reported)


@dataclass(frozen=True, slots=True)
class ContainerSummary:
    """One row of the container list: every container on the engine, in scope or not."""

    id: str
    name: str
    image: str
    state: str
    image_id: str | None = None  # the list row's ImageID (None in older snapshots)


@fast_init
@dataclass(frozen=True, slots=True)
class ContainerFacts:
    id: str
    name: str
    image_ref: str  # Config.Image as the user asked for it
    image_id: str  # the image the container was created from
    state: str  # created | running | paused | restarting | exited | dead
    created: str = ""
    pid: int = 0
    labels: Mapping[str, str] = field(default_factory=dict)
    user: str = ""
    env: tuple[EnvVar, ...] = ()
    privileged: bool = False
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    security_opt: tuple[str, ...] = ()
    apparmor_profile: str = ""
    process_label: str = ""
    readonly_rootfs: bool = False
    network_mode: str = "default"
    networks: tuple[str, ...] = ()
    pid_mode: str = ""
    ipc_mode: str = "private"
    uts_mode: str = ""
    userns_mode: str = ""
    cgroup_parent: str = ""
    memory: int = 0
    nano_cpus: int = 0
    cpu_quota: int = 0
    cpu_shares: int = 0
    cpuset_cpus: str = ""
    pids_limit: int | None = None
    oom_kill_disable: bool | None = None
    restart_policy: str = "no"
    restart_max_retries: int = 0
    mounts: tuple[MountFacts, ...] = ()
    port_bindings: tuple[PortBinding, ...] = ()
    publish_all_ports: bool = False
    exposed_ports: tuple[str, ...] = ()
    devices: tuple[DeviceMapping, ...] = ()
    device_cgroup_rules: tuple[str, ...] = ()
    device_requests: tuple[str, ...] = ()
    ulimits: tuple[Ulimit, ...] = ()
    healthcheck: Healthcheck | None = None
    health_status: str = ""  # "" when the container has no health state
    execs: tuple[ExecFacts, ...] | None = ()  # None: the exec sessions could not be read (see errors)
    processes: tuple[ProcessFacts, ...] | None = None  # None: not read (see errors); () for a stopped one
    cpu_period: int | None = None  # HostConfig.CpuPeriod in microseconds (0: the kernel's 100 ms)
    # Each namespace a container can share (net, pid, ipc, uts) as configured, resolved through `container:`
    # chains and, when the container runs on this host, as the kernel has it (runbench.collect.resolve).
    namespaces: tuple[NamespaceFacts, ...] | None = None

    def namespace(self, kind: str) -> NamespaceFacts | None:
        """The resolution of namespace `kind` (net, pid, ipc, uts); None when not resolved."""
        return next((n for n in self.namespaces or () if n.kind == kind), None)

    @property
    def running(self) -> bool:
        return self.state in ("running", "paused", "restarting")

    @property
    def short_id(self) -> str:
        return self.id[:12]


@fast_init
@dataclass(frozen=True, slots=True)
class NamespaceFacts:
    """One namespace of a container: how it is configured, where a `container:<X>` chain leads, and what the
    kernel says (the inode of /proc/<init>/ns/<kind> against the host's, see RuntimeHost.namespace_reference)."""

    kind: str  # net | pid | ipc | uts: the /proc/<pid>/ns/ entry
    configured: str  # the mode as inspect gives it: "container:3f2a…", "host", "private", ""
    resolved: str  # the mode at the end of the chain ("host", "private", "bridge", "" for the default); see why
    via: tuple[str, ...] = ()  # the containers the chain went through, by name, in order
    why: str = ""  # the chain could not be followed to its end: why (`resolved` is then "")
    networks: tuple[str, ...] | None = None  # net: the networks of the container at the end of the chain
    inode: int | None = None  # /proc/<State.Pid>/ns/<kind> (None: not read)
    host_inode: int | None = None  # the same namespace of the host (None: not read)

    @property
    def followed(self) -> bool:
        """The chain ended in a mode of its own (not a missing container or a loop)."""
        return not self.why

    @property
    def shares_host(self) -> bool | None:
        """The kernel's answer: the container is in the host's namespace; None when not read."""
        if self.inode is None or self.host_inode is None:
            return None
        return self.inode == self.host_inode


@dataclass(frozen=True, slots=True)
class EngineSocket:
    """A container engine API socket on the engine's host."""

    path: str  # a host path: where the listener bound it, or where the well-known list expects it
    real: str  # `path` with the host's symlinks resolved (== path when not resolved)
    found_by: str  # "dockerd pid 812 listens on it", "a well-known path that exists"
    process: str = ""  # dockerd | containerd | podman | crio: who listens ("" when nobody visible)
    pid: int | None = None


@dataclass(frozen=True, slots=True)
class RuntimeHost:
    """What the container checks compare a container with on the engine's host: its CPUs, whether its kernel
    has seccomp, whose namespaces stand for the host's, and the engine sockets that exist on it."""

    local: bool  # the engine's host is this one: sockets, namespaces and processes were read here
    cpus: int | None = None  # /info NCPU
    seccomp: bool | None = None  # the kernel has seccomp (a Seccomp field in /proc/<pid>/status); None: unknown
    namespace_reference: str = ""  # whose /proc/<pid>/ns/* are the host's: "pid 1", "dockerd pid 812"
    namespace_why: str = ""  # no reference could be read: why
    sockets: tuple[EngineSocket, ...] = ()  # local: the sockets that exist; remote: the well-known list
    sockets_complete: bool = True  # False: an engine process's sockets could not be read (see notes)
    notes: tuple[str, ...] = ()
    # Host paths the container checks compare mounts with (the sensitive directories, the Docker root) that are
    # not their own real path on this host, to their real path (/lib -> /usr/lib on a merged-/usr system)
    real_paths: Mapping[str, str] = field(default_factory=dict)
