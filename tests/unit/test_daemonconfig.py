"""The daemon's effective configuration (runbench.daemonconfig): argv, daemon.json and info into one model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from runbench.daemonconfig import build, config_file, lookup, mask_userinfo, redact
from runbench.secrets import looks_secret_name
from runbench.semantics import DAEMON_OPTIONS, DEFAULT_DAEMON_JSON
from runbench.snapshot.daemon import DaemonConfig, Origin

DOCKERD = "/usr/bin/dockerd"
PATH = "/etc/docker/daemon.json"


def config(
    argv: Sequence[str] | None = (),
    daemon_json: str | None = None,
    info: Mapping[str, Any] | None = None,
    *,
    argv_why: str = "",
    json_why: str = "",
    path: str = PATH,
) -> DaemonConfig:
    """A config from dockerd's flags (argv[0] added), a daemon.json text and an /info answer."""
    full = None if argv is None else [DOCKERD, *argv]
    return build(full, argv_why, daemon_json, path, json_why, info, "no engine")


def value(cfg: DaemonConfig, key: str) -> Any:
    setting = lookup(cfg, key)
    assert setting.known, setting.why
    return setting.value


# --- argv -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "key", "expected", "given_as"),
    [
        pytest.param(["--log-level=debug"], "log-level", "debug", ["--log-level=debug"], id="long-equals"),
        pytest.param(["--log-level", "debug"], "log-level", "debug", ["--log-level debug"], id="long-separate"),
        pytest.param(["-l", "debug"], "log-level", "debug", ["-l debug"], id="short-separate"),
        pytest.param(["-ldebug"], "log-level", "debug", ["-ldebug"], id="short-joined"),
        pytest.param(["-l=debug"], "log-level", "debug", ["-l=debug"], id="short-equals"),
        pytest.param(
            ["-l", "info", "--log-level=error"],
            "log-level",
            "error",
            ["-l info", "--log-level=error"],
            id="scalar-last-wins",
        ),
        pytest.param(
            ["-Hunix:///run/d.sock"], "hosts", ["unix:///run/d.sock"], ["-Hunix:///run/d.sock"], id="short-list"
        ),
        pytest.param(
            ["-H", "fd://", "--host=tcp://127.0.0.1:2376"],
            "hosts",
            ["fd://", "tcp://127.0.0.1:2376"],
            ["-H fd://", "--host=tcp://127.0.0.1:2376"],
            id="repeated-list",
        ),
        pytest.param(
            ["--insecure-registry", "a:5000", "--insecure-registry=b:5000"],
            "insecure-registries",
            ["a:5000", "b:5000"],
            ["--insecure-registry a:5000", "--insecure-registry=b:5000"],
            id="flag-name-differs-from-key",
        ),
        pytest.param(
            ["--dns", "1.1.1.1,8.8.8.8", "--dns=9.9.9.9"], "dns", ["1.1.1.1", "8.8.8.8", "9.9.9.9"], None, id="csv-list"
        ),
        pytest.param(["--label", "a=b", "--label=c=d"], "labels", ["a=b", "c=d"], None, id="labels-list"),
        pytest.param(["--icc"], "icc", True, ["--icc"], id="bool-bare"),
        pytest.param(["--icc=false"], "icc", False, ["--icc=false"], id="bool-false"),
        pytest.param(["--icc=0"], "icc", False, None, id="bool-go-0"),
        pytest.param(["--icc=T"], "icc", True, None, id="bool-go-T"),
        pytest.param(["--icc", "false"], "icc", True, ["--icc"], id="bool-never-takes-next-word"),
        pytest.param(["-D"], "debug", True, ["-D"], id="short-bool"),
        pytest.param(["-D=false"], "debug", False, ["-D=false"], id="short-bool-equals"),
        pytest.param(["-Dl", "warn"], "log-level", "warn", ["-Dl warn"], id="cluster-value"),
        pytest.param(["-Dl", "warn"], "debug", True, ["-D"], id="cluster-switch"),
        pytest.param(["--mtu", "1400"], "mtu", 1400, None, id="int"),
        pytest.param(["--mtu=0x10"], "mtu", 16, None, id="int-go-base-prefix"),
        pytest.param(
            ["--log-opt", "max-size=10m", "--log-opt=max-file=3"],
            "log-opts",
            {"max-size": "10m", "max-file": "3"},
            ["--log-opt max-size=10m", "--log-opt=max-file=3"],
            id="map-key-value",
        ),
        pytest.param(
            ["--default-ulimit", "nofile=1024:2048"],
            "default-ulimits",
            {"nofile": {"Name": "nofile", "Soft": 1024, "Hard": 2048}},
            None,
            id="ulimit",
        ),
        pytest.param(
            ["--default-ulimit", "nproc=512", "--default-ulimit", "nofile=-1"],
            "default-ulimits",
            {
                "nproc": {"Name": "nproc", "Soft": 512, "Hard": 512},
                "nofile": {"Name": "nofile", "Soft": -1, "Hard": -1},
            },
            None,
            id="ulimit-soft-only",
        ),
        pytest.param(
            ["--feature", "cdi", "--feature", "containerd-snapshotter=false"],
            "features",
            {"cdi": True, "containerd-snapshotter": False},
            None,
            id="features",
        ),
        pytest.param(
            [
                "--default-network-opt",
                "bridge=com.docker.network.bridge.enable_icc=false",
                "--default-network-opt=bridge=com.docker.network.driver.mtu=1400",
            ],
            "default-network-opts",
            {"bridge": {"com.docker.network.bridge.enable_icc": "false", "com.docker.network.driver.mtu": "1400"}},
            None,
            id="driver-key-value",
        ),
        pytest.param(
            ["--add-runtime", "crun=/usr/bin/crun"], "runtimes", {"crun": {"path": "/usr/bin/crun"}}, None, id="runtime"
        ),
        pytest.param(
            ["--default-address-pool", "base=10.10.0.0/16,size=24"],
            "default-address-pools",
            [{"base": "10.10.0.0/16", "size": 24}],
            None,
            id="address-pool",
        ),
        pytest.param(
            ["--http-proxy", "http://proxy:3128"], "proxies.http-proxy", "http://proxy:3128", None, id="proxy"
        ),
        pytest.param(
            ["--nri-opts", "enable,socket-path=/run/nri.sock"],
            "nri-opts",
            {"enable": True, "socket-path": "/run/nri.sock"},
            None,
            id="nri",
        ),
        pytest.param(["--host-gateway-ip=172.17.0.1"], "host-gateway-ips", ["172.17.0.1"], None, id="host-gateway-ip"),
        pytest.param(["stray", "--icc=false"], "icc", False, None, id="positional-word-skipped"),
        pytest.param(["-g", "/srv/docker"], "graph", "/srv/docker", ["-g /srv/docker"], id="deprecated-graph"),
    ],
)
def test_argv_forms(args: list[str], key: str, expected: Any, given_as: list[str] | None) -> None:
    cfg = config(args)
    assert value(cfg, key) == expected
    values = lookup(cfg, key).values
    assert all(v.origin is Origin.ARGV and v.source == "argv" for v in values)
    if given_as is not None:
        assert [v.given_as for v in values] == given_as
    assert cfg.unknown_keys == ()


def test_argv_zero_is_the_program() -> None:
    cfg = build(["--icc=false"], "", None, PATH, "", None)
    assert "icc" not in cfg.values


def test_double_dash_ends_flags() -> None:
    cfg = config(["--debug", "--", "--icc=false", "-H", "tcp://0.0.0.0:2375"])
    assert value(cfg, "debug") is True
    assert "icc" not in cfg.values
    assert "hosts" not in cfg.values


def test_flag_missing_its_value_at_the_end_is_dropped() -> None:
    cfg = config(["--log-level"])
    assert "log-level" not in cfg.values
    assert value(cfg, "log-level") == "info"


@pytest.mark.parametrize(
    ("args", "key", "stored", "given_as"),
    [
        pytest.param(["--frobnicate", "x", "--icc=false"], "frobnicate", "x", "--frobnicate x", id="takes-next-word"),
        pytest.param(["--frobnicate", "--icc=false"], "frobnicate", True, "--frobnicate", id="before-a-flag"),
        pytest.param(["--frobnicate=1", "--icc=false"], "frobnicate", "1", "--frobnicate=1", id="equals"),
        pytest.param(["-Z", "--icc=false"], "Z", True, "-Z", id="short"),
        pytest.param(["-DZ", "v", "--icc=false"], "Z", "v", "-Z v", id="short-ending-a-cluster"),
    ],
)
def test_unknown_flags_are_kept(args: list[str], key: str, stored: Any, given_as: str) -> None:
    cfg = config(args)
    assert cfg.unknown_keys == (key,)
    (cv,) = cfg.values[key]
    assert (cv.value, cv.given_as, cv.origin) == (stored, given_as, Origin.ARGV)
    assert value(cfg, key) == stored
    assert value(cfg, "icc") is False


@pytest.mark.parametrize(
    ("args", "key"),
    [
        (["--icc=yes"], "icc"),
        (["--icc="], "icc"),
        (["-D=on"], "debug"),
        (["--mtu=big"], "mtu"),
        (["--default-ulimit", "nofile=abc"], "default-ulimits"),
        (["--default-ulimit", "nofile=2048:1024"], "default-ulimits"),
        (["--default-ulimit", "bogus=1"], "default-ulimits"),
        (["--feature", "cdi=maybe"], "features"),
        (["--add-runtime", "crun"], "runtimes"),
        (["--default-network-opt", "bridge"], "default-network-opts"),
        (["--default-address-pool", "base=10.0.0.0/8,size=big"], "default-address-pools"),
        (["--default-address-pool", "base=10.0.0.0/8\nsize=24"], "default-address-pools"),
        (["--default-ulimit", "nofile=" + "9" * 5000], "default-ulimits"),
        (["--mtu", "9" * 5000], "mtu"),
        (["--nri-opts", "enable=maybe"], "nri-opts"),
    ],
)
def test_values_dockerd_rejects_make_the_setting_unknown(args: list[str], key: str) -> None:
    setting = lookup(config(args), key)
    assert not setting.known
    assert setting.value is None
    assert setting.values[0].given_as in setting.why
    assert "argv" in setting.why


@pytest.mark.parametrize(
    ("argv", "path"),
    [
        ([DOCKERD], DEFAULT_DAEMON_JSON),
        ([DOCKERD, "--config-file", "/srv/d.json"], "/srv/d.json"),
        ([DOCKERD, "--config-file=/a.json", "-D", "--config-file=/b.json"], "/b.json"),
        ([DOCKERD, "--", "--config-file=/a.json"], DEFAULT_DAEMON_JSON),
    ],
)
def test_config_file(argv: list[str], path: str) -> None:
    assert config_file(argv) == path


# --- daemon.json ----------------------------------------------------------------------------------

DAEMON_JSON = """{
  "log-driver": "json-file",
  "log-opts": {
    "max-size": "10m",
    "max-file": "3"
  },
  "default-ulimits": {
    "nofile": {"Name": "nofile", "Hard": 64000, "Soft": 64000}
  },
  "proxies": {
    "http-proxy": "http://proxy:3128",
    "no-proxy": "localhost,127.0.0.1"
  },
  "insecure-registries": ["a:5000",
     "b:5000"],
  "live-restore": true,
  "mtu": 1400,
  "bogus": {"x": [1, 2]}
}
"""


@pytest.mark.parametrize(
    ("key", "line", "expected"),
    [
        ("log-driver", 2, "json-file"),
        ("log-opts", 3, {"max-size": "10m", "max-file": "3"}),
        ("default-ulimits", 7, {"nofile": {"Name": "nofile", "Hard": 64000, "Soft": 64000}}),
        ("proxies.http-proxy", 11, "http://proxy:3128"),
        ("proxies.no-proxy", 12, "localhost,127.0.0.1"),
        ("insecure-registries", 14, ["a:5000", "b:5000"]),
        ("live-restore", 16, True),
        ("mtu", 17, 1400),
        ("bogus", 18, {"x": [1, 2]}),
    ],
)
def test_daemon_json_values_and_lines(key: str, line: int, expected: Any) -> None:
    cfg = config(daemon_json=DAEMON_JSON)
    (cv,) = cfg.values[key]
    assert cv.origin is Origin.DAEMON_JSON
    assert (cv.line, cv.location, cv.source) == (line, PATH, f"daemon.json:{line}")
    assert cv.value == expected
    assert value(cfg, key) == expected


def test_daemon_json_keeps_unknown_keys_and_notes_where_it_was_read() -> None:
    cfg = config(daemon_json=DAEMON_JSON)
    assert cfg.unknown_keys == ("bogus",)
    assert cfg.read == ("argv", PATH)
    assert cfg.unread == {"info": "no engine"}
    assert cfg.values["proxies.http-proxy"][0].given_as == "proxies.http-proxy"


def test_daemon_json_at_another_path() -> None:
    cfg = config(daemon_json='{\n"icc": false}', path="/srv/docker/alt.json")
    assert lookup(cfg, "icc").sources == ("/srv/docker/alt.json:2",)
    assert cfg.read == ("argv", "/srv/docker/alt.json")


def test_duplicate_keys_last_wins_and_both_are_kept() -> None:
    cfg = config(daemon_json='{\n  "icc": true,\n  "icc": false\n}')
    setting = lookup(cfg, "icc")
    assert setting.value is False
    assert [(v.value, v.line) for v in setting.values] == [(True, 2), (False, 3)]


def test_duplicate_objects_merge_as_go_decodes_them() -> None:
    cfg = config(daemon_json='{"log-opts": {"max-size": "1m"}, "log-opts": {"max-file": "2"}}')
    assert value(cfg, "log-opts") == {"max-size": "1m", "max-file": "2"}


def test_duplicate_lists_last_wins() -> None:
    cfg = config(daemon_json='{"dns": ["1.1.1.1"], "dns": ["9.9.9.9"]}')
    assert value(cfg, "dns") == ["9.9.9.9"]


def test_legacy_single_value_key_reads_into_its_list() -> None:
    cfg = config(daemon_json='{"host-gateway-ip": "172.17.0.1"}')
    setting = lookup(cfg, "--host-gateway-ip")
    assert setting.key == "host-gateway-ips"
    assert setting.value == ["172.17.0.1"]
    assert setting.values[0].given_as == "host-gateway-ip"


@pytest.mark.parametrize("text", ["", "  \n\t", "{}", "\ufeff{}"])
def test_empty_daemon_json(text: str) -> None:
    cfg = config(daemon_json=text)
    assert cfg.values == {}
    assert cfg.read == ("argv", PATH)
    assert "daemon.json" not in cfg.unread


def test_byte_order_mark_is_dropped() -> None:
    cfg = config(daemon_json='\ufeff{"icc": false}')
    assert value(cfg, "icc") is False


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('{"icc": "false"}', "icc"),
        ('{"mtu": 1.5}', "mtu"),
        ('{"mtu": true}', "mtu"),
        ('{"labels": {"a": "b"}}', "labels"),
        ('{"log-opts": ["max-size=1m"]}', "log-opts"),
        ('{"log-level": ["debug"]}', "log-level"),
    ],
)
def test_wrong_json_types_make_the_setting_unknown(text: str, key: str) -> None:
    setting = lookup(config(daemon_json=text), key)
    assert not setting.known
    assert "daemon.json:1" in setting.why


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ('{\n  "icc": false,\n}', 3, 1, "Expecting property name enclosed in double quotes"),
        ('{\n  "icc" false\n}', 2, 9, "Expecting ':' delimiter"),
        ('{\n  "icc": tru\n}', 2, 10, "Expecting value"),
        ('{"icc": false', 1, 14, "Expecting ',' delimiter"),
        ('{"icc": false} {}', 1, 16, "Extra data"),
        ("[]", 1, 1, "Expecting a JSON object at the top level"),
        ('  "debug"', 1, 3, "Expecting a JSON object at the top level"),
        ('{"mtu": NaN}', 1, 9, "NaN is not valid JSON"),
        ('{"log-opts": {"a": Infinity}}', 1, 14, "Infinity is not valid JSON"),
        ('{"proxies": {"http-proxy" "x"}}', 1, 27, "Expecting ':' delimiter"),
        ('{"a": "\\q"}', 1, 8, "Invalid \\escape"),
        ('{"mtu": ' + "9" * 5000 + "}", 1, 9, "Number too long"),
    ],
)
def test_malformed_daemon_json(text: str, line: int, column: int, message: str) -> None:
    cfg = config(["--icc=false"], daemon_json=text)
    assert cfg.unread["daemon.json"] == f"{PATH}: line {line} column {column}: {message}"
    assert PATH not in cfg.read
    assert all(v.origin is Origin.ARGV for values in cfg.values.values() for v in values)


def test_too_deeply_nested_daemon_json_is_unread() -> None:
    cfg = config(daemon_json='{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert "nested too deeply" in cfg.unread["daemon.json"]


# --- conflicts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "text", "key", "live"),
    [
        (["--insecure-registry", "a:5000"], '{"insecure-registries": ["b:5000"]}', "insecure-registries", ["a:5000"]),
        (["--log-level", "debug"], '{"log-level": "warn"}', "log-level", "debug"),
        (["-l", "debug"], '{"log-level": "warn"}', "log-level", "debug"),
        (["-H", "fd://"], '{"hosts": ["unix:///var/run/docker.sock"]}', "hosts", ["fd://"]),
        (["--http-proxy=http://a:1"], '{"proxies": {"http-proxy": "http://b:2"}}', "proxies.http-proxy", "http://a:1"),
        (["--host-gateway-ip=10.0.0.1"], '{"host-gateway-ip": "10.0.0.2"}', "host-gateway-ips", ["10.0.0.1"]),
        (["--log-opt", "max-size=1m"], '{"log-opts": {"max-file": "3"}}', "log-opts", {"max-size": "1m"}),
        (["--icc=false"], '{"icc": true}', "icc", False),
    ],
)
def test_conflicts(args: list[str], text: str, key: str, live: Any) -> None:
    cfg = config(args, daemon_json=text)
    assert cfg.conflicts == (key,)
    setting = lookup(cfg, key)
    assert setting.conflict
    assert setting.value == live
    assert [v.origin for v in setting.values] == [Origin.ARGV, Origin.DAEMON_JSON]


def test_runtimes_from_flag_and_file_merge_without_conflict() -> None:
    text = '{"runtimes": {"youki": {"path": "/usr/bin/youki"}}}'
    cfg = config(["--add-runtime", "crun=/usr/bin/crun"], daemon_json=text)
    assert cfg.conflicts == ()
    assert value(cfg, "runtimes") == {"youki": {"path": "/usr/bin/youki"}, "crun": {"path": "/usr/bin/crun"}}


def test_no_conflict_for_different_or_unknown_keys() -> None:
    cfg = config(["--icc=false", "--frob=1"], daemon_json='{"log-level": "warn", "frob": 2}')
    assert cfg.conflicts == ()
    assert cfg.unknown_keys == ("frob",)
    assert not lookup(cfg, "icc").conflict


# --- docker info ----------------------------------------------------------------------------------

INFO: dict[str, Any] = {
    "ServerVersion": "28.5.2",
    "Driver": "overlay2",
    "LoggingDriver": "journald",
    "LiveRestoreEnabled": True,
    "ExperimentalBuild": False,
    "Debug": False,
    "DockerRootDir": "/var/lib/docker",
    "DefaultRuntime": "runc",
    "CgroupDriver": "systemd",
    "HttpProxy": "http://xxxxx:xxxxx@proxy:3128",
    "HttpsProxy": "",
    "NoProxy": "localhost",
    "Labels": ["env=prod"],
    "RegistryConfig": {
        "InsecureRegistryCIDRs": ["::1/128", "127.0.0.0/8", "10.1.0.0/16"],
        "IndexConfigs": {
            "docker.io": {"Name": "docker.io", "Mirrors": [], "Secure": True, "Official": True},
            "myreg:5000": {"Name": "myreg:5000", "Mirrors": [], "Secure": False, "Official": False},
        },
        "Mirrors": ["https://mirror.example/"],
    },
    "SecurityOptions": ["name=apparmor", "name=seccomp,profile=builtin", "name=cgroupns", "name=no-new-privileges"],
}


@pytest.mark.parametrize(
    ("key", "expected", "field"),
    [
        ("storage-driver", "overlay2", "Driver"),
        ("log-driver", "journald", "LoggingDriver"),
        ("live-restore", True, "LiveRestoreEnabled"),
        ("experimental", False, "ExperimentalBuild"),
        ("debug", False, "Debug"),
        ("data-root", "/var/lib/docker", "DockerRootDir"),
        ("default-runtime", "runc", "DefaultRuntime"),
        ("proxies.http-proxy", "http://xxxxx:***@proxy:3128", "HttpProxy"),
        ("proxies.https-proxy", "", "HttpsProxy"),
        ("proxies.no-proxy", "localhost", "NoProxy"),
        ("labels", ["env=prod"], "Labels"),
        (
            "insecure-registries",
            ["10.1.0.0/16", "myreg:5000"],
            "RegistryConfig.InsecureRegistryCIDRs + IndexConfigs[Secure=false]",
        ),
        ("registry-mirrors", ["https://mirror.example/"], "RegistryConfig.Mirrors"),
        ("seccomp-profile", "builtin", "SecurityOptions: name=seccomp,profile=builtin"),
        ("default-cgroupns-mode", "private", "SecurityOptions: name=cgroupns"),
        ("no-new-privileges", True, "SecurityOptions: name=no-new-privileges"),
        ("rootless", False, "SecurityOptions: no name=rootless"),
        ("selinux-enabled", False, "SecurityOptions: no name=selinux"),
        ("userns-remap", "", "SecurityOptions: no name=userns"),
    ],
)
def test_info_fields(key: str, expected: Any, field: str) -> None:
    setting = lookup(config(info=INFO), key)
    assert setting.value == expected
    (cv,) = setting.values
    assert (cv.origin, cv.source, cv.given_as) == (Origin.INFO, "info", field)


def test_info_wins_over_argv_and_daemon_json() -> None:
    cfg = config(["-s", "vfs", "--live-restore=false"], daemon_json='{"log-driver": "syslog"}', info=INFO)
    assert value(cfg, "storage-driver") == "overlay2"
    assert value(cfg, "live-restore") is True
    assert value(cfg, "log-driver") == "journald"
    assert lookup(cfg, "-s").sources == ("argv", "info")
    assert lookup(cfg, "log-driver").sources == ("daemon.json:1", "info")
    assert cfg.read == ("argv", PATH, "info")
    assert cfg.unread == {}


def test_cgroup_driver_is_not_an_option() -> None:
    cfg = config(info=INFO)
    assert not any(v.given_as == "CgroupDriver" for values in cfg.values.values() for v in values)


@pytest.mark.parametrize(
    ("security_options", "version", "key", "expected"),
    [
        (["name=seccomp,profile=default"], "20.10.24+dfsg1", "seccomp-profile", "builtin"),
        (["name=seccomp,profile=builtin"], "28.5.2", "seccomp-profile", "builtin"),
        (["name=seccomp,profile=unconfined"], "28.5.2", "seccomp-profile", "unconfined"),
        (["name=seccomp,profile=/etc/docker/seccomp.json"], "28.5.2", "seccomp-profile", "/etc/docker/seccomp.json"),
        (["name=userns"], "20.10.24", "userns-remap", True),
        ([], "20.10.24", "userns-remap", ""),
        (["name=rootless"], "28.5.2", "rootless", True),
        (None, "28.5.2", "rootless", False),
        (["name=selinux"], "28.5.2", "selinux-enabled", True),
        (["name=no-new-privileges"], "24.0.7", "no-new-privileges", True),
        ([], "24.0.7", "no-new-privileges", False),
    ],
)
def test_info_security_options(security_options: list[str] | None, version: str, key: str, expected: Any) -> None:
    cfg = config(info={"ServerVersion": version, "SecurityOptions": security_options})
    setting = lookup(cfg, key)
    assert setting.value == expected
    assert [v.origin for v in setting.values] == [Origin.INFO]


@pytest.mark.parametrize(
    ("info", "key"),
    [
        ({"ServerVersion": "20.10.24", "SecurityOptions": []}, "no-new-privileges"),  # not reported before v24
        ({"ServerVersion": "28.5.2", "SecurityOptions": []}, "seccomp-profile"),  # no seccomp support
        ({"ServerVersion": "28.5.2", "SecurityOptions": []}, "default-cgroupns-mode"),
        ({"ServerVersion": "28.5.2"}, "rootless"),  # no SecurityOptions at all
        ({"Debug": "yes", "Labels": "a=b", "Driver": 3}, "debug"),  # wrong types are passed over
        ({"Debug": "yes", "Labels": "a=b", "Driver": 3}, "labels"),
        ({"Debug": "yes", "Labels": "a=b", "Driver": 3}, "storage-driver"),
        ({"RegistryConfig": []}, "insecure-registries"),
    ],
)
def test_info_reports_nothing_for(info: dict[str, Any], key: str) -> None:
    setting = lookup(config(info=info), key)
    assert setting.values == ()
    assert setting.is_default


def test_info_data_root_drops_the_userns_remap_directory() -> None:
    remapped = {"DockerRootDir": "/srv/docker/100000.100000", "SecurityOptions": ["name=userns"]}
    assert value(config(info=remapped), "data-root") == "/srv/docker"
    plain = {"DockerRootDir": "/srv/docker/1.2", "SecurityOptions": []}
    assert value(config(info=plain), "data-root") == "/srv/docker/1.2"


def test_info_null_lists_are_empty() -> None:
    cfg = config(
        info={"Labels": None, "RegistryConfig": {"InsecureRegistryCIDRs": None, "IndexConfigs": None, "Mirrors": None}}
    )
    assert value(cfg, "labels") == []
    assert value(cfg, "insecure-registries") == []
    assert value(cfg, "registry-mirrors") == []


# --- lookup: known and unknown --------------------------------------------------------------------


def test_argv_unread_and_nothing_given_is_unknown() -> None:
    setting = lookup(config(None, argv_why="permission denied: /proc/1/cmdline"), "icc")
    assert not setting.known
    assert setting.value is None
    assert setting.why == "argv: permission denied: /proc/1/cmdline"


def test_daemon_json_unreadable_and_nothing_given_is_unknown() -> None:
    setting = lookup(config(json_why=f"{PATH}: permission denied"), "icc")
    assert not setting.known
    assert setting.why == f"daemon.json: {PATH}: permission denied"


def test_daemon_json_malformed_and_nothing_given_is_unknown() -> None:
    setting = lookup(config(daemon_json="{"), "live-restore")
    assert not setting.known
    assert "line 1 column 2" in setting.why


def test_both_unread_reasons_are_given() -> None:
    setting = lookup(config(None, argv_why="no dockerd", json_why="denied"), "--icc")
    assert setting.why == "argv: no dockerd; daemon.json: denied"


def test_argv_value_is_known_when_daemon_json_is_unreadable() -> None:
    cfg = config(["--icc=false"], json_why="denied")
    assert value(cfg, "icc") is False


def test_daemon_json_value_is_known_when_argv_is_unread() -> None:
    cfg = config(None, daemon_json='{"icc": false}', argv_why="no dockerd")
    assert value(cfg, "icc") is False


def test_info_value_is_known_when_nothing_else_was_read() -> None:
    cfg = config(None, info={"LiveRestoreEnabled": True}, argv_why="no dockerd", json_why="denied")
    assert value(cfg, "live-restore") is True


def test_daemon_json_only_key_ignores_an_unread_argv() -> None:
    setting = lookup(config(None, argv_why="no dockerd"), "default-init")
    assert setting.known
    assert setting.value == "docker-init"


def test_flag_only_option_ignores_an_unreadable_daemon_json() -> None:
    setting = lookup(config(json_why="denied"), "--config-file")
    assert setting.known
    assert setting.value == "/etc/docker/daemon.json"


def test_absent_daemon_json_leaves_defaults_known() -> None:
    cfg = config(daemon_json=None)
    assert PATH not in cfg.read
    assert "daemon.json" not in cfg.unread
    assert lookup(cfg, "icc").is_default


def test_info_unread_is_noted_but_does_not_make_settings_unknown() -> None:
    cfg = config()
    assert cfg.unread == {"info": "no engine"}
    assert lookup(cfg, "live-restore").known


@pytest.mark.parametrize("name", ["--insecure-registry", "insecure-registry", "insecure-registries"])
def test_lookup_by_any_name(name: str) -> None:
    setting = lookup(config(["--insecure-registry", "a:5000"]), name)
    assert setting.key == "insecure-registries"
    assert setting.value == ["a:5000"]


def test_lookup_by_short_flag() -> None:
    assert lookup(config(["-H", "fd://"]), "-H").value == ["fd://"]


def test_lookup_of_a_name_dockerd_does_not_have() -> None:
    with pytest.raises(KeyError):
        lookup(config(), "no-such-option")


def test_lookup_of_an_unknown_key_that_was_given() -> None:
    cfg = config(daemon_json='{"frob": 1, "frob": 2}')
    setting = lookup(cfg, "frob")
    assert (setting.known, setting.value) == (True, 2)


# --- defaults -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "default"),
    [
        ("icc", True),
        ("iptables", True),
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
        ("seccomp-profile", "builtin"),
        ("userns-remap", ""),
        ("hosts", ["unix:///var/run/docker.sock"]),
        ("insecure-registries", []),
        ("log-opts", {}),
        ("default-ulimits", {}),
        ("storage-driver", None),
    ],
)
def test_defaults(key: str, default: Any) -> None:
    setting = lookup(config(daemon_json="{}", info={}), key)
    assert setting.is_default
    assert setting.sources == ("default",)
    assert setting.value == default


def test_default_collections_are_fresh_copies() -> None:
    cfg = config()
    lookup(cfg, "labels").value.append("x=y")
    lookup(cfg, "log-opts").value["k"] = "v"
    assert lookup(cfg, "labels").value == []
    assert lookup(cfg, "log-opts").value == {}


# --- redaction ------------------------------------------------------------------------------------

SECRET = "hunter2-Sup3rS3cret-value"


def test_no_secret_reaches_the_config() -> None:
    args = [
        f"--registry-mirror=https://bob:{SECRET}@mirror.example",
        "--log-opt",
        f"splunk-token={SECRET}",
        f"--registry-password={SECRET}",
        "--label",
        f"db_password={SECRET}",
        "--http-proxy",
        f"http://proxy-user:{SECRET}@proxy:3128",
        "--default-network-opt",
        f"bridge=com.example.api_key={SECRET}",
        "-H",
        f"tcp://admin:{SECRET}@127.0.0.1:2376",
    ]
    text = f"""{{
      "log-opts": {{"splunk-token": "{SECRET}", "loki-url": "https://u:{SECRET}@loki/api"}},
      "api-token": "{SECRET}",
      "nested": {{"credentials": ["{SECRET}"], "password": 12345678901234}},
      "proxies": {{"https-proxy": "user:{SECRET}@proxy:3128"}}
    }}"""
    info = {"Labels": [f"token={SECRET}"], "RegistryConfig": {"Mirrors": [f"https://m:{SECRET}@mirror/"]}}
    cfg = config(args, daemon_json=text, info=info)
    assert SECRET not in repr(cfg)
    assert "12345678901234" not in repr(cfg)
    for key in cfg.values:
        assert SECRET not in repr(lookup(cfg, key))
    assert value(cfg, "registry-mirrors") == ["https://m:***@mirror/"]
    assert cfg.values["registry-mirrors"][0].given_as == "--registry-mirror=https://bob:***@mirror.example"
    assert value(cfg, "proxies.https-proxy") == "user:***@proxy:3128"
    assert cfg.values["log-opts"][0].value == {"splunk-token": "hu…(25 chars)"}
    assert cfg.values["log-opts"][0].given_as == "--log-opt splunk-token=hu…(25 chars)"


def test_no_option_name_looks_secret() -> None:
    """Otherwise every value of that option would be stubbed whole."""
    names = [n for o in DAEMON_OPTIONS for n in (o.key, o.flag, *o.aliases) if n]
    assert [n for n in names if looks_secret_name(n.rsplit(".", 1)[-1])] == []


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("https://user:pass@mirror", "https://user:***@mirror"),
        ("https://user:p@ss@mirror:5000/v2/", "https://user:***@mirror:5000/v2/"),
        ("tcp://a:b@h:1 and http://c:d@i", "tcp://a:***@h:1 and http://c:***@i"),
        ("user:pass@proxy:3128", "user:***@proxy:3128"),
        ("https://token@host", "https://token@host"),
        ("tcp://0.0.0.0:2376", "tcp://0.0.0.0:2376"),
        ("debian:12@sha256:abc", "debian:12@sha256:abc"),
        ("plain", "plain"),
    ],
)
def test_mask_userinfo(text: str, masked: str) -> None:
    assert mask_userinfo(text) == masked


@pytest.mark.parametrize(
    ("raw", "secret", "redacted"),
    [
        ("max-size=10m", False, "max-size=10m"),
        ("db_password=abc", False, "db_password=…(3 chars)"),
        ("bridge=com.example.token=abcdefghijklmnop", False, "bridge=com.example.token=ab…(16 chars)"),
        ("abc", True, "…(3 chars)"),
        ({"splunk-token": "abc", "max-size": "1m"}, False, {"splunk-token": "…(3 chars)", "max-size": "1m"}),
        ({"secret": {"inner": "abc", "on": True}}, False, {"secret": {"inner": "…(3 chars)", "on": True}}),
        (["https://u:p@x"], False, ["https://u:***@x"]),
        (1400, False, 1400),
        (None, True, None),
    ],
)
def test_redact(raw: Any, secret: bool, redacted: Any) -> None:
    assert redact(raw, secret) == redacted
