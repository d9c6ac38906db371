"""Daemon checks (checks/daemon.py) on fact builders: every check passes and fails (or asks for a human where it
cannot fail), says `error` when its deciding value cannot be told, `skip` where it does not apply, and names
where each deciding value came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from builders import (
    HARDENED_ARGV,
    context,
    daemon_config,
    daemon_view,
    docker_service,
    engine,
    env_file,
    hardened_info,
    host,
    info,
    tcp,
    tcp_listener,
    verified_daemon,
)

from runbench import daemonconfig
from runbench.authoring import Context
from runbench.catalog import Catalog
from runbench.model import Scope, Severity, Status, Verdict
from runbench.snapshot import (
    CollectionError,
    DaemonFacts,
    EnvAssignment,
    Fact,
    NetworkFacts,
    Origin,
    ProbeOutcome,
    SwarmFacts,
)

ANSWERED, CERT, REFUSED = ProbeOutcome.ANSWERED, ProbeOutcome.CERT_REQUIRED, ProbeOutcome.REFUSED
NOT_TRIED, TLS_REQUIRED, TIMEOUT = ProbeOutcome.NOT_TRIED, ProbeOutcome.TLS_REQUIRED, ProbeOutcome.TIMEOUT
UNVERIFIED_WHY = "cannot verify which process serves /run/docker.sock: 2 dockerd processes"


def bridge(icc: str | None = "true") -> NetworkFacts:
    options = {"com.docker.network.bridge.enable_icc": icc} if icc is not None else {}
    return NetworkFacts(id="b" * 64, name="bridge", driver="bridge", options=options)


def local_networks() -> tuple[NetworkFacts, ...]:
    return (
        NetworkFacts(id="h" * 64, name="host", driver="host"),
        NetworkFacts(id="n" * 64, name="none", driver="null"),
    )


def ctx(
    *flags: str,
    daemon_json: str | None = None,
    live: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> Context:
    """A verified dockerd started with `flags` (after `dockerd -H fd://`), its daemon.json and /info."""
    argv = ("/usr/bin/dockerd", "-H", "fd://", *flags)
    config_file = "/etc/docker/daemon.json" if daemon_json is not None else ""
    d = verified_daemon(argv=argv, config_file=config_file)
    overrides.setdefault("tcp", tcp())
    return context(daemon=d, daemon_json=daemon_json, info=live, **overrides)


def hardened(**overrides: Any) -> Context:
    d = verified_daemon(argv=HARDENED_ARGV)
    overrides.setdefault("networks", (bridge("false"),))
    overrides.setdefault("tcp", tcp())
    return context(daemon=d, info=overrides.pop("live", hardened_info()), **overrides)


def unverified(live: Mapping[str, Any] | None = None, **overrides: Any) -> Context:
    """A dockerd that could not be proven to serve the socket: its argv and daemon.json are not the config."""
    d = verified_daemon(verified=False, verified_by=UNVERIFIED_WHY)
    config = daemonconfig.build(
        argv=None,
        argv_why=UNVERIFIED_WHY,
        daemon_json=None,
        daemon_json_path="",
        daemon_json_why=f"not read: {UNVERIFIED_WHY}",
        info=live,
    )
    overrides.setdefault("tcp", tcp())
    return context(daemon=d, daemon_config=config, **overrides)


@dataclass(frozen=True)
class Case:
    check_id: str
    ctx: Context
    expected: Status
    shows: str = ""  # text the detail or evidence must hold
    label: str = ""

    def __str__(self) -> str:
        return f"{self.check_id}-{self.expected}-{self.label or self.shows[:30]}"


def case(check_id: str, c: Context, expected: Status, shows: str = "", label: str = "") -> Case:
    return Case(check_id, c, expected, shows, label)


PASS, FAIL, ERROR, SKIP, MANUAL = Status.PASS, Status.FAIL, Status.ERROR, Status.SKIP, Status.MANUAL
SWARM = SwarmFacts(state="active", node_id="n1", node_addr="10.0.0.5", manager=True, managers=3, nodes=5)

CASES = [
    # 2.1 rootless
    case("daemon.rootless", ctx(live=info(SecurityOptions=["name=rootless", "name=seccomp,profile=builtin"])), PASS,
         "rootless mode"),
    case("daemon.rootless", context(daemon=verified_daemon(uid=1000), tcp=tcp()), PASS, "uid 1000"),
    case("daemon.rootless", hardened(), FAIL, "runs as root"),
    case("daemon.rootless", unverified(), ERROR, UNVERIFIED_WHY),
    # 2.2 icc: the default bridge's live option decides, the configuration is evidence
    case("daemon.icc", hardened(), PASS, "icc=false (argv)"),
    case("daemon.icc", ctx(networks=(bridge("true"),)), FAIL, "enable_icc=true (info"),
    case("daemon.icc", ctx("--icc=false", networks=(), errors=(CollectionError(Fact.NETWORKS, "", "timeout"),)),
         PASS, "false (argv)", "config-when-networks-unread"),
    case("daemon.icc", ctx(networks=()), FAIL, "true (default)", "default"),
    case("daemon.icc", ctx(networks=local_networks()), SKIP, "--bridge=none"),
    case("daemon.icc", unverified(networks=()), ERROR, UNVERIFIED_WHY),
    case("daemon.icc", ctx("--icc=false", daemon_json='{"icc": false}', networks=()), PASS,
         "set both as a flag and in daemon.json", "conflict-in-evidence"),
    # 2.3 log level
    case("daemon.log_level", hardened(), PASS, "info (default)"),
    case("daemon.log_level", ctx("--log-level", "debug", live=info()), FAIL, "log level debug"),
    case("daemon.log_level", ctx(live=info(Debug=True)), FAIL, "debug mode"),
    case("daemon.log_level", ctx(daemon_json='{\n "log-level": "warn"\n}'), FAIL, "daemon.json:2"),
    case("daemon.log_level", unverified(live=info()), ERROR, UNVERIFIED_WHY),
    # 2.4 iptables, 2.15 no-new-privileges, 2.16 live restore, 2.17 userland proxy, 2.19 experimental
    case("daemon.iptables", ctx(), PASS, "true (default)"),
    case("daemon.iptables", ctx("--iptables=false"), FAIL, "false (argv)"),
    case("daemon.iptables", unverified(live=info()), ERROR, UNVERIFIED_WHY),
    case("daemon.no_new_privileges", hardened(), PASS, "true (argv, info)"),
    case("daemon.no_new_privileges", ctx(live=info()), FAIL, "false (info)"),
    case("daemon.no_new_privileges", unverified(live=info(ServerVersion="20.10.24")), ERROR, UNVERIFIED_WHY,
         "not-in-info-before-24"),
    case("daemon.live_restore", hardened(), PASS, "true (argv, info)"),
    case("daemon.live_restore", ctx(live=info()), FAIL, "false (info)"),
    case("daemon.live_restore", ctx(live=info(), swarm=SWARM), SKIP, "swarm mode"),
    case("daemon.userland_proxy", hardened(), PASS, "false (argv)"),
    case("daemon.userland_proxy", ctx(), FAIL, "true (default)"),
    case("daemon.userland_proxy", unverified(live=info()), ERROR, UNVERIFIED_WHY),
    case("daemon.experimental", ctx(live=info()), PASS, "false (info)"),
    case("daemon.experimental", ctx(live=info(ExperimentalBuild=True)), FAIL, "true (info)"),
    # 2.5 insecure registries
    case("daemon.insecure_registries", ctx(live=info()), PASS, "built-in"),
    case("daemon.insecure_registries", ctx("--insecure-registry=myreg:5000"), FAIL, "myreg:5000] (argv)"),
    case(
        "daemon.insecure_registries",
        ctx(live=info(RegistryConfig={"InsecureRegistryCIDRs": ["127.0.0.0/8", "10.0.0.0/8"], "IndexConfigs": {}})),
        FAIL,
        "10.0.0.0/8",
    ),
    case("daemon.insecure_registries", unverified(), ERROR, UNVERIFIED_WHY),
    # 2.6 / 2.7 / 2.12 storage
    case("daemon.storage_aufs", ctx(live=info()), PASS, "overlay2 (info)"),
    case("daemon.storage_aufs", ctx(live=info(Driver="aufs")), FAIL, "aufs (info)"),
    case("daemon.storage_devicemapper", ctx(), PASS, "overlay2 (info Driver)"),
    case("daemon.storage_devicemapper", ctx(live=info(Driver="devicemapper")), FAIL, "devicemapper (info)"),
    case("daemon.storage_devicemapper", ctx("--storage-driver", "devicemapper"), FAIL, "devicemapper (argv)"),
    case("daemon.storage_devicemapper", unverified(), ERROR, UNVERIFIED_WHY),
    case("daemon.base_device_size", ctx(), PASS, "dm.basesize not set"),
    case("daemon.base_device_size", ctx("--storage-opt", "dm.basesize=50G"), FAIL, "dm.basesize=50G"),
    case("daemon.base_device_size", unverified(live=info()), ERROR, UNVERIFIED_WHY),
    # 2.8 TLS on every TCP listener of this daemon
    case("daemon.tls", ctx(), SKIP, "listens on no TCP socket"),
    case("daemon.tls", ctx("-H", "tcp://0.0.0.0:2375", tcp=tcp(tcp_listener("0.0.0.0", 2375, ANSWERED, NOT_TRIED))),
         FAIL, "answered without a client certificate on 0.0.0.0:2375"),
    case("daemon.tls", ctx("-H", "tcp://10.0.0.5:2376", "--tls", tcp=tcp(tcp_listener("10.0.0.5", 2376))),
         FAIL, "TLS without client verification", "config-only"),
    case("daemon.tls", ctx("-H", "tcp://127.0.0.1:2376", "--tlsverify",
                           tcp=tcp(tcp_listener("127.0.0.1", 2376, TLS_REQUIRED, CERT))), PASS, "true (argv)"),
    case("daemon.tls", ctx(tcp=tcp(tcp_listener("127.0.0.1", 2376, daemon_pid=999))), SKIP, "no TCP socket",
         "another-daemon"),
    case("daemon.tls", ctx(tcp=None, host=host(local=False, local_reason="the engine is remote")), ERROR,
         "the engine is remote"),
    case("daemon.tls", ctx(tcp=tcp(complete=False, notes=("cannot read the open files of dockerd pid 1234",))),
         ERROR, "could not all be seen"),
    case("daemon.tls", unverified(tcp=tcp(tcp_listener("127.0.0.1", 2376, TLS_REQUIRED, ProbeOutcome.FAILED,
                                                        daemon_pid=1234))), ERROR, "cannot be told"),
    # beyond: TCP exposure of every engine listener on this host
    case("daemon.tcp_exposure", ctx(), PASS, "no engine API listens on TCP"),
    case("daemon.tcp_exposure", ctx(tcp=tcp(tcp_listener("0.0.0.0", 2375, ANSWERED, NOT_TRIED))), FAIL,
         "reachable from the network"),
    case("daemon.tcp_exposure", ctx("--tlsverify", tcp=tcp(tcp_listener("0.0.0.0", 2376, TLS_REQUIRED, CERT))),
         PASS, "requires a client certificate"),
    case("daemon.tcp_exposure", ctx(tcp=tcp(tcp_listener("127.0.0.1", 2375, ANSWERED, NOT_TRIED))), FAIL,
         "any local user", "loopback"),
    case("daemon.tcp_exposure", ctx(tcp=tcp(tcp_listener("0.0.0.0", 8080, ProbeOutcome.NOT_DOCKER,
                                                         ProbeOutcome.NOT_TLS, process="docker-proxy", pid=77))),
         PASS, "0.0.0.0:8080", "published-port"),
    case("daemon.tcp_exposure", ctx(tcp=tcp(tcp_listener("0.0.0.0", 2375, ANSWERED, NOT_TRIED,
                                                         process="docker-proxy", pid=77))), FAIL, "docker-proxy pid 77",
         "published-dind"),
    case("daemon.tcp_exposure", ctx(tcp=tcp(tcp_listener("10.0.0.5", 10010, ProbeOutcome.FAILED, ProbeOutcome.FAILED,
                                                         process="containerd", pid=88))), FAIL, "containerd"),
    case("daemon.tcp_exposure", ctx(tcp=tcp(tcp_listener("0.0.0.0", 2375, ANSWERED, daemon_pid=999))), PASS,
         "other daemons", "another-daemon"),
    case("daemon.tcp_exposure", ctx(tcp=tcp(complete=False, notes=("not root",))), ERROR, "not root"),
    case("daemon.tcp_exposure", unverified(tcp=tcp(tcp_listener("0.0.0.0", 2376, TIMEOUT, TIMEOUT))), ERROR,
         "cannot be told", "unknown-verification"),
    case("daemon.tcp_exposure", ctx(tcp=None, host=None, errors=(CollectionError(Fact.HOST, "", "--no-host"),)),
         ERROR, "host not collected: --no-host"),
    case("daemon.tcp_exposure", ctx(tcp=None), ERROR, "without the TCP probe", "older-snapshot"),
    # beyond: the live probe
    case("daemon.tcp_unauthenticated", ctx(), PASS, "no TCP listener"),
    case("daemon.tcp_unauthenticated", ctx(tcp=tcp(tcp_listener("127.0.0.1", 2375, ANSWERED, NOT_TRIED))), FAIL,
         "127.0.0.1:2375 (plain HTTP)"),
    case("daemon.tcp_unauthenticated", ctx(tcp=tcp(tcp_listener("127.0.0.1", 2376, TLS_REQUIRED, ANSWERED))), FAIL,
         "(TLS)", "tls-without-verify"),
    case("daemon.tcp_unauthenticated", ctx(tcp=tcp(tcp_listener("127.0.0.1", 2375, "", pid=None, daemon_pid=None,
                                                                process=""))), PASS, "none answered", "unknown-holder"),
    case("daemon.tcp_unauthenticated", ctx(tcp=tcp(tcp_listener("127.0.0.1", 2376, TLS_REQUIRED, CERT))), PASS,
         "1 listener(s) probed"),
    case("daemon.tcp_unauthenticated", ctx(tcp=tcp(tcp_listener("127.0.0.1", 2376, TIMEOUT, TIMEOUT))), ERROR,
         "cannot tell"),
    case("daemon.tcp_unauthenticated", ctx(tcp=tcp(complete=False, notes=("not root",))), ERROR, "not root"),
    # 2.9 / 2.11 ulimits and cgroup parent
    case("daemon.default_ulimits", hardened(), PASS, "nofile"),
    case("daemon.default_ulimits", ctx(), MANUAL, "{} (default)"),
    case("daemon.default_ulimits", unverified(), ERROR, UNVERIFIED_WHY),
    case("daemon.cgroup_parent", ctx(), PASS, "(unset) (default)"),
    case("daemon.cgroup_parent", ctx("--cgroup-parent=/docker-limits"), MANUAL, "/docker-limits (argv)"),
    # 2.10 userns remap
    case("daemon.userns_remap", hardened(), PASS, "true (argv, info)"),
    case("daemon.userns_remap", ctx(live=info()), FAIL, "(unset) (info)"),
    case("daemon.userns_remap", ctx(daemon_json='{"userns-remap": "default"}'), PASS, "default (daemon.json:1)"),
    case("daemon.userns_remap", unverified(), ERROR, UNVERIFIED_WHY),
    # 2.13 / 2.14
    case("daemon.authorization_plugin", hardened(), PASS, "authz-broker"),
    case("daemon.authorization_plugin", ctx(live=info()), FAIL, "[] (info)"),
    case("daemon.authorization_plugin", unverified(), ERROR, UNVERIFIED_WHY),
    case("daemon.remote_logging", hardened(), PASS, "syslog (argv, info)"),
    case("daemon.remote_logging", ctx(live=info()), FAIL, "json-file (info)"),
    case("daemon.remote_logging", ctx(), FAIL, "json-file (default)", "default"),
    # 2.18 seccomp
    case("daemon.seccomp_profile", ctx(live=info()), PASS, "builtin (info)"),
    case("daemon.seccomp_profile", ctx(live=info(SecurityOptions=["name=seccomp,profile=unconfined"])), FAIL,
         "unconfined (info)"),
    case("daemon.seccomp_profile", ctx(live=info(SecurityOptions=[]), engine=engine(security_options=())), FAIL,
         "no seccomp support"),
    case("daemon.seccomp_profile", ctx("--seccomp-profile=unconfined"), FAIL, "unconfined (argv)", "argv"),
    case("daemon.seccomp_profile", unverified(), ERROR, UNVERIFIED_WHY),
    # 5.1 swarm mode
    case("daemon.swarm_mode", ctx(swarm=SwarmFacts(state="inactive")), PASS, "inactive"),
    case("daemon.swarm_mode", ctx(swarm=SWARM), MANUAL, "managers"),
    case("daemon.swarm_mode", ctx(swarm=None, errors=(CollectionError(Fact.SWARM, "", "info lacks Swarm"),)), ERROR,
         "info lacks Swarm"),
    # beyond: configuration sources agree
    case("daemon.config_conflicts", ctx(daemon_json='{"icc": false}'), PASS, "/etc/docker/daemon.json"),
    case("daemon.config_conflicts", ctx("--icc=false", daemon_json='{\n  "icc": false\n}'), FAIL,
         "icc (argv, daemon.json:2)"),
    case("daemon.config_conflicts", ctx(daemon_json='{"no-such-option": 1}'), MANUAL, "no-such-option (daemon.json:1)"),
    case("daemon.config_conflicts", ctx(daemon_json='{"icc": fals}'), ERROR, "line 1 column"),
]  # fmt: skip


def _text(v: Verdict) -> str:
    return v.detail + " | " + " | ".join(f"{k}={val}" for k, val in v.evidence)


@pytest.mark.parametrize("c", CASES, ids=str)
def test_daemon_checks(catalog: Catalog, c: Case) -> None:
    verdict = catalog[c.check_id].evaluate(daemon_view(c.ctx), c.ctx)
    assert verdict.status is c.expected, _text(verdict)
    assert c.shows in _text(verdict)


def test_every_daemon_check_has_a_pass_and_a_fail_or_manual_case(catalog: Catalog) -> None:
    ids = {c.meta.id for c in catalog.of_scope(Scope.DAEMON)}
    assert len(ids) == 23
    for check_id in sorted(ids):
        got = {c.expected for c in CASES if c.check_id == check_id}
        assert PASS in got, f"{check_id} has no pass case"
        assert got & {FAIL, MANUAL}, f"{check_id} has no fail (or manual) case"


def test_cis_numbers_follow_the_section_2_shift(catalog: Catalog) -> None:
    cis = {c.meta.id: dict(c.meta.cis) for c in catalog.of_scope(Scope.DAEMON)}
    assert cis["daemon.rootless"] == {"1.8.0": "2.1", "1.6.0": "2.1"}
    assert cis["daemon.storage_aufs"] == {"1.8.0": "2.6", "1.6.0": "2.6"}
    assert cis["daemon.storage_devicemapper"] == {"1.8.0": "2.7"}  # new in 1.8.0
    assert cis["daemon.tls"] == {"1.8.0": "2.8", "1.6.0": "2.7"}
    assert cis["daemon.experimental"] == {"1.8.0": "2.19", "1.6.0": "2.18"}
    assert cis["daemon.swarm_mode"] == {"1.8.0": "5.1", "1.6.0": "5.1"}
    assert not cis["daemon.tcp_exposure"] and not cis["daemon.tcp_unauthenticated"]


def test_severities(catalog: Catalog) -> None:
    critical = {c.meta.id for c in catalog.of_scope(Scope.DAEMON) if c.meta.severity is Severity.CRITICAL}
    assert critical == {"daemon.tls", "daemon.tcp_exposure", "daemon.tcp_unauthenticated"}


def test_a_loopback_listener_without_verification_fails_at_high_a_network_one_at_critical(catalog: Catalog) -> None:
    check = catalog["daemon.tcp_exposure"]
    local = ctx(tcp=tcp(tcp_listener("127.0.0.1", 2375, ANSWERED, NOT_TRIED)))
    remote = ctx(tcp=tcp(tcp_listener("::", 2375, ANSWERED, NOT_TRIED)))
    assert check.evaluate(daemon_view(local), local).severity is Severity.HIGH
    assert check.evaluate(daemon_view(remote), remote).severity is None  # the check's own: critical


def test_remote_engine_daemon_checks_use_info_and_say_what_could_not_be_seen(catalog: Catalog) -> None:
    remote_why = "the engine is remote (tcp://10.0.0.5:2376): host facts are not the engine's"
    config = daemonconfig.build(None, remote_why, None, "", "", hardened_info())
    c = context(daemon=None, daemon_config=config, host=host(local=False, local_reason=remote_why))
    results = {check.id: check.evaluate(daemon_view(c), c) for check in catalog.of_scope(Scope.DAEMON)}
    assert results["daemon.live_restore"].status is PASS  # info reports it live
    assert results["daemon.remote_logging"].status is PASS
    assert results["daemon.userns_remap"].status is PASS
    assert results["daemon.iptables"].status is ERROR  # only the command line or daemon.json tells
    assert remote_why in results["daemon.iptables"].detail
    assert results["daemon.tcp_unauthenticated"].status is ERROR
    assert remote_why in results["daemon.tcp_unauthenticated"].detail
    assert results["daemon.config_conflicts"].status is ERROR  # the flags were not seen: no "they agree"


def test_no_daemon_check_raises_on_an_empty_context(catalog: Catalog) -> None:
    c = context(daemon=None, daemon_config=daemon_config(DaemonFacts(pid=None)))
    for check in catalog.of_scope(Scope.DAEMON):
        verdict = check.evaluate(daemon_view(c), c)
        assert "raised" not in verdict.detail, (check.id, verdict.detail)


# --- provenance through the systemd unit ------------------------------------------------------------

DOCKER_OPTS = "--icc=false --log-level=warn"
ARGV = ("/usr/sbin/dockerd", "-H", "fd://", "--iptables=false", *DOCKER_OPTS.split())


def _unit_config(argv: tuple[str, ...] = ARGV, unit_argv: tuple[str, ...] = ARGV, **env: str) -> Any:
    unit = docker_service(
        "/usr/sbin/dockerd -H fd:// --iptables=false $DOCKER_OPTS",
        unit_argv,
        environment=tuple(
            EnvAssignment(k, v, "/etc/systemd/system/docker.service.d/env.conf", 3) for k, v in env.items()
        ),
        environment_files=(env_file("/etc/default/docker", DOCKER_OPTS=DOCKER_OPTS),),
    )
    return daemonconfig.build(argv, "", None, "", "", None, service=unit)


def test_flags_are_attributed_to_the_unit_line_or_environment_file_that_wrote_them() -> None:
    config = _unit_config()
    iptables = daemonconfig.lookup(config, "iptables")
    assert iptables.value is False
    assert iptables.sources == ("/lib/systemd/system/docker.service:12",)
    assert iptables.values[0].origin is Origin.SYSTEMD
    icc = daemonconfig.lookup(config, "icc")
    assert (icc.value, icc.sources) == (False, ("/etc/default/docker:1",))
    assert icc.values[0].origin is Origin.ENVIRONMENT_FILE
    assert daemonconfig.lookup(config, "log-level").value == "warn"
    assert "docker.service" in config.read


def test_a_unit_that_is_not_the_running_command_line_is_not_its_source() -> None:
    config = _unit_config(unit_argv=(*ARGV[:-1], "--log-level=debug"))
    assert daemonconfig.lookup(config, "icc").sources == ("argv",)
    assert "not the running dockerd's command line" in config.unread["systemd"]


def test_docker_tls_verify_in_the_unit_environment_turns_tlsverify_on_below_flags() -> None:
    config = _unit_config(DOCKER_TLS_VERIFY="1", DOCKER_CERT_PATH="/etc/docker/tls")
    verify = daemonconfig.lookup(config, "tlsverify")
    assert (verify.value, verify.sources) == (True, ("/etc/systemd/system/docker.service.d/env.conf:3",))
    assert daemonconfig.lookup(config, "tlscacert").value == "/etc/docker/tls/ca.pem"
    overridden = _unit_config((*ARGV, "--tlsverify=false"), (*ARGV, "--tlsverify=false"), DOCKER_TLS_VERIFY="1")
    assert daemonconfig.lookup(overridden, "tlsverify").value is False


def test_a_conflict_is_named_in_the_check_about_that_key_and_on_its_own(catalog: Catalog) -> None:
    c = ctx("--log-level=info", daemon_json='{"log-level": "info"}')
    own = catalog["daemon.log_level"].evaluate(daemon_view(c), c)
    assert own.status is PASS and "dockerd refuses" in _text(own)
    conflicts = catalog["daemon.config_conflicts"].evaluate(daemon_view(c), c)
    assert conflicts.status is FAIL and "log-level (argv, daemon.json:1)" in conflicts.detail


def test_a_braced_variable_is_one_word_written_where_the_variable_is_set() -> None:
    argv = ("/usr/sbin/dockerd", "-H", "fd://", "--log-level=debug", "--icc=false")
    unit = docker_service(
        "-/usr/sbin/dockerd -H fd:// ${LEVEL} '--icc=false'",
        argv,
        environment=(EnvAssignment("LEVEL", "--log-level=debug", "/etc/systemd/system/docker.service.d/x.conf", 2),),
    )
    config = daemonconfig.build(argv, "", None, "", "", None, service=unit)
    level = daemonconfig.lookup(config, "log-level")
    assert (level.value, level.sources) == ("debug", ("/etc/systemd/system/docker.service.d/x.conf:2",))
    assert level.values[0].origin is Origin.SYSTEMD  # Environment= of a drop-in
    assert daemonconfig.lookup(config, "icc").sources == ("/lib/systemd/system/docker.service:12",)
