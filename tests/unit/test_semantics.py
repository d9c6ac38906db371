"""Docker's own rules (runbench.semantics): one case per rule and edge, and the dockerd option table."""

from __future__ import annotations

import pytest

from runbench.semantics import (
    ALL_CAPS,
    DAEMON_OPTIONS,
    DEFAULT_CAPS,
    DEFAULT_DOCKER_SOCKET,
    ArgForm,
    DaemonOption,
    OptionKind,
    cap_name,
    daemon_json_option,
    daemon_option,
    effective_capabilities,
    go_true,
    is_root_user,
    is_under,
    norm_path,
    parse_bool,
    parse_go_int,
    restart_is_bounded,
    security_opt_values,
    unix_socket_path,
)

# --- capabilities ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("privileged", "add", "drop", "expected"),
    [
        pytest.param(False, [], [], DEFAULT_CAPS, id="defaults"),
        pytest.param(True, [], ["ALL"], ALL_CAPS, id="privileged-gets-all"),
        pytest.param(False, ["ALL"], ["NET_RAW"], ALL_CAPS - {"NET_RAW"}, id="all-in-add-minus-drops"),
        pytest.param(False, ["ALL"], ["ALL"], ALL_CAPS, id="all-in-add-wins-over-all-in-drop"),
        pytest.param(False, ["CHOWN", "NET_ADMIN"], ["ALL"], {"CHOWN", "NET_ADMIN"}, id="all-in-drop-keeps-add"),
        pytest.param(False, ["CAP_SYS_ADMIN"], [], DEFAULT_CAPS | {"SYS_ADMIN"}, id="cap-prefix"),
        pytest.param(
            False,
            ["sys_ptrace"],
            ["net_raw", "cap_chown"],
            (DEFAULT_CAPS - {"NET_RAW", "CHOWN"}) | {"SYS_PTRACE"},
            id="lower-case",
        ),
        pytest.param(False, [], ["all"], frozenset(), id="lower-case-all"),
    ],
)
def test_effective_capabilities(privileged: bool, add: list[str], drop: list[str], expected: frozenset[str]) -> None:
    assert effective_capabilities(privileged, add, drop) == expected


@pytest.mark.parametrize(
    ("raw", "name"), [("CAP_SYS_ADMIN", "SYS_ADMIN"), (" cap_net_raw ", "NET_RAW"), ("chown", "CHOWN")]
)
def test_cap_name(raw: str, name: str) -> None:
    assert cap_name(raw) == name


# --- users ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "root"),
    [
        ("", True),
        ("0", True),
        ("root", True),
        ("0:0", True),
        ("root:root", True),
        ("0:1000", True),
        ("1000", False),
        ("app", False),
        ("1000:0", False),
    ],
)
def test_is_root_user(user: str, root: bool) -> None:
    assert is_root_user(user) is root


# --- Go booleans and integers ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["1", "t", "T", "TRUE", "true", "True"])
def test_parse_bool_true(text: str) -> None:
    assert parse_bool(text) is True
    assert go_true(text)


@pytest.mark.parametrize("text", ["0", "f", "F", "FALSE", "false", "False"])
def test_parse_bool_false(text: str) -> None:
    assert parse_bool(text) is False
    assert not go_true(text)


@pytest.mark.parametrize("text", ["", "yes", "no", "on", "off", "y", "2", "tRUE", "fAlse", " true", "true ", "01"])
def test_parse_bool_rejects(text: str) -> None:
    assert parse_bool(text) is None
    assert not go_true(text)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("0", 0),
        ("42", 42),
        ("-5", -5),
        ("+7", 7),
        ("0x1f", 31),
        ("0X1F", 31),
        ("0o17", 15),
        ("017", 15),
        ("00", 0),
        ("0b101", 5),
        ("1_000", 1000),
        ("9223372036854775807", 2**63 - 1),
        ("-9223372036854775808", -(2**63)),
    ],
)
def test_parse_go_int(text: str, number: int) -> None:
    assert parse_go_int(text) == number


@pytest.mark.parametrize(
    "text",
    ["", " 1", "1 ", "1.5", "abc", "--1", "+-1", "08", "0x", "_1", "1__0", "9223372036854775808", "1e3", "\u0661"],
)
def test_parse_go_int_rejects(text: str) -> None:
    assert parse_go_int(text) is None


# --- paths and sockets ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "normal"),
    [
        ("/var/run/docker.sock", "/run/docker.sock"),
        ("/var/run", "/run"),
        ("/var/running", "/var/running"),
        ("//etc", "/etc"),
        ("///etc//passwd", "/etc/passwd"),
        ("/a/../etc", "/etc"),
        ("/var/run/../lib/docker", "/var/lib/docker"),
        ("/etc/", "/etc"),
        ("/", "/"),
        ("", ""),
    ],
)
def test_norm_path(path: str, normal: str) -> None:
    assert norm_path(path) == normal


@pytest.mark.parametrize(
    ("path", "parent", "under"),
    [
        ("/etc/passwd", "/etc", True),
        ("/etc", "/etc", True),
        ("/etcetera", "/etc", False),
        ("/var/lib/docker/volumes", "/var/lib/docker", True),
        ("/anything", "/", True),
        ("/", "/etc", False),
    ],
)
def test_is_under(path: str, parent: str, under: bool) -> None:
    assert is_under(path, parent) is under


@pytest.mark.parametrize(
    ("docker_host", "path"),
    [
        ("", DEFAULT_DOCKER_SOCKET),
        ("unix:///run/docker.sock", "/run/docker.sock"),
        ("unix://", DEFAULT_DOCKER_SOCKET),
        ("http+unix:///tmp/d.sock", "/tmp/d.sock"),
        ("tcp://127.0.0.1:2375", None),
        ("ssh://me@host", None),
        ("fd://", None),
        ("npipe:////./pipe/docker_engine", None),
    ],
)
def test_unix_socket_path(docker_host: str, path: str | None) -> None:
    assert unix_socket_path(docker_host) == path


# --- security options and restart policies --------------------------------------------------------

_SECURITY_OPT = [
    "seccomp=unconfined",
    "no-new-privileges",
    "apparmor:docker-default",
    "no-new-privileges=false",
    "seccompx=1",
]


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("seccomp", ["unconfined"]),
        ("no-new-privileges", ["", "false"]),
        ("apparmor", ["docker-default"]),
        ("label", []),
    ],
)
def test_security_opt_values(name: str, values: list[str]) -> None:
    assert security_opt_values(_SECURITY_OPT, name) == values


@pytest.mark.parametrize(
    ("policy", "retries", "bounded"),
    [
        ("", 0, True),
        ("no", 0, True),
        ("always", 0, False),
        ("unless-stopped", 0, False),
        ("on-failure", 0, False),
        ("on-failure", 1, True),
        ("on-failure", 5, True),
        ("on-failure", 6, False),
        ("on-failure", -1, False),
    ],
)
def test_restart_is_bounded(policy: str, retries: int, bounded: bool) -> None:
    assert restart_is_bounded(policy, retries) is bounded


# --- the dockerd option table ---------------------------------------------------------------------


def test_every_option_has_a_key_or_a_flag() -> None:
    assert all(opt.key or opt.flag for opt in DAEMON_OPTIONS)


def test_no_duplicate_names() -> None:
    keys = [k for opt in DAEMON_OPTIONS for k in (opt.key, *opt.aliases) if k]
    flags = [f for opt in DAEMON_OPTIONS for f in opt.flags]
    names = [opt.name for opt in DAEMON_OPTIONS]
    assert len(keys) == len(set(keys))
    assert len(flags) == len(set(flags))
    assert len(names) == len(set(names))


def test_bare_flag_names_never_name_another_option_by_key() -> None:
    by_key = {k: opt for opt in DAEMON_OPTIONS for k in (opt.key, *opt.aliases) if k}
    clashes = [opt.flag for opt in DAEMON_OPTIONS if opt.flag in by_key and by_key[opt.flag] is not opt]
    assert clashes == []


@pytest.mark.parametrize("opt", DAEMON_OPTIONS, ids=lambda o: o.name)
def test_option_resolves_by_every_name(opt: DaemonOption) -> None:
    for name in (opt.key, *opt.aliases, *opt.flags, opt.flag):
        if name:
            assert daemon_option(name) is opt
    for key in (opt.key, *opt.aliases):
        if key:
            assert daemon_json_option(key) is opt


@pytest.mark.parametrize("opt", DAEMON_OPTIONS, ids=lambda o: o.name)
def test_option_default_and_form_match_its_kind(opt: DaemonOption) -> None:
    default_types = {
        OptionKind.BOOL: bool,
        OptionKind.STRING: str,
        OptionKind.INT: int,
        OptionKind.LIST: tuple,
        OptionKind.MAP: type(DAEMON_OPTIONS[0].default),  # a read-only mapping
    }
    assert opt.default is None or isinstance(opt.default, default_types[opt.kind])
    if opt.kind is OptionKind.MAP and opt.flag:
        assert opt.form not in (ArgForm.VALUE, ArgForm.CSV)
    elif opt.kind is not OptionKind.LIST:
        assert opt.form is ArgForm.VALUE
    assert len(opt.short) <= 1


@pytest.mark.parametrize(
    ("flag", "key"),
    [
        ("--insecure-registry", "insecure-registries"),
        ("--authorization-plugin", "authorization-plugins"),
        ("--default-ulimit", "default-ulimits"),
        ("--label", "labels"),
        ("--log-opt", "log-opts"),
        ("--storage-opt", "storage-opts"),
        ("--registry-mirror", "registry-mirrors"),
        ("--exec-opt", "exec-opts"),
        ("--dns-opt", "dns-opts"),
        ("--host", "hosts"),
        ("--add-runtime", "runtimes"),
        ("--default-address-pool", "default-address-pools"),
        ("--default-network-opt", "default-network-opts"),
        ("--node-generic-resource", "node-generic-resources"),
        ("--allow-nondistributable-artifacts", "allow-nondistributable-artifacts"),
        ("--feature", "features"),
        ("--cdi-spec-dir", "cdi-spec-dirs"),
        ("--cluster-store-opt", "cluster-store-opts"),
        ("--host-gateway-ip", "host-gateway-ips"),
        ("--http-proxy", "proxies.http-proxy"),
        ("--https-proxy", "proxies.https-proxy"),
        ("--no-proxy", "proxies.no-proxy"),
        ("--icc", "icc"),
    ],
)
def test_flag_and_key_resolve_both_ways(flag: str, key: str) -> None:
    by_flag, by_key = daemon_option(flag), daemon_option(key)
    assert by_flag is not None
    assert by_flag is by_key
    assert by_flag.key == key
    assert f"--{by_flag.flag}" == flag
    assert daemon_option(flag[2:]) is by_flag  # the bare flag name


@pytest.mark.parametrize(
    ("short", "name"),
    [
        ("-H", "hosts"),
        ("-D", "debug"),
        ("-l", "log-level"),
        ("-G", "group"),
        ("-p", "pidfile"),
        ("-b", "bridge"),
        ("-s", "storage-driver"),
        ("-g", "graph"),
        ("-r", "restart"),
        ("-v", "version"),
        ("-h", "help"),
    ],
)
def test_short_flags(short: str, name: str) -> None:
    opt = daemon_option(short)
    assert opt is not None
    assert opt.name == name
    assert short in opt.flags


@pytest.mark.parametrize("name", ["-e", "--exec-driver", "exec-driver", "-x", "nonsense", "--insecure-registries"])
def test_names_dockerd_does_not_have(name: str) -> None:
    assert daemon_option(name) is None


@pytest.mark.parametrize("flag", ["config-file", "validate", "version", "help", "restart"])
def test_flags_without_a_daemon_json_key(flag: str) -> None:
    opt = daemon_option(f"--{flag}")
    assert opt is not None
    assert opt.key == ""
    assert opt.name == flag
    assert daemon_json_option(flag) is None


def test_daemon_json_names_that_are_not_keys() -> None:
    assert daemon_json_option("insecure-registry") is None  # a flag name, not a key
    assert daemon_json_option("containerd-plugin-namespace") is None  # json tag dockerd's key check refuses
    assert daemon_json_option("http-proxy") is None  # only read inside "proxies"
    legacy = daemon_json_option("host-gateway-ip")
    assert legacy is not None
    assert legacy.name == "host-gateway-ips"


# Every flag dockerd v28.5.2 defines on Linux (moby cmd/dockerd at v28.5.2), and those removed since v20.10.
# fmt: off
DOCKERD_28_FLAGS = [
    "add-runtime", "allow-direct-routing", "allow-nondistributable-artifacts", "api-cors-header",
    "authorization-plugin", "bip", "bip6", "bridge", "cdi-spec-dir", "cgroup-parent", "config-file", "containerd",
    "containerd-namespace", "containerd-plugins-namespace", "cpu-rt-period", "cpu-rt-runtime", "cri-containerd",
    "data-root", "debug", "default-address-pool", "default-cgroupns-mode", "default-gateway", "default-gateway-v6",
    "default-ipc-mode", "default-network-opt", "default-runtime", "default-shm-size", "default-ulimit", "dns",
    "dns-opt", "dns-search", "exec-opt", "exec-root", "experimental", "feature", "fixed-cidr", "fixed-cidr-v6",
    "group", "host", "host-gateway-ip", "http-proxy", "https-proxy", "icc", "init", "init-path", "insecure-registry",
    "ip", "ip-forward", "ip-forward-no-drop", "ip-masq", "ip6tables", "iptables", "ipv6", "label", "live-restore",
    "log-driver", "log-format", "log-level", "log-opt", "max-concurrent-downloads", "max-concurrent-uploads",
    "max-download-attempts", "metrics-addr", "mtu", "network-control-plane-mtu", "network-diagnostic-port",
    "no-new-privileges", "no-proxy", "node-generic-resource", "pidfile", "raw-logs", "registry-mirror", "restart",
    "rootless", "seccomp-profile", "selinux-enabled", "shutdown-timeout", "storage-driver", "storage-opt",
    "swarm-default-advertise-addr", "tls", "tlscacert", "tlscert", "tlskey", "tlsverify", "userland-proxy",
    "userland-proxy-path", "userns-remap", "validate", "version", "help",
]
# fmt: on
REMOVED_SINCE_20_10 = ["cluster-advertise", "cluster-store", "cluster-store-opt", "graph", "oom-score-adjust"]


@pytest.mark.parametrize("flag", DOCKERD_28_FLAGS + REMOVED_SINCE_20_10)
def test_table_covers_dockerd_flags(flag: str) -> None:
    assert daemon_option(f"--{flag}") is not None


@pytest.mark.parametrize(
    "key",
    [
        "builder",
        "default-init",
        "resolv-conf",
        "swarm-raft-election-tick",
        "swarm-raft-heartbeat-tick",
        "deprecated-key-path",
    ],
)
def test_table_covers_daemon_json_only_keys(key: str) -> None:
    opt = daemon_json_option(key)
    assert opt is not None
    assert opt.flag == ""


@pytest.mark.parametrize(
    ("name", "default"),
    [
        ("icc", True),
        ("iptables", True),
        ("ip6tables", True),
        ("ip-forward", True),
        ("ip-masq", True),
        ("userland-proxy", True),
        ("live-restore", False),
        ("log-level", "info"),
        ("log-driver", "json-file"),
        ("no-new-privileges", False),
        ("experimental", False),
        ("selinux-enabled", False),
        ("tls", False),
        ("tlsverify", False),
        ("ip", "0.0.0.0"),
        ("debug", False),
        ("init", False),
        ("userns-remap", ""),
        ("seccomp-profile", "builtin"),
        ("default-ipc-mode", "private"),
        ("group", "docker"),
        ("hosts", ("unix:///var/run/docker.sock",)),
        ("storage-driver", None),
    ],
)
def test_security_relevant_defaults(name: str, default: object) -> None:
    opt = daemon_option(name)
    assert opt is not None
    assert opt.default == default


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("icc", OptionKind.BOOL),
        ("mtu", OptionKind.INT),
        ("log-level", OptionKind.STRING),
        ("labels", OptionKind.LIST),
        ("hosts", OptionKind.LIST),
        ("default-address-pools", OptionKind.LIST),
        ("log-opts", OptionKind.MAP),
        ("default-ulimits", OptionKind.MAP),
        ("runtimes", OptionKind.MAP),
        ("features", OptionKind.MAP),
        ("default-network-opts", OptionKind.MAP),
    ],
)
def test_option_kinds(name: str, kind: OptionKind) -> None:
    opt = daemon_option(name)
    assert opt is not None
    assert opt.kind is kind


def test_only_runtimes_merge_flag_and_file() -> None:
    assert [opt.name for opt in DAEMON_OPTIONS if not opt.conflicts] == ["runtimes"]
