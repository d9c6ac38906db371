"""Container facts: one inspect (plus its exec sessions and, on a local engine, its processes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class EnvVar:
    name: str
    length: int
    stub: str  # redacted preview, never the value: "hu…(14 chars)"
    detectors: tuple[str, ...] = ()  # detect-secrets plugin names that matched the value


@dataclass(frozen=True, slots=True)
class MountFacts:
    type: str  # bind | volume | tmpfs | npipe
    source: str
    destination: str
    rw: bool
    propagation: str = ""
    mode: str = ""
    name: str = ""  # volume name


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


@dataclass(frozen=True, slots=True)
class ProcessFacts:
    pid: int
    name: str
    exe: str  # basename of the executable, "" when unreadable
    uid: int | None


@dataclass(frozen=True, slots=True)
class ExecFacts:
    id: str
    running: bool
    privileged: bool
    user: str
    entrypoint: str  # the exec'd program (argv[0]), without its arguments
    healthcheck: bool = False  # the engine's own healthcheck probe (its argv is the container's health test)


@dataclass(frozen=True, slots=True)
class ContainerSummary:
    """One row of the container list: every container on the engine, in scope or not."""

    id: str
    name: str
    image: str
    state: str


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

    @property
    def running(self) -> bool:
        return self.state in ("running", "paused", "restarting")

    @property
    def short_id(self) -> str:
        return self.id[:12]
