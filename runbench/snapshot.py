"""The facts a run collected: typed, frozen, and round-tripping through JSON.

A fact the collector could not read is None and a CollectionError in `Snapshot.errors` says why.
Secret values never enter the snapshot: environment variables are stored as name, length, a redacted
stub and the secret detectors that matched (see runbench.secrets).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

SNAPSHOT_SCHEMA = "runbench/snapshot@1"


class SnapshotFormatError(ValueError):
    """A snapshot file that is not a runbench snapshot or is malformed."""


@dataclass(frozen=True, slots=True)
class CollectionError:
    area: str  # engine | container | image | proc | daemon | host
    subject: str  # container/image id, path, or "" for the whole area
    what: str  # which fact: "inspect", "processes", "info", ...
    why: str


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
    execs: tuple[ExecFacts, ...] = ()
    processes: tuple[ProcessFacts, ...] | None = None  # None: not read (see errors); () for a stopped one

    @property
    def running(self) -> bool:
        return self.state in ("running", "paused", "restarting")

    @property
    def short_id(self) -> str:
        return self.id[:12]


@dataclass(frozen=True, slots=True)
class HistoryStep:
    created_by: str  # secret values redacted at collection
    created: int = 0
    size: int = 0
    empty_layer: bool = False


@dataclass(frozen=True, slots=True)
class ImageFacts:
    id: str
    tags: tuple[str, ...] = ()
    digests: tuple[str, ...] = ()
    created: str = ""
    size: int = 0
    user: str = ""
    env: tuple[EnvVar, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    healthcheck: Healthcheck | None = None
    exposed_ports: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    layers: int = 0
    history: tuple[HistoryStep, ...] | None = None  # None: history not read (see errors)

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]


@dataclass(frozen=True, slots=True)
class NetworkFacts:
    id: str
    name: str
    driver: str
    scope: str = "local"
    internal: bool = False
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EngineFacts:
    """What the engine says about itself (/info and /version)."""

    hostname: str
    engine_id: str = ""
    server_version: str = ""
    api_version: str = ""
    min_api_version: str = ""
    os: str = ""
    os_type: str = ""
    kernel: str = ""
    architecture: str = ""
    root_dir: str = ""
    storage_driver: str = ""
    logging_driver: str = ""
    cgroup_driver: str = ""
    cgroup_version: str = ""
    security_options: tuple[str, ...] = ()
    experimental: bool = False
    live_restore: bool = False
    swarm_state: str = "inactive"
    insecure_registries: tuple[str, ...] = ()
    containers_total: int = 0
    images_total: int = 0

    def security_option(self, name: str) -> Mapping[str, str] | None:
        """The `name=<name>,k=v` entry of SecurityOptions as a mapping, or None when absent."""
        for raw in self.security_options:
            parts = dict(p.split("=", 1) for p in raw.split(",") if "=" in p)
            if parts.get("name") == name:
                return parts
        return None

    @property
    def apparmor(self) -> bool:
        return self.security_option("apparmor") is not None

    @property
    def selinux(self) -> bool:
        return self.security_option("selinux") is not None

    @property
    def rootless(self) -> bool:
        return self.security_option("rootless") is not None

    @property
    def userns_remap(self) -> bool:
        return self.security_option("userns") is not None

    @property
    def seccomp_profile(self) -> str | None:
        """'default', 'unconfined', a custom name, or None when seccomp is not supported."""
        opt = self.security_option("seccomp")
        return None if opt is None else opt.get("profile", "default")


@dataclass(frozen=True, slots=True)
class DaemonFacts:
    """The daemon as seen from the host: its process and its configuration file."""

    pid: int | None = None
    uid: int | None = None
    argv: tuple[str, ...] = ()
    config_file: str = ""  # the daemon.json in use ("" when none)
    config_json: str | None = None  # its text; None when absent or unreadable (see errors)
    sockets: tuple[str, ...] = ()  # unix socket paths the daemon serves
    environment_content_trust: bool | None = None

    def flag(self, name: str) -> str | None:
        """Value of a `--name` / `--name=value` flag on the daemon's command line ('' for a bare flag)."""
        for i, arg in enumerate(self.argv):
            if arg == f"--{name}":
                nxt = self.argv[i + 1] if i + 1 < len(self.argv) else ""
                return "" if nxt.startswith("-") else nxt
            if arg.startswith(f"--{name}="):
                return arg.split("=", 1)[1]
        return None

    def config(self) -> Mapping[str, Any] | None:
        """daemon.json parsed; None when there is none or it does not parse (the collector records that)."""
        return parse_daemon_json(self.config_json)

    def setting(self, name: str) -> tuple[bool, Any]:
        """The daemon's value of option `name`: `--name` on its command line (a str, '' when bare), else
        daemon.json's "name" (any JSON value), else None when unset.

        Returns (known, value); known is False when the daemon process was not found or its daemon.json
        exists but could not be read or parsed, because then the value cannot be told.
        """
        if self.pid is None:
            return False, None
        flag = self.flag(name)
        if flag is not None:
            return True, flag
        if self.config_file and self.config_json is None:
            return False, None
        config = self.config()
        if self.config_json is not None and config is None:
            return False, None
        return True, (config or {}).get(name)


def parse_daemon_json(text: str | None) -> Mapping[str, Any] | None:
    """A daemon.json text as a mapping; None when absent, not JSON, or not a JSON object."""
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True, slots=True)
class HostFacts:
    hostname: str
    local: bool  # the engine runs on this host, so its /proc and files are the engine's
    local_reason: str = ""
    kernel: str = ""
    os: str = ""


@dataclass(frozen=True, slots=True)
class CollectOptions:
    docker_host: str = ""
    all_containers: bool = False
    container_globs: tuple[str, ...] = ()
    exclude_globs: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Snapshot:
    runbench_version: str
    collected_at: str
    duration_s: float
    options: CollectOptions
    engine: EngineFacts | None
    daemon: DaemonFacts | None
    host: HostFacts | None
    containers: tuple[ContainerFacts, ...] = ()
    images: tuple[ImageFacts, ...] = ()
    networks: tuple[NetworkFacts, ...] = ()
    inventory: tuple[ContainerSummary, ...] = ()
    image_tags: Mapping[str, str] = field(default_factory=dict)  # "repo:tag" -> image id, every local image
    errors: tuple[CollectionError, ...] = ()
    schema: str = SNAPSHOT_SCHEMA

    def to_json(self) -> dict[str, Any]:
        return typing.cast(dict[str, Any], _encode(self))

    @classmethod
    def from_json(cls, data: Any) -> Snapshot:
        if not isinstance(data, dict) or data.get("schema") != SNAPSHOT_SCHEMA:
            raise SnapshotFormatError(f"not a runbench snapshot (expected schema {SNAPSHOT_SCHEMA!r})")
        try:
            return typing.cast(Snapshot, _decode(cls, data))
        except (TypeError, ValueError, KeyError) as exc:
            raise SnapshotFormatError(f"malformed snapshot: {exc}") from exc

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=1, sort_keys=False)

    @classmethod
    def loads(cls, text: str) -> Snapshot:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise SnapshotFormatError(f"not JSON: {exc}") from exc
        return cls.from_json(data)


# --- codec: dataclasses <-> JSON values, driven by the type hints --------------------------------

T = TypeVar("T")


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _decode(tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _decode(args[0], value)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(value, dict):
            raise TypeError(f"{tp.__name__}: expected an object, got {type(value).__name__}")
        hints = _hints(tp)
        kwargs = {f.name: _decode(hints[f.name], value[f.name]) for f in dataclasses.fields(tp) if f.name in value}
        return tp(**kwargs)
    if origin is tuple:
        item_type = typing.get_args(tp)[0]
        if not isinstance(value, list):
            raise TypeError(f"expected a list, got {type(value).__name__}")
        return tuple(_decode(item_type, v) for v in value)
    if origin in (Mapping, dict) or tp in (Mapping, dict):
        if not isinstance(value, dict):
            raise TypeError(f"expected an object, got {type(value).__name__}")
        type_args = typing.get_args(tp)
        vt = type_args[1] if len(type_args) == 2 else Any
        return {str(k): _decode(vt, v) for k, v in value.items()}
    if tp is Any:
        return value
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise TypeError(f"expected a number, got {type(value).__name__}")
    if tp in (str, int, bool) and not isinstance(value, tp):
        raise TypeError(f"expected {tp.__name__}, got {type(value).__name__}")
    if tp is int and isinstance(value, bool):
        raise TypeError("expected int, got bool")
    return value
