"""Engine-wide and daemon facts: what the engine says about itself, its networks, the dockerd process, and
the daemon's effective configuration (every key with where each value came from)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


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
class NetworkFacts:
    id: str
    name: str
    driver: str
    scope: str = "local"
    internal: bool = False
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DaemonFacts:
    """The dockerd process serving the engine's socket, as seen from the host."""

    pid: int | None = None
    uid: int | None = None
    argv: tuple[str, ...] = ()
    config_file: str = ""  # the daemon.json in use ("" when none)
    sockets: tuple[str, ...] = ()  # unix socket paths the daemon serves
    environment_content_trust: bool | None = None
    # Whether this process is proven to serve the engine's socket (it holds the listening socket's inode, or
    # the kernel names it as the listener); None in snapshots older than the check. An unverified process is
    # evidence only: its argv and the --config-file it names are not the daemon's configuration.
    verified: bool | None = None
    verified_by: str | None = None  # the proof in words, or why there is none
    # daemon.json is owned by a user other than root or the daemon's own (None: no such concern)
    config_file_owner_note: str | None = None
    # daemon.json is a symlink: its target, followed only inside the expected directory (None: not a symlink)
    config_file_link: str | None = None


class Origin(StrEnum):
    """Where a daemon setting was read."""

    ARGV = "argv"  # dockerd's command line
    DAEMON_JSON = "daemon.json"
    INFO = "info"  # what the engine reports live (docker info)
    SYSTEMD = "systemd"  # a unit file or drop-in (ExecStart, Environment)
    ENVIRONMENT_FILE = "EnvironmentFile"


@dataclass(frozen=True, slots=True)
class ConfigValue:
    """One value of a daemon setting and where it came from."""

    value: Any  # JSON-typed as daemon.json holds it: bool, str, int, float, list or object
    origin: Origin
    location: str = ""  # the file it came from (daemon.json, unit file), "" for argv and info
    line: int = 0  # 1-based line in `location`; 0 when not applicable
    given_as: str = ""  # how it was written, secrets redacted: "--insecure-registry=10.0.0.5:5000", "Driver"

    @property
    def source(self) -> str:
        """Provenance for evidence: `argv`, `daemon.json:12`, `/etc/docker/alt.json:3`, `info`."""
        if self.origin is Origin.DAEMON_JSON:
            name = "daemon.json" if self.location.endswith("/daemon.json") or not self.location else self.location
            return f"{name}:{self.line}" if self.line else name
        if self.location:
            return f"{self.location}:{self.line}" if self.line else self.location
        return self.origin.value


@dataclass(frozen=True, slots=True)
class Setting:
    """The effective value of one daemon setting (the answer of DaemonConfig.lookup)."""

    key: str  # the daemon.json name
    known: bool  # False: a source that could set it was not read, so the value cannot be told
    value: Any  # the effective value; the documented default when unset; None when unknown
    values: tuple[ConfigValue, ...] = ()  # every value given, in source order (empty: the default applies)
    why: str = ""  # why the value is unknown
    conflict: bool = False  # set both as a flag and in daemon.json: dockerd refuses to (re)start so

    @property
    def is_default(self) -> bool:
        return self.known and not self.values

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(v.source for v in self.values) or ("default",)


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    """The daemon's effective configuration, built in one place (runbench.daemonconfig) from dockerd's argv,
    daemon.json and `docker info` (systemd units and EnvironmentFiles join as further origins)."""

    values: Mapping[str, tuple[ConfigValue, ...]] = field(default_factory=dict)  # key -> values, source order
    conflicts: tuple[str, ...] = ()  # keys given both as a flag and in daemon.json
    unknown_keys: tuple[str, ...] = ()  # keys and flags that name no daemon option (kept in `values`)
    read: tuple[str, ...] = ()  # the sources that were read: "argv", "/etc/docker/daemon.json", "info"
    unread: Mapping[str, str] = field(default_factory=dict)  # Origin value -> why it could not be read


# --- TCP exposure: who can reach an engine API over TCP ------------------------------------------------


class ProbeOutcome(StrEnum):
    """What one unauthenticated request (no client certificate) to a TCP listener got."""

    ANSWERED = "answered"  # the Docker Engine API answered: anyone who reaches it can drive the daemon
    CERT_REQUIRED = "cert-required"  # the TLS server refused us for want of a client certificate
    TLS_REQUIRED = "tls-required"  # plain HTTP refused: the listener speaks TLS
    NOT_TLS = "not-tls"  # the TLS handshake failed: the listener does not speak TLS
    DENIED = "denied"  # an HTTP error answer (401/403: an authorization plugin, a proxy)
    NOT_DOCKER = "not-docker"  # an HTTP answer that is not the Docker Engine API
    REFUSED = "refused"  # nothing accepted the connection
    TIMEOUT = "timeout"  # no complete answer within the probe's time
    FAILED = "failed"  # anything else (closed without answering, not HTTP, a TLS error)
    NOT_TRIED = "not-tried"  # not attempted (`why` says why)


@dataclass(frozen=True, slots=True)
class ProbeAttempt:
    """One way of asking a listener (plain HTTP or TLS without a client certificate): GET /_ping, and
    GET /version when the ping was answered."""

    tls: bool
    outcome: ProbeOutcome
    why: str = ""  # what happened, in words: "GET /_ping: HTTP 200 (Api-Version 1.41)"
    api_version: str = ""  # from the Api-Version header or /version, when the API answered
    server_version: str = ""  # /version Version, when the API answered


@dataclass(frozen=True, slots=True)
class TcpListener:
    """One TCP listening socket of dockerd, containerd, docker-proxy or rootlesskit (or an unknown process on
    a well-known engine port of the loopback), and what an unauthenticated probe of it got."""

    address: str  # the bound address as the kernel reports it: "0.0.0.0", "127.0.0.1", "::", "::ffff:10.0.0.5"
    port: int
    process: str  # dockerd | containerd | docker-proxy | rootlesskit | "" (unknown holder)
    pid: int | None = None  # the holder; None when not known (seen only in /proc/net/tcp, or configured)
    daemon_pid: int | None = None  # the dockerd it belongs to (itself, or the dockerd it descends from)
    found_by: str = ""  # "listening socket held by pid 812", "configured: tcp://127.0.0.1:2375"
    probed: str = ""  # the address:port probed ("" when not probed); a wildcard is probed on the loopback
    attempts: tuple[ProbeAttempt, ...] = ()

    @property
    def endpoint(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"

    @property
    def answered(self) -> ProbeAttempt | None:
        """The attempt in which the Docker API answered without a client certificate, if any."""
        return next((a for a in self.attempts if a.outcome is ProbeOutcome.ANSWERED), None)

    def got(self, outcome: ProbeOutcome) -> bool:
        return any(a.outcome is outcome for a in self.attempts)


@dataclass(frozen=True, slots=True)
class TcpExposure:
    """Every TCP listener of the engine's processes on this host (psutil and /proc/net/tcp), the configured
    TCP endpoints, and the result of probing each without a client certificate."""

    listeners: tuple[TcpListener, ...] = ()
    # what could not be seen, so that an empty list is not read as "none": unreadable fds (not root), tables
    notes: tuple[str, ...] = ()
    complete: bool = True  # False: some listener of an engine process may be missing (see `notes`)
