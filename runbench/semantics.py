"""Docker's own rules, pure: what the engine does with a configuration. Collectors and checks import this;
no I/O here. Each rule cites where Docker decides it.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from typing import Any

# --- capabilities ---------------------------------------------------------------------------------

# Docker's default capability set for a non-privileged container (moby oci/caps/defaults.go).
DEFAULT_CAPS = frozenset(
    {
        "CHOWN",
        "DAC_OVERRIDE",
        "FSETID",
        "FOWNER",
        "MKNOD",
        "NET_RAW",
        "SETGID",
        "SETUID",
        "SETFCAP",
        "SETPCAP",
        "NET_BIND_SERVICE",
        "SYS_CHROOT",
        "KILL",
        "AUDIT_WRITE",
    }
)
# Capabilities that amount to (or trivially lead to) host root; never acceptable through policy.
DANGEROUS_CAPS = frozenset(
    {
        "SYS_ADMIN",
        "NET_ADMIN",
        "SYS_PTRACE",
        "SYS_MODULE",
        "DAC_READ_SEARCH",
        "SYS_RAWIO",
        "SYS_BOOT",
        "SYS_TIME",
        "BPF",
        "PERFMON",
        "MAC_ADMIN",
        "MAC_OVERRIDE",
        "SYSLOG",
        "LINUX_IMMUTABLE",
    }
)
ALL_CAPS = frozenset(
    DEFAULT_CAPS
    | DANGEROUS_CAPS
    | {
        "AUDIT_CONTROL",
        "AUDIT_READ",
        "BLOCK_SUSPEND",
        "CHECKPOINT_RESTORE",
        "IPC_LOCK",
        "IPC_OWNER",
        "LEASE",
        "NET_BROADCAST",
        "SYS_NICE",
        "SYS_PACCT",
        "SYS_RESOURCE",
        "SYS_TTY_CONFIG",
        "WAKE_ALARM",
    }
)


def cap_name(name: str) -> str:
    """A capability as Docker normalises it: upper case, `CAP_` prefix optional."""
    upper = name.strip().upper()
    return upper[4:] if upper.startswith("CAP_") else upper


def effective_capabilities(privileged: bool, cap_add: Iterable[str], cap_drop: Iterable[str]) -> frozenset[str]:
    """Docker's rule (moby TweakCapabilities): privileged gets all; ALL in CapAdd gives all but the named
    drops; else ALL in CapDrop leaves only CapAdd; else the defaults minus CapDrop plus CapAdd."""
    if privileged:
        return ALL_CAPS
    return _effective(tuple(cap_add), tuple(cap_drop))


@lru_cache(maxsize=4096)  # containers of one image or compose file repeat their CapAdd/CapDrop
def _effective(cap_add: tuple[str, ...], cap_drop: tuple[str, ...]) -> frozenset[str]:
    add = {cap_name(x) for x in cap_add}
    drop = {cap_name(x) for x in cap_drop}
    if "ALL" in add:
        return frozenset(ALL_CAPS - drop)
    if "ALL" in drop:
        return frozenset(add)
    return frozenset((DEFAULT_CAPS - drop) | add)


# --- users ----------------------------------------------------------------------------------------


def is_root_user(user: str) -> bool:
    """Whether a Config.User / --user value runs as root: empty, `root`, `0` (or any other spelling of uid 0,
    `00`, `+0`: see `user_uid`), with any group (`0:0`, `root:root`, `0:anything`): the user part decides."""
    return user_uid(user) == 0


# --- Go booleans ----------------------------------------------------------------------------------

_GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def parse_bool(value: str) -> bool | None:
    """Go's strconv.ParseBool, which the engine uses for flag and option values; None where Go errors."""
    if value in _GO_TRUE:
        return True
    if value in _GO_FALSE:
        return False
    return None


def go_true(value: str) -> bool:
    """True only for what strconv.ParseBool reads as true (anything else the engine rejects or reads false)."""
    return value in _GO_TRUE


# --- paths and sockets ----------------------------------------------------------------------------


def norm_path(path: str) -> str:
    """A host path normalised: `..` and `//` resolved lexically, /var/run -> /run (a symlink on every
    current distribution)."""
    p = posixpath.normpath(path) if path else path
    if p.startswith("//"):
        p = "/" + p.lstrip("/")
    if p == "/var/run" or p.startswith("/var/run/"):
        p = "/run" + p[len("/var/run") :]
    return p


def is_under(path: str, parent: str) -> bool:
    """`path` is `parent` or below it (both normalised)."""
    return path == parent or path.startswith(parent.rstrip("/") + "/")


# Host directories whose mount into a container exposes host secrets or lets it change the host (CIS 5.6).
SENSITIVE_DIRS = ("/boot", "/dev", "/etc", "/lib", "/proc", "/sys", "/usr", "/var/lib/docker")

# File names of container engine API sockets, and where engines put them by default.
ENGINE_SOCKET_NAMES = frozenset({"docker.sock", "containerd.sock", "podman.sock", "crio.sock", "dockershim.sock"})
WELL_KNOWN_SOCKETS = (
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/run/podman/podman.sock",
    "/run/crio/crio.sock",
    "/run/dockershim.sock",
)
DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock"
DEFAULT_DAEMON_JSON = "/etc/docker/daemon.json"


def unix_socket_path(docker_host: str) -> str | None:
    """The socket path of a DOCKER_HOST / -H value; the default socket for ""; None when not a unix socket."""
    if not docker_host:
        return DEFAULT_DOCKER_SOCKET
    for prefix in ("unix://", "http+unix://"):
        if docker_host.startswith(prefix):
            return docker_host[len(prefix) :] or DEFAULT_DOCKER_SOCKET
    return None


# --- security options -----------------------------------------------------------------------------


def security_opt_values(security_opt: Iterable[str], name: str) -> list[str]:
    """Values of `name=value` / `name:value` entries of HostConfig.SecurityOpt ('' for a bare `name`), in
    order (the engine applies the last one)."""
    values = []
    for opt in security_opt:
        if opt == name:
            values.append("")
        elif opt.startswith((name + "=", name + ":")):
            values.append(opt[len(name) + 1 :])
    return values


# --- restart policies -----------------------------------------------------------------------------

MAX_BOUNDED_RETRIES = 5


def restart_is_bounded(name: str, max_retries: int) -> bool:
    """`no` never restarts; `on-failure` with 1..5 retries stops; `always`, `unless-stopped` and
    `on-failure` without a count (0 = unlimited in the engine) restart forever."""
    policy = name or "no"
    if policy == "no":
        return True
    return policy == "on-failure" and 1 <= max_retries <= MAX_BOUNDED_RETRIES


# --- dockerd options ------------------------------------------------------------------------------


class OptionKind(StrEnum):
    """The JSON type an option takes in daemon.json (and what repeated flags build)."""

    BOOL = "bool"
    STRING = "string"
    INT = "int"
    LIST = "list"  # a repeatable flag; a JSON array
    MAP = "map"  # a repeatable `name=value` flag; a JSON object


class ArgForm(StrEnum):
    """How one command-line value of an option turns into its daemon.json form."""

    VALUE = "value"  # the value itself (scalars); one list element (lists)
    CSV = "csv"  # comma-separated list elements (--dns 1.1.1.1,8.8.8.8)
    KEY_VALUE = "key=value"  # {"key": "value"} (--log-opt max-size=10m)
    KEY_BOOL = "name[=bool]"  # {"name": bool} (--feature containerd-snapshotter=false)
    DRIVER_KEY_VALUE = "driver=key=value"  # {"driver": {"key": "value"}} (--default-network-opt)
    ULIMIT = "name=soft[:hard]"  # {"nofile": {"Name": "nofile", "Soft": 1024, "Hard": 2048}}
    RUNTIME = "name=path"  # {"name": {"path": "path"}} (--add-runtime)
    POOL = "base=CIDR,size=N"  # one {"base": ..., "size": N} list element (--default-address-pool)
    NRI = "enable,k=v,..."  # {"enable": bool, "plugin-path": ...} (--nri-opts)


_NO_MAP: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class DaemonOption:
    """One dockerd option: its daemon.json key, its flags, its type and Docker's default."""

    key: str  # the daemon.json key; "" for flags without one; dotted for nested keys ("proxies.http-proxy")
    flag: str = ""  # the long flag without dashes; "" for keys only daemon.json can set
    short: str = ""  # the one-letter shorthand, if any
    kind: OptionKind = OptionKind.STRING
    default: Any = None  # Docker's default; None where dockerd works it out at start (or there is none)
    form: ArgForm = ArgForm.VALUE
    aliases: tuple[str, ...] = ()  # older daemon.json names read into the same setting
    conflicts: bool = True  # False: a flag and a file entry are merged instead of refused (moby skipDuplicates)
    note: str = ""  # versions, deprecation, caveats

    @property
    def name(self) -> str:
        """The name a setting goes by: the daemon.json key, else the flag."""
        return self.key or self.flag

    @property
    def flags(self) -> tuple[str, ...]:
        """The spellings on the command line: `--long` and `-s`."""
        spelled = (f"--{self.flag}" if self.flag else "", f"-{self.short}" if self.short else "")
        return tuple(s for s in spelled if s)


_B, _I, _L, _M = OptionKind.BOOL, OptionKind.INT, OptionKind.LIST, OptionKind.MAP
_Opt = DaemonOption

# dockerd's options on Linux, v20.10 to v28 (and the few v29 adds), from moby cmd/dockerd/config.go,
# config_unix.go, config_common_unix.go, options.go and docker.go (the flags, with pflag defaults) and the
# json tags of daemon/config/config.go and config_linux.go (the daemon.json keys). Windows-only service
# flags are left out.
DAEMON_OPTIONS: tuple[DaemonOption, ...] = (
    _Opt(
        "runtimes",
        "add-runtime",
        kind=_M,
        default=_NO_MAP,
        form=ArgForm.RUNTIME,
        conflicts=False,
        note="flag and file entries are merged, not refused",
    ),
    _Opt("allow-direct-routing", "allow-direct-routing", kind=_B, default=False, note="v28.2+"),
    _Opt(
        "allow-nondistributable-artifacts",
        "allow-nondistributable-artifacts",
        kind=_L,
        default=(),
        note="deprecated in v28 (always allowed), removed in v29",
    ),
    _Opt("api-cors-header", "api-cors-header", default="", note="deprecated in v27, refused from v28, removed in v29"),
    _Opt("authorization-plugins", "authorization-plugin", kind=_L, default=()),
    _Opt("bip", "bip", default=""),
    _Opt("bip6", "bip6", default="", note="v28+"),
    _Opt("bridge", "bridge", "b", default=""),
    _Opt("bridge-accept-fwmark", "bridge-accept-fwmark", default="", note="v29+"),
    _Opt("builder", kind=_M, default=_NO_MAP, note="daemon.json only"),
    _Opt("cdi-spec-dirs", "cdi-spec-dir", kind=_L, note="v25+; /etc/cdi and /var/run/cdi when CDI is on"),
    _Opt("cgroup-parent", "cgroup-parent", default=""),
    _Opt("cluster-advertise", "cluster-advertise", default="", note="Swarm classic; removed in v24"),
    _Opt("cluster-store", "cluster-store", default="", note="Swarm classic; removed in v24"),
    _Opt(
        "cluster-store-opts",
        "cluster-store-opt",
        kind=_M,
        default=_NO_MAP,
        form=ArgForm.KEY_VALUE,
        note="Swarm classic; removed in v24",
    ),
    _Opt("", "config-file", default="/etc/docker/daemon.json", note="rootless: $XDG_CONFIG_HOME/docker/daemon.json"),
    _Opt("containerd", "containerd", default="", note='"": dockerd starts and supervises its own containerd'),
    _Opt("containerd-namespace", "containerd-namespace", default="moby"),
    _Opt(
        "containerd-plugins-namespace",
        "containerd-plugins-namespace",
        default="plugins.moby",
        note="daemon.json: dockerd's key check accepts only this spelling, its decoder reads only"
        ' "containerd-plugin-namespace", so the file cannot set it',
    ),
    _Opt("cpu-rt-period", "cpu-rt-period", kind=_I, default=0),
    _Opt("cpu-rt-runtime", "cpu-rt-runtime", kind=_I, default=0),
    _Opt("cri-containerd", "cri-containerd", kind=_B, default=False),
    _Opt("data-root", "data-root", default="/var/lib/docker", note="rootless: ~/.local/share/docker"),
    _Opt("debug", "debug", "D", kind=_B, default=False),
    _Opt(
        "default-address-pools",
        "default-address-pool",
        kind=_L,
        form=ArgForm.POOL,
        note="built-in pools (172.17.0.0/16 ...) when unset",
    ),
    _Opt(
        "default-cgroupns-mode",
        "default-cgroupns-mode",
        note='"private" on cgroup v2 hosts, "host" on cgroup v1 (the default follows the host)',
    ),
    _Opt("default-gateway", "default-gateway", default=""),
    _Opt("default-gateway-v6", "default-gateway-v6", default=""),
    _Opt("default-init", default="docker-init", note="daemon.json only"),
    _Opt("default-ipc-mode", "default-ipc-mode", default="private"),
    _Opt(
        "default-network-opts",
        "default-network-opt",
        kind=_M,
        default=_NO_MAP,
        form=ArgForm.DRIVER_KEY_VALUE,
        note="v24+",
    ),
    _Opt("default-runtime", "default-runtime", default="runc"),
    _Opt("default-shm-size", "default-shm-size", default="64M"),
    _Opt("default-stop-timeout", "default-stop-timeout", kind=_I, default=10, note="v29+"),
    _Opt("default-ulimits", "default-ulimit", kind=_M, default=_NO_MAP, form=ArgForm.ULIMIT),
    _Opt("deprecated-key-path", note="daemon.json only; ignored; removed in v24"),
    _Opt("dns", "dns", kind=_L, default=(), form=ArgForm.CSV),
    _Opt("dns-opts", "dns-opt", kind=_L, default=()),
    _Opt("dns-search", "dns-search", kind=_L, default=()),
    _Opt("exec-opts", "exec-opt", kind=_L, default=()),
    _Opt("exec-root", "exec-root", default="/var/run/docker", note="rootless: $XDG_RUNTIME_DIR/docker"),
    _Opt("experimental", "experimental", kind=_B, default=False),
    _Opt("features", "feature", kind=_M, default=_NO_MAP, form=ArgForm.KEY_BOOL, note="the flag is v27.3+"),
    _Opt("firewall-backend", "firewall-backend", default="", note="v29+ (iptables or nftables)"),
    _Opt("fixed-cidr", "fixed-cidr", default=""),
    _Opt("fixed-cidr-v6", "fixed-cidr-v6", default=""),
    _Opt("graph", "graph", "g", note="the old name of data-root; deprecated, removed in v24"),
    _Opt("group", "group", "G", default="docker"),
    _Opt("", "help", "h", kind=_B, default=False),
    _Opt(
        "hosts",
        "host",
        "H",
        kind=_L,
        default=("unix:///var/run/docker.sock",),
        note="rootless: unix://$XDG_RUNTIME_DIR/docker.sock; systemd units pass -H fd://",
    ),
    _Opt(
        "host-gateway-ips",
        "host-gateway-ip",
        kind=_L,
        default=(),
        aliases=("host-gateway-ip",),
        note='before v28 one address under "host-gateway-ip", still read (migrated) by v28',
    ),
    _Opt("proxies.http-proxy", "http-proxy", default="", note="v23+; info shows dockerd's HTTP_PROXY too"),
    _Opt("proxies.https-proxy", "https-proxy", default="", note="v23+; info shows dockerd's HTTPS_PROXY too"),
    _Opt("proxies.no-proxy", "no-proxy", default="", note="v23+; info shows dockerd's NO_PROXY too"),
    _Opt("icc", "icc", kind=_B, default=True),
    _Opt("init", "init", kind=_B, default=False),
    _Opt("init-path", "init-path", default=""),
    _Opt(
        "insecure-registries",
        "insecure-registry",
        kind=_L,
        default=(),
        note="127.0.0.0/8 (and ::1/128 in newer releases) are always insecure",
    ),
    _Opt("ip", "ip", default="0.0.0.0"),
    _Opt("ip-forward", "ip-forward", kind=_B, default=True),
    _Opt("ip-forward-no-drop", "ip-forward-no-drop", kind=_B, default=False, note="v28+"),
    _Opt("ip-masq", "ip-masq", kind=_B, default=True),
    _Opt("ip6tables", "ip6tables", kind=_B, default=True, note="default false (experimental) before v27"),
    _Opt("iptables", "iptables", kind=_B, default=True),
    _Opt("ipv6", "ipv6", kind=_B, default=False),
    _Opt("labels", "label", kind=_L, default=()),
    _Opt("live-restore", "live-restore", kind=_B, default=False),
    _Opt("log-driver", "log-driver", default="json-file"),
    _Opt("log-format", "log-format", default="text", note="v25+"),
    _Opt("log-level", "log-level", "l", default="info"),
    _Opt("log-opts", "log-opt", kind=_M, default=_NO_MAP, form=ArgForm.KEY_VALUE),
    _Opt("max-concurrent-downloads", "max-concurrent-downloads", kind=_I, default=3),
    _Opt("max-concurrent-uploads", "max-concurrent-uploads", kind=_I, default=5),
    _Opt("max-download-attempts", "max-download-attempts", kind=_I, default=5),
    _Opt("metrics-addr", "metrics-addr", default=""),
    _Opt("min-api-version", note="daemon.json only; v29+"),
    _Opt("mtu", "mtu", kind=_I, default=1500),
    _Opt("network-control-plane-mtu", "network-control-plane-mtu", kind=_I, default=1500),
    _Opt("network-diagnostic-port", "network-diagnostic-port", kind=_I, default=0),
    _Opt("no-new-privileges", "no-new-privileges", kind=_B, default=False),
    _Opt("node-generic-resources", "node-generic-resource", kind=_L, default=()),
    _Opt("nri-opts", "nri-opts", kind=_M, default=_NO_MAP, form=ArgForm.NRI, note="v29+"),
    _Opt("oom-score-adjust", "oom-score-adjust", kind=_I, default=0, note="deprecated in v24, removed in v26"),
    _Opt("pidfile", "pidfile", "p", default="/var/run/docker.pid", note="rootless: $XDG_RUNTIME_DIR/docker.pid"),
    _Opt("raw-logs", "raw-logs", kind=_B, default=False),
    _Opt("registry-mirrors", "registry-mirror", kind=_L, default=()),
    _Opt("resolv-conf", default="", note="daemon.json only"),
    _Opt("", "restart", "r", kind=_B, default=True, note="deprecated: use restart policies"),
    _Opt("rootless", "rootless", kind=_B, default=False, note="true by default under RootlessKit"),
    _Opt(
        "seccomp-profile",
        "seccomp-profile",
        default="builtin",
        note='"builtin" (v23+) and "" (v20.10) name Docker\'s own profile; "unconfined" turns seccomp off',
    ),
    _Opt("selinux-enabled", "selinux-enabled", kind=_B, default=False),
    _Opt("shutdown-timeout", "shutdown-timeout", kind=_I, default=15),
    _Opt("storage-driver", "storage-driver", "s", note="chosen by dockerd when unset"),
    _Opt("storage-opts", "storage-opt", kind=_L, default=()),
    _Opt("swarm-default-advertise-addr", "swarm-default-advertise-addr", default=""),
    _Opt("swarm-raft-election-tick", kind=_I, note="daemon.json only; swarmkit's default when unset"),
    _Opt("swarm-raft-heartbeat-tick", kind=_I, note="daemon.json only; swarmkit's default when unset"),
    _Opt("tls", "tls", kind=_B, default=False, note="implied by tlsverify"),
    _Opt("tlscacert", "tlscacert", default="~/.docker/ca.pem", note="under $DOCKER_CERT_PATH when set"),
    _Opt("tlscert", "tlscert", default="~/.docker/cert.pem", note="under $DOCKER_CERT_PATH when set"),
    _Opt("tlskey", "tlskey", default="~/.docker/key.pem", note="under $DOCKER_CERT_PATH when set"),
    _Opt("tlsverify", "tlsverify", kind=_B, default=False, note="true when dockerd's env has DOCKER_TLS_VERIFY"),
    _Opt("userland-proxy", "userland-proxy", kind=_B, default=True),
    _Opt("userland-proxy-path", "userland-proxy-path", note="docker-proxy found on the libexec paths or $PATH"),
    _Opt("userns-remap", "userns-remap", default=""),
    _Opt("", "validate", kind=_B, default=False, note="v23+; checks the configuration and exits"),
    _Opt("", "version", "v", kind=_B, default=False),
)


def _option_index() -> tuple[dict[str, DaemonOption], dict[str, DaemonOption], dict[str, DaemonOption]]:
    """(daemon.json key or alias -> option, `--flag` / `-s` -> option, bare flag name -> option)."""
    by_key: dict[str, DaemonOption] = {}
    by_flag: dict[str, DaemonOption] = {}
    by_bare: dict[str, DaemonOption] = {}
    for opt in DAEMON_OPTIONS:
        for key in (opt.key, *opt.aliases):
            if key:
                by_key[key] = opt
        for spelled in opt.flags:
            by_flag[spelled] = opt
        if opt.flag:
            by_bare[opt.flag] = opt
    return by_key, by_flag, by_bare


_BY_KEY, _BY_FLAG, _BY_BARE_FLAG = _option_index()


def daemon_json_option(key: str) -> DaemonOption | None:
    """The option a daemon.json key (or a legacy alias of one) sets; None for keys dockerd does not know."""
    return _BY_KEY.get(key)


def daemon_option(name: str) -> DaemonOption | None:
    """The option named by a daemon.json key, a flag as written (`--insecure-registry`, `-H`) or a long flag's
    bare name (`insecure-registry`); None when dockerd has no such option. Dockerd pairs a flag with a key by
    the flag's name or, for repeatable flags, by the option's own name (moby findConfigurationConflicts and
    opts.NamedOption), which is the pairing this table records."""
    if name.startswith("-"):
        return _BY_FLAG.get(name)
    return _BY_KEY.get(name) or _BY_BARE_FLAG.get(name)


_INT64 = range(-(2**63), 2**63)


def parse_go_int(value: str) -> int | None:
    """Go's strconv.ParseInt(value, 0, 64), which pflag uses for int flags: an optional sign, then decimal,
    0x/0o/0b or a leading-0 octal, `_` between digits; None where Go errors (spaces, overflow, junk)."""
    body = value[1:] if value[:1] in ("+", "-") else value
    if not body or not body.isascii() or body != body.strip() or body[0] in "+-":
        return None
    if len(body) > 1 and body[0] == "0" and body[1] not in "xXoObB":
        body = "0o" + body[1:]  # Go reads a leading 0 as octal; Python wants the 0o prefix
    try:
        number = int(body, 0)
    except ValueError:
        return None
    number = -number if value.startswith("-") else number
    return number if number in _INT64 else None


# Resource names a ulimit may take (go-units ParseUlimit, used by --default-ulimit).
ULIMIT_NAMES = frozenset(
    {
        "core",
        "cpu",
        "data",
        "fsize",
        "locks",
        "memlock",
        "msgqueue",
        "nice",
        "nofile",
        "nproc",
        "rss",
        "rtprio",
        "rttime",
        "sigpending",
        "stack",
    }
)


# --- container runtime truth: what a container really gets ---------------------------------------
# The rules the container collectors (runbench.collect.proc, runbench.collect.resolve) and the container checks
# share to compare a container's configuration with what the kernel gives its processes.

# Bit N of /proc/<pid>/status CapEff/CapPrm/CapBnd is capability N (linux include/uapi/linux/capability.h).
CAPABILITY_BITS: tuple[str, ...] = (
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
)


@lru_cache(maxsize=1024)  # a host's processes hold a handful of distinct masks
def capability_names(mask: int) -> tuple[str, ...]:
    """The capabilities of a CapEff/CapPrm/CapBnd mask, in bit order; a bit this table does not know (a newer
    kernel) is named `BIT_<n>`."""
    names = []
    bit = 0
    while mask >> bit:
        if mask >> bit & 1:
            names.append(CAPABILITY_BITS[bit] if bit < len(CAPABILITY_BITS) else f"BIT_{bit}")
        bit += 1
    return tuple(names)


def user_uid(user: str) -> int | None:
    """The uid a Config.User / --user / exec --user value names without looking at the image: the user part
    (before `:`) empty or `root` is 0, a number is that number (Go's strconv.Atoi, as runc parses it: `00`,
    `+0` and `-0` are 0 too); any other name is None (only the image's /etc/passwd can tell)."""
    name = user.split(":", 1)[0].strip()
    if name in ("", "root"):
        return 0
    digits = name[1:] if name[:1] in ("+", "-") else name
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    number = int(digits)
    return -number if name.startswith("-") else number


# Syscalls whose reach decides whether an escape from a container is possible: mounting, new namespaces and
# joining others, tracing, loading kernel code (modules, kexec, eBPF), handle-based opens past the mount
# namespace (the "shocker" escape), the kernel keyring, and the new mount API. Docker's default profile
# blocks every one of them for a container without CAP_SYS_ADMIN (moby profiles/seccomp/default.json).
ESCAPE_SYSCALLS = frozenset(
    {
        "mount",
        "umount",
        "umount2",
        "unshare",
        "setns",
        "pivot_root",
        "ptrace",
        "process_vm_writev",
        "kexec_load",
        "kexec_file_load",
        "init_module",
        "finit_module",
        "delete_module",
        "bpf",
        "perf_event_open",
        "open_by_handle_at",
        "keyctl",
        "add_key",
        "request_key",
        "userfaultfd",
        "fsopen",
        "fsmount",
        "fsconfig",
        "move_mount",
        "open_tree",
    }
)
# Seccomp actions that let a syscall run (SCMP_ACT_LOG only logs it); every other action stops it (ERRNO,
# KILL*, TRAP, TRACE without a tracer) or hands it to a supervisor (NOTIFY), which runbench cannot judge.
SECCOMP_ALLOW_ACTIONS = frozenset({"SCMP_ACT_ALLOW", "SCMP_ACT_LOG"})
SECCOMP_MAX_TEXT = 1024 * 1024


@dataclass(frozen=True, slots=True)
class SeccompProfile:
    """What a seccomp profile (Docker's JSON format) leaves open: its default action and the syscalls it lets
    through unconditionally."""

    default_action: str
    open_escapes: frozenset[str]  # escape syscalls the profile lets through with no condition

    @property
    def allows_by_default(self) -> bool:
        return self.default_action in SECCOMP_ALLOW_ACTIONS

    @property
    def blocked_escapes(self) -> frozenset[str]:
        return ESCAPE_SYSCALLS - self.open_escapes

    @property
    def confines(self) -> bool:
        """False when the profile stops none of the escape syscalls: unconfined in all but name."""
        return bool(self.blocked_escapes)


def seccomp_profile(text: str) -> tuple[SeccompProfile | None, str]:
    """The profile a `seccomp=<json>` security option holds (the engine stores the file's JSON there), or None
    and why when it is not a profile. Docker's rule (moby profiles/seccomp): the default action applies to
    every syscall no rule names; a rule applies its action to its `names` (or the older `name`). A syscall is
    open when it runs whatever its arguments, capabilities or architecture: allowed by default and named by
    no rule that stops it, or named by a rule that allows it without `args`, `includes` or `excludes`."""
    if len(text) > SECCOMP_MAX_TEXT:
        return None, f"the profile is over {SECCOMP_MAX_TEXT} bytes"
    try:
        data = json.loads(text)
    except RecursionError:
        return None, "the profile's JSON is nested too deeply"
    except ValueError as exc:
        return None, f"not JSON ({exc})"
    if not isinstance(data, dict):
        return None, "not a JSON object"
    default = data.get("defaultAction")
    if not isinstance(default, str) or not default:
        return None, "no defaultAction"
    rules = data.get("syscalls")
    stopped: set[str] = set()
    allowed: set[str] = set()
    for rule in rules if isinstance(rules, list) else []:
        if not isinstance(rule, dict):
            continue
        names = rule.get("names")
        named = [n for n in names if isinstance(n, str)] if isinstance(names, list) else []
        if isinstance(rule.get("name"), str):
            named.append(rule["name"])
        action = rule.get("action")
        unconditional = not any(rule.get(k) for k in ("args", "includes", "excludes"))
        if action in SECCOMP_ALLOW_ACTIONS:
            if unconditional:
                allowed.update(named)
        else:
            stopped.update(named)
    if default in SECCOMP_ALLOW_ACTIONS:
        open_escapes = ESCAPE_SYSCALLS - stopped
    else:
        open_escapes = ESCAPE_SYSCALLS & (allowed - stopped)
    return SeccompProfile(default_action=default, open_escapes=frozenset(open_escapes)), ""


# Processes whose unix listening sockets are container engine APIs (and their runtimes'), and the container
# runtime supervisors whose children are a container's processes (docker and containerd: containerd-shim*;
# podman and CRI-O: conmon).
ENGINE_PROCESS_NAMES = frozenset({"dockerd", "containerd", "podman", "crio"})
RUNTIME_SUPERVISORS = ("containerd-shim", "conmon")
# Where dockerd starts its own containerd when it is not given --containerd (moby libcontainerd/supervisor).
DOCKERD_MANAGED_CONTAINERD_SOCKET = "/run/docker/containerd/containerd.sock"
# The namespaces a container may share with the host or with another container, by the name of their
# /proc/<pid>/ns/ entry, and the HostConfig field that configures each.
NAMESPACE_FIELDS = (("net", "NetworkMode"), ("pid", "PidMode"), ("ipc", "IpcMode"), ("uts", "UTSMode"))
CFS_PERIOD_DEFAULT_US = 100_000  # the kernel's CFS period when HostConfig.CpuPeriod is 0


def joined_container(mode: str) -> str | None:
    """The container a `container:<name or id>` namespace mode joins; None for any other mode."""
    if mode.startswith("container:"):
        return mode[len("container:") :] or None
    return None


def cpu_limit_cpus(nano_cpus: int, cpu_quota: int, cpu_period: int | None) -> float | None:
    """How many CPUs a container may use at most: NanoCpus / 1e9, else CpuQuota / CpuPeriod (the period
    defaults to 100 ms); None when neither is set (0 or -1: unlimited)."""
    if nano_cpus > 0:
        return nano_cpus / 1e9
    if cpu_quota > 0:
        return cpu_quota / (cpu_period if cpu_period and cpu_period > 0 else CFS_PERIOD_DEFAULT_US)
    return None
