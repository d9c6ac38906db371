"""Daemon checks: CIS Docker Benchmark section 2 (the daemon's configuration), 5.1 (swarm mode), and who can
reach the engine's API over TCP.

Each check is a pure function of the daemon's view (engine facts, the dockerd process, the effective
configuration) and the run's Context. Every verdict names where the deciding value came from (`argv`,
`daemon.json:12`, a systemd unit line, `info`, `default`); a value that cannot be told is an `error` that says
why (an unverified dockerd's argv is not its configuration; a remote engine shows only what `docker info` does).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from runbench.authoring import (
    Context,
    DaemonView,
    Fact,
    Row,
    Severity,
    daemon_check,
    errored,
    failed,
    family,
    manual,
    passed,
    skipped,
)
from runbench.model import Verdict
from runbench.semantics import parse_bool
from runbench.snapshot import Origin, ProbeOutcome, Setting, TcpExposure, TcpListener

_CONFLICT = "set both as a flag and in daemon.json: dockerd refuses to start or reload like this"


def _text(value: object) -> str:
    """A setting's value as evidence shows it."""
    if value is True or value is False:
        return "true" if value else "false"
    if value is None or value == "":
        return "(unset)"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_text(v) for v in value) + "]" if value else "[]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_text(v)}" for k, v in value.items()) + "}" if value else "{}"
    return str(value)


def _sources(s: Setting) -> str:
    return ", ".join(dict.fromkeys(s.sources))


def _shown(s: Setting) -> str:
    """`false (argv)`, `debug (daemon.json:3)`, `true (default)`; a conflict says so."""
    text = f"{_text(s.value)} ({_sources(s)})"
    return f"{text}; {_CONFLICT}" if s.conflict else text


def _evidence(*settings: Setting) -> dict[str, object]:
    return {s.key: _shown(s) for s in settings}


def _unknown(s: Setting) -> Verdict:
    return errored(f"{s.key} cannot be told: {s.why or 'no source gave it'}")


def _needs(d: DaemonView, *keys: str) -> tuple[list[Setting], Verdict | None]:
    """The settings `keys` names, or the error verdict of the first one that cannot be told."""
    settings = [d.setting(k) for k in keys]
    unknown = next((s for s in settings if not s.known), None)
    return settings, (_unknown(unknown) if unknown is not None else None)


# --- 2.1: rootless ----------------------------------------------------------------------------------


@daemon_check(
    id="daemon.rootless",
    cis={"1.8.0": "2.1", "1.6.0": "2.1"},
    level=2,
    severity=Severity.MEDIUM,
    title="The Docker daemon runs without root privileges (rootless mode)",
    rationale="A daemon running as root turns any escape from a container, and any access to its API, into "
    "root on the host; in rootless mode both end as an unprivileged user.",
    remediation="Where the workload allows it, run the daemon in rootless mode (dockerd-rootless-setuptool.sh "
    "install as the service user) and point clients at unix://$XDG_RUNTIME_DIR/docker.sock.",
)
def daemon_rootless(d: DaemonView, ctx: Context) -> Verdict:
    rootless = d.setting("rootless")
    proc = d.process if d.process is not None and d.process.verified else None
    evidence = _evidence(rootless)
    if proc is not None and proc.uid is not None:
        evidence["dockerd uid"] = proc.uid
    if rootless.known and rootless.value is True:
        return passed("rootless mode", **evidence)
    if proc is not None and proc.uid not in (0, None):
        return passed(f"dockerd runs as uid {proc.uid}", **evidence)
    if not rootless.known:
        return _unknown(rootless)
    return failed("the daemon runs as root" if proc is not None else "not in rootless mode", **evidence)


# --- 2.2: inter-container communication ---------------------------------------------------------------

_ICC_OPTION = "com.docker.network.bridge.enable_icc"


@daemon_check(
    id="daemon.icc",
    cis={"1.8.0": "2.2", "1.6.0": "2.2"},
    level=1,
    severity=Severity.MEDIUM,
    title="Containers on the default bridge cannot talk to each other unless linked",
    rationale="With inter-container communication on, every container on the default bridge can reach every "
    "port of every other one there; a compromised container can probe and attack its neighbours.",
    remediation='Set "icc": false in /etc/docker/daemon.json ({"icc": false}) or start dockerd with --icc=false, '
    "and put containers that must talk on user-defined networks.",
)
def daemon_icc(d: DaemonView, ctx: Context) -> Verdict:
    icc = d.setting("icc")
    bridge = next((n for n in ctx.networks if n.name == "bridge" and n.driver == "bridge"), None)
    evidence = _evidence(icc) if icc.known else {"icc": f"unknown: {icc.why}"}
    if bridge is not None and _ICC_OPTION in bridge.options:
        raw = bridge.options[_ICC_OPTION]
        evidence[f"network bridge {_ICC_OPTION}"] = f"{raw} (info: GET /networks)"
        live = parse_bool(raw)
        if live is False:
            return passed("the default bridge has inter-container communication off", **evidence)
        if live is True:
            return failed("containers on the default bridge can reach each other", **evidence)
    if bridge is None and ctx.networks and not ctx.errors_of(Fact.NETWORKS):
        return skipped("the daemon has no default bridge network (started with --bridge=none)")
    if not icc.known:
        return _unknown(icc)
    if icc.value is False:
        return passed("icc is off", **evidence)
    return failed("inter-container communication is on", **evidence)


# --- 2.3: log level -------------------------------------------------------------------------------------


@daemon_check(
    id="daemon.log_level",
    cis={"1.8.0": "2.3", "1.6.0": "2.3"},
    level=1,
    severity=Severity.LOW,
    title="The daemon logs at level info",
    rationale="At info the daemon records the events an investigation needs; debug logs are noisy and can "
    "hold request details, while warn and above drop events worth keeping.",
    remediation='Remove --log-level and -D/--debug, or set "log-level": "info" in /etc/docker/daemon.json '
    '({"log-level": "info"}) and drop "debug": true.',
)
def daemon_log_level(d: DaemonView, ctx: Context) -> Verdict:
    (level, debug), unknown = _needs(d, "log-level", "debug")
    if unknown is not None:
        return unknown
    evidence = _evidence(level, debug)
    if debug.value is True:
        return failed("debug mode is on: the daemon logs at debug level", **evidence)
    shown = str(level.value or "info")
    if shown.lower() == "info":
        return passed(**evidence)
    return failed(f"log level {shown}", **evidence)


# --- boolean settings: one table -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Want:
    """A boolean daemon setting and the value a hardened daemon has."""

    key: str
    good: bool
    bad: str  # the failure detail
    skip: Callable[[DaemonView, Context], str] | None = None  # a reason not to judge, or ""


def _bool_setting(want: _Want, d: DaemonView, ctx: Context) -> Verdict:
    if want.skip is not None and (reason := want.skip(d, ctx)):
        return skipped(reason)
    setting = d.setting(want.key)
    if not setting.known:
        return _unknown(setting)
    if setting.value is want.good:
        return passed(**_evidence(setting))
    return failed(want.bad, **_evidence(setting))


def _in_swarm(d: DaemonView, ctx: Context) -> str:
    if ctx.swarm is not None and ctx.swarm.active:
        return f"not applicable in swarm mode (this node is {ctx.swarm.state}): live restore does not work with swarm"
    return ""


BOOLEAN_CHECKS: Final = family(
    daemon_check,
    [
        Row(
            id="daemon.iptables",
            cis={"1.8.0": "2.4", "1.6.0": "2.4"},
            severity=Severity.MEDIUM,
            title="The daemon manages iptables rules",
            rationale="Docker's own iptables rules isolate its networks and publish only the ports asked for; "
            "with them off, hand-written rules must do all of that and often expose more than intended.",
            remediation='Remove --iptables=false, or set "iptables": true in /etc/docker/daemon.json '
            '({"iptables": true}).',
            data=_Want(
                "iptables", True, "iptables management is off: network isolation rests on rules written by hand"
            ),
        ),
        Row(
            id="daemon.no_new_privileges",
            cis={"1.8.0": "2.15", "1.6.0": "2.14"},
            severity=Severity.MEDIUM,
            title="Containers cannot gain new privileges by default",
            rationale="With no-new-privileges as the daemon default, setuid binaries and file capabilities cannot "
            "raise a container process's privileges, whatever the container forgot to set.",
            remediation='Set "no-new-privileges": true in /etc/docker/daemon.json ({"no-new-privileges": true}) or '
            "start dockerd with --no-new-privileges.",
            data=_Want("no-new-privileges", True, "containers may gain new privileges unless each opts out"),
        ),
        Row(
            id="daemon.live_restore",
            cis={"1.8.0": "2.16", "1.6.0": "2.15"},
            severity=Severity.LOW,
            title="Containers keep running while the daemon restarts (live restore)",
            rationale="Live restore keeps containers up while dockerd is stopped or upgraded, so a daemon "
            "restart is not an outage and security updates of the engine are not put off.",
            remediation='Set "live-restore": true in /etc/docker/daemon.json ({"live-restore": true}), then '
            "reload the daemon (systemctl reload docker).",
            data=_Want("live-restore", True, "live restore is off: a daemon restart stops every container", _in_swarm),
        ),
        Row(
            id="daemon.userland_proxy",
            cis={"1.8.0": "2.17", "1.6.0": "2.16"},
            severity=Severity.LOW,
            title="The userland proxy is off",
            rationale="With the userland proxy a docker-proxy process listens for every published port; "
            "hairpin NAT does the same job in the kernel with less code exposed.",
            remediation='Set "userland-proxy": false in /etc/docker/daemon.json ({"userland-proxy": false}) or start '
            "dockerd with --userland-proxy=false.",
            data=_Want("userland-proxy", False, "the userland proxy is on: a docker-proxy process per published port"),
        ),
        Row(
            id="daemon.experimental",
            cis={"1.8.0": "2.19", "1.6.0": "2.18"},
            severity=Severity.LOW,
            title="Experimental features are off",
            rationale="Experimental features are unfinished and less reviewed than the rest; a production daemon "
            "should not run them.",
            remediation='Remove --experimental, or set "experimental": false in /etc/docker/daemon.json '
            '({"experimental": false}).',
            data=_Want("experimental", False, "experimental features are on"),
        ),
    ],
    _bool_setting,
)


# --- 2.5: insecure registries ---------------------------------------------------------------------

_BUILTIN_INSECURE = frozenset({"127.0.0.0/8", "::1/128"})


@daemon_check(
    id="daemon.insecure_registries",
    cis={"1.8.0": "2.5", "1.6.0": "2.5"},
    level=1,
    severity=Severity.MEDIUM,
    title="No insecure registries are configured",
    rationale="The daemon talks to an insecure registry over plain HTTP or unverified TLS, so anyone on the "
    "path can swap the images it pulls.",
    remediation='Remove every --insecure-registry and the "insecure-registries" list from /etc/docker/daemon.json; '
    "give the registry a certificate (trusted by the host, or under /etc/docker/certs.d/<registry>/ca.crt).",
)
def daemon_insecure_registries(d: DaemonView, ctx: Context) -> Verdict:
    setting = d.setting("insecure-registries")
    if not setting.known:
        return _unknown(setting)
    values = setting.value if isinstance(setting.value, list) else []
    insecure = [str(v) for v in values if v not in _BUILTIN_INSECURE]
    if insecure:
        return failed(f"insecure registries: {', '.join(insecure)}", **_evidence(setting))
    return passed("only the built-in 127.0.0.0/8", **_evidence(setting))


# --- 2.6 / 2.7 / 2.12: storage driver -----------------------------------------------------------------


def _storage_driver(d: DaemonView, bad: str, why: str) -> Verdict:
    driver = d.setting("storage-driver")
    if not driver.known:
        return _unknown(driver)
    if isinstance(driver.value, str) and driver.value:
        name, where = driver.value, _sources(driver)
    else:  # chosen by dockerd at start: what the engine reports of itself
        name, where = d.engine.storage_driver, "info Driver"
    if not name:
        return errored("the storage driver is not reported (docker info Driver)")
    evidence = {"storage-driver": f"{name} ({where})"}
    if name == bad:
        return failed(f"storage driver {bad}: {why}", **evidence)
    return passed(**evidence)


@daemon_check(
    id="daemon.storage_aufs",
    cis={"1.8.0": "2.6", "1.6.0": "2.6"},
    level=1,
    severity=Severity.MEDIUM,
    title="The aufs storage driver is not used",
    rationale="aufs is out of the mainline kernel and removed from current Docker releases; it has known "
    "kernel crashes and gets no fixes.",
    remediation='Move to overlay2: set "storage-driver": "overlay2" in /etc/docker/daemon.json '
    '({"storage-driver": "overlay2"}) after exporting what must be kept (images are not migrated).',
)
def daemon_storage_aufs(d: DaemonView, ctx: Context) -> Verdict:
    return _storage_driver(d, "aufs", "unmaintained, out of the mainline kernel")


@daemon_check(
    id="daemon.storage_devicemapper",
    cis={"1.8.0": "2.7"},
    level=1,
    severity=Severity.MEDIUM,
    title="The devicemapper storage driver is not used",
    rationale="devicemapper is deprecated and removed from current Docker releases; its loop-lvm mode in "
    "particular is slow and fragile.",
    remediation='Move to overlay2: set "storage-driver": "overlay2" in /etc/docker/daemon.json '
    '({"storage-driver": "overlay2"}) after exporting what must be kept (images are not migrated).',
)
def daemon_storage_devicemapper(d: DaemonView, ctx: Context) -> Verdict:
    return _storage_driver(d, "devicemapper", "deprecated and removed in Docker 25")


@daemon_check(
    id="daemon.base_device_size",
    cis={"1.8.0": "2.12", "1.6.0": "2.11"},
    level=2,
    severity=Severity.LOW,
    title="The devicemapper base device size is left at its default",
    rationale="A larger dm.basesize lets every container grow its filesystem further, so one container can "
    "fill the host's storage; raise it only when a workload needs it.",
    remediation='Remove --storage-opt dm.basesize=... (and the dm.basesize entry of "storage-opts" in '
    "/etc/docker/daemon.json) unless a workload needs it.",
)
def daemon_base_device_size(d: DaemonView, ctx: Context) -> Verdict:
    opts = d.setting("storage-opts")
    if not opts.known:
        return _unknown(opts)
    values = [str(v) for v in opts.value] if isinstance(opts.value, list) else []
    basesize = [v for v in values if v.replace(" ", "").lower().startswith("dm.basesize=")]
    if basesize:
        return failed(f"base device size changed: {', '.join(basesize)}", **_evidence(opts))
    return passed("dm.basesize not set", **_evidence(opts))


# --- 2.8 / TCP: who can reach the API over TCP -----------------------------------------------------------


def _tcp(d: DaemonView, ctx: Context) -> tuple[TcpExposure | None, str]:
    tcp = ctx.snapshot.tcp
    if tcp is not None:
        return tcp, ""
    if ctx.host is None:
        return None, "TCP listeners not collected: " + ctx.why(Fact.HOST)
    if not ctx.host.local:
        return None, f"TCP listeners not visible from here: {ctx.host.local_reason}"
    return None, "TCP listeners not collected (a snapshot of a runbench without the TCP probe)"


def _our_pid(d: DaemonView) -> int | None:
    p = d.process
    return p.pid if p is not None and p.verified is True else None


def _other_daemon(listener: TcpListener, ours: int | None) -> bool:
    """The listener belongs to another dockerd on this host (judged when that daemon is scanned)."""
    return ours is not None and listener.daemon_pid is not None and listener.daemon_pid != ours


def _who(listener: TcpListener) -> str:
    who = listener.process or "unknown process"
    return f"{who} pid {listener.pid}" if listener.pid is not None else who


def _outcome(listener: TcpListener) -> str:
    if not listener.attempts:
        return "not probed"
    return "; ".join(a.why for a in listener.attempts if a.outcome is not ProbeOutcome.NOT_TRIED) or (
        listener.attempts[0].why
    )


def _listed(listener: TcpListener) -> str:
    return f"{listener.endpoint} ({_who(listener)}; {listener.found_by}): {_outcome(listener)}"


def _loopback(listener: TcpListener) -> bool:
    address = listener.address.removeprefix("::ffff:")
    return address == "::1" or address.startswith("127.")


def _verifies(listener: TcpListener, verify: Setting) -> bool | None:
    """Whether the listener lets in only clients with a certificate the daemon's CA signed: the probe's
    proof first (refused for want of a certificate, or answered without one), else the configuration."""
    if listener.answered is not None:
        return False
    if listener.got(ProbeOutcome.CERT_REQUIRED):
        return True
    if listener.process == "dockerd" and verify.known:
        return verify.value is True
    return None


@daemon_check(
    id="daemon.tls",
    cis={"1.8.0": "2.8", "1.6.0": "2.7"},
    level=1,
    severity=Severity.CRITICAL,
    title="Every TCP endpoint of the daemon requires TLS with client certificate verification",
    rationale="Whoever can open the daemon's API can start a privileged container and own the host; on a TCP "
    "socket only TLS with verified client certificates (tlsverify) keeps strangers out.",
    remediation='Serve TCP only with "tlsverify": true, "tlscacert", "tlscert" and "tlskey" in '
    '/etc/docker/daemon.json ({"tlsverify": true, "tlscacert": "/etc/docker/ca.pem", "tlscert": '
    '"/etc/docker/server-cert.pem", "tlskey": "/etc/docker/server-key.pem"}), or drop the tcp:// host and use '
    "the unix socket (ssh:// for remote clients).",
)
def daemon_tls(d: DaemonView, ctx: Context) -> Verdict:
    tcp, why = _tcp(d, ctx)
    if tcp is None:
        return errored(why)
    ours = _our_pid(d)
    listeners = [x for x in tcp.listeners if x.process == "dockerd" and not _other_daemon(x, ours)]
    hosts = d.setting("hosts")
    hosts_shown = _shown(hosts) if hosts.known else f"unknown: {hosts.why}"
    if not listeners:
        if not tcp.complete:
            return errored("the daemon's TCP listeners could not all be seen: " + "; ".join(tcp.notes))
        return skipped(f"not applicable: dockerd listens on no TCP socket (hosts {hosts_shown})")
    verify, tls = d.setting("tlsverify"), d.setting("tls")
    evidence: dict[str, object] = {"listeners": [_listed(x) for x in listeners], "hosts": hosts_shown}
    evidence.update({s.key: _shown(s) if s.known else f"unknown: {s.why}" for s in (verify, tls)})
    open_ = [x for x in listeners if _verifies(x, verify) is False]
    unknown = [x for x in listeners if _verifies(x, verify) is None]
    if open_:
        answered = [x.endpoint for x in open_ if x.answered is not None]
        if answered:
            return failed(f"the API answered without a client certificate on {', '.join(answered)}", **evidence)
        kind = "TLS without client verification" if tls.known and tls.value is True else "no TLS"
        return failed(f"{kind} on {', '.join(x.endpoint for x in open_)}", **evidence)
    if unknown:
        return errored(
            f"whether {', '.join(x.endpoint for x in unknown)} verifies clients cannot be told: {verify.why}"
        )
    return passed("every TCP listener requires a client certificate", **evidence)


_PUBLISHERS = frozenset({"docker-proxy", "rootlesskit"})


@daemon_check(
    id="daemon.tcp_exposure",
    severity=Severity.CRITICAL,
    title="No engine API is reachable over TCP without client verification",
    rationale="An engine API on a TCP port is root on this host for whoever reaches it: anyone on the network "
    "when it is bound beyond the loopback, any local user or container on the host network when it is on the "
    "loopback. Only TLS with verified client certificates keeps them out.",
    remediation='Remove tcp:// hosts (-H, daemon.json "hosts", docker.socket ListenStream) the clients do not '
    'need; serve the rest with "tlsverify": true and certificates ({"tlsverify": true}), bound to the one '
    "interface clients use; use ssh://user@host for remote clients instead of TCP.",
)
def daemon_tcp_exposure(d: DaemonView, ctx: Context) -> Verdict:
    tcp, why = _tcp(d, ctx)
    if tcp is None:
        return errored(why)
    ours = _our_pid(d)
    verify = d.setting("tlsverify")
    judged = [x for x in tcp.listeners if not _other_daemon(x, ours)]
    others = [x for x in tcp.listeners if _other_daemon(x, ours)]
    published = [x for x in judged if x.process in _PUBLISHERS and x.answered is None]
    api = [x for x in judged if x not in published]
    evidence: dict[str, object] = {"listeners": [_listed(x) for x in api] or "none"}
    if published:
        evidence["published ports"] = sorted({x.endpoint for x in published})
    if others:
        evidence["other daemons (not judged here)"] = [f"{x.endpoint} (dockerd pid {x.daemon_pid})" for x in others]
    if tcp.notes:
        evidence["not seen"] = list(tcp.notes)
    remote: list[str] = []
    local: list[str] = []
    unclear: list[str] = []
    for x in api:
        if x.process == "containerd" and x.answered is None:
            if not _loopback(x):
                remote.append(f"{x.endpoint}: containerd listens beyond the loopback")
            continue
        verifies = _verifies(x, verify)
        if verifies is None and x.process == "dockerd":
            unclear.append(x.endpoint)
        elif verifies is False:
            (local if _loopback(x) else remote).append(f"{x.endpoint} ({_who(x)}) without client verification")
    if remote:
        return failed(f"an engine API reachable from the network: {'; '.join(remote + local)}", **evidence)
    if local:
        detail = f"any local user can drive the engine: {'; '.join(local)}"
        return failed(detail, **evidence).at(Severity.HIGH)
    if unclear:
        return errored(f"whether {', '.join(unclear)} verifies clients cannot be told: {verify.why}")
    if not tcp.complete:
        return errored("TCP listeners could not all be seen: " + "; ".join(tcp.notes))
    if not api:
        return passed("no engine API listens on TCP", **evidence)
    return passed("every engine API listener requires a client certificate", **evidence)


@daemon_check(
    id="daemon.tcp_unauthenticated",
    severity=Severity.CRITICAL,
    title="No TCP listener of the engine answers without a client certificate",
    rationale="runbench asked every TCP listener of dockerd, containerd and docker-proxy (and whatever listens "
    "on 2375/2376 of the loopback) for GET /_ping and /version without a client certificate; an API that "
    "answers takes any command from anyone who reaches it, including a privileged container that owns the host.",
    remediation="Stop serving the API without TLS client verification: remove the tcp:// host, or set "
    '"tlsverify": true with a CA, certificate and key ({"tlsverify": true}); remove a relay (socat) of the '
    "engine's socket to TCP; do not publish a docker:dind port.",
)
def daemon_tcp_unauthenticated(d: DaemonView, ctx: Context) -> Verdict:
    tcp, why = _tcp(d, ctx)
    if tcp is None:
        return errored(why)
    ours = _our_pid(d)
    judged = [x for x in tcp.listeners if not _other_daemon(x, ours)]
    probed = [x for x in judged if x.probed]
    answered = [x for x in probed if x.answered is not None]
    evidence: dict[str, object] = {"probed": [_listed(x) for x in probed if x.process not in _PUBLISHERS]}
    publishers = [x for x in probed if x.process in _PUBLISHERS]
    if publishers:
        evidence["published ports probed"] = len(publishers)
    if answered:
        evidence["answered"] = [f"{x.endpoint} ({_who(x)}): {a.why}" for x in answered if (a := x.answered)]
        where = ", ".join(
            f"{x.endpoint} ({'TLS' if x.answered and x.answered.tls else 'plain HTTP'})" for x in answered
        )
        return failed(f"the engine API answered without a client certificate on {where}", **evidence)
    unclear = [
        x
        for x in probed
        if x.process == "dockerd"
        and all(a.outcome in (ProbeOutcome.TIMEOUT, ProbeOutcome.NOT_TRIED) for a in x.attempts)
    ]
    if unclear:
        return errored(f"no answer in time from {', '.join(x.endpoint for x in unclear)}: cannot tell")
    if not tcp.complete:
        return errored("nothing probed answered, but TCP listeners could not all be seen: " + "; ".join(tcp.notes))
    if not probed:
        return passed("no TCP listener to probe", **evidence)
    return passed(f"{len(probed)} listener(s) probed, none answered without a client certificate", **evidence)


# --- 2.9 / 2.11: ulimits and cgroup parent ------------------------------------------------------------


@daemon_check(
    id="daemon.default_ulimits",
    cis={"1.8.0": "2.9", "1.6.0": "2.8"},
    level=1,
    severity=Severity.LOW,
    title="Default ulimits are set for containers",
    rationale="Default ulimits cap what each container may open or spawn (files, processes) unless it asks "
    "otherwise; without them containers inherit the daemon's own, usually very high, limits.",
    remediation='Set "default-ulimits" in /etc/docker/daemon.json ({"default-ulimits": {"nofile": {"Name": '
    '"nofile", "Soft": 64000, "Hard": 64000}}}) or start dockerd with --default-ulimit nofile=64000:64000.',
)
def daemon_default_ulimits(d: DaemonView, ctx: Context) -> Verdict:
    ulimits = d.setting("default-ulimits")
    if not ulimits.known:
        return _unknown(ulimits)
    if isinstance(ulimits.value, Mapping) and ulimits.value:
        return passed(**_evidence(ulimits))
    return manual("no default ulimits: containers inherit dockerd's own limits; review them", **_evidence(ulimits))


@daemon_check(
    id="daemon.cgroup_parent",
    cis={"1.8.0": "2.11", "1.6.0": "2.10"},
    level=2,
    severity=Severity.LOW,
    title="The default cgroup parent is not changed",
    rationale="Containers are placed under Docker's own cgroup by default; another parent moves them under "
    "limits and accounting set elsewhere, which must then be reviewed.",
    remediation='Remove --cgroup-parent (and "cgroup-parent" in /etc/docker/daemon.json) unless the parent '
    "cgroup and its limits were chosen on purpose.",
)
def daemon_cgroup_parent(d: DaemonView, ctx: Context) -> Verdict:
    parent = d.setting("cgroup-parent")
    if not parent.known:
        return _unknown(parent)
    if parent.value:
        return manual(f"containers go under cgroup {parent.value}: review its limits", **_evidence(parent))
    return passed(**_evidence(parent))


@daemon_check(
    id="daemon.userns_remap",
    cis={"1.8.0": "2.10", "1.6.0": "2.9"},
    level=2,
    severity=Severity.MEDIUM,
    title="User namespace remapping is on",
    rationale="With user namespace remapping, root in a container is an unprivileged user on the host, so an "
    "escape does not land as host root.",
    remediation='Set "userns-remap": "default" in /etc/docker/daemon.json ({"userns-remap": "default"}) or start '
    "dockerd with --userns-remap=default (images and volumes are then kept apart per mapping).",
)
def daemon_userns_remap(d: DaemonView, ctx: Context) -> Verdict:
    remap = d.setting("userns-remap")
    if not remap.known:
        return _unknown(remap)
    if remap.value:
        return passed(**_evidence(remap))
    return failed("container root is host root: no user namespace remapping", **_evidence(remap))


# --- 2.13 / 2.14: authorization and logging -----------------------------------------------------------


@daemon_check(
    id="daemon.authorization_plugin",
    cis={"1.8.0": "2.13", "1.6.0": "2.12"},
    level=2,
    severity=Severity.MEDIUM,
    title="An authorization plugin controls access to the daemon",
    rationale="Without an authorization plugin, anyone who can reach the API can do everything it offers; a "
    "plugin can restrict who may run privileged containers, mount host paths or exec into containers.",
    remediation='Install an authorization plugin and set "authorization-plugins": ["<plugin>"] in '
    '/etc/docker/daemon.json ({"authorization-plugins": ["<plugin>"]}) or start dockerd with '
    "--authorization-plugin=<plugin>.",
)
def daemon_authorization_plugin(d: DaemonView, ctx: Context) -> Verdict:
    plugins = d.setting("authorization-plugins")
    if not plugins.known:
        return _unknown(plugins)
    if isinstance(plugins.value, list) and plugins.value:
        return passed(**_evidence(plugins))
    return failed("no authorization plugin: API access is all or nothing", **_evidence(plugins))


_LOCAL_LOG_DRIVERS = frozenset({"json-file", "local", "none", ""})


@daemon_check(
    id="daemon.remote_logging",
    cis={"1.8.0": "2.14", "1.6.0": "2.13"},
    level=2,
    severity=Severity.LOW,
    title="Container logs are shipped off the host",
    rationale="Logs kept only on the host are lost with it and can be wiped by whoever compromises it; a "
    "logging driver that ships them (syslog, journald forwarding, gelf, fluentd, awslogs, splunk, gcplogs ...) "
    "keeps the record.",
    remediation='Set a shipping driver in /etc/docker/daemon.json, e.g. {"log-driver": "syslog", "log-opts": '
    '{"syslog-address": "tcp://logs.example:514"}}, or --log-driver syslog.',
)
def daemon_remote_logging(d: DaemonView, ctx: Context) -> Verdict:
    driver = d.setting("log-driver")
    if not driver.known:
        return _unknown(driver)
    name = str(driver.value or "")
    if name in _LOCAL_LOG_DRIVERS:
        return failed(f"log driver {name or '(none)'} keeps logs on this host only", **_evidence(driver))
    return passed(f"log driver {name}", **_evidence(driver))


# --- 2.18: seccomp --------------------------------------------------------------------------------------


@daemon_check(
    id="daemon.seccomp_profile",
    cis={"1.8.0": "2.18", "1.6.0": "2.17"},
    level=2,
    severity=Severity.HIGH,
    title="The daemon applies a seccomp profile to containers",
    rationale="The seccomp profile blocks the system calls containers have no business making (kernel "
    "keyrings, module loading, clock changes ...), closing many kernel attack paths; unconfined turns that off "
    "for every container that does not ask for a profile.",
    remediation='Remove "seccomp-profile": "unconfined" (and --seccomp-profile unconfined); keep Docker\'s '
    'default or name a reviewed profile ({"seccomp-profile": "/etc/docker/seccomp.json"}).',
)
def daemon_seccomp_profile(d: DaemonView, ctx: Context) -> Verdict:
    profile = d.setting("seccomp-profile")
    live = d.config is not None and "info" in d.config.read
    if live and d.engine.seccomp_profile is None:
        return failed(
            "the daemon reports no seccomp support: containers run without a seccomp filter",
            SecurityOptions=list(d.engine.security_options) or "none",
        )
    if not profile.known:
        return _unknown(profile)
    if str(profile.value).strip().lower() == "unconfined":
        return failed("seccomp is off for every container that does not set a profile", **_evidence(profile))
    return passed(**_evidence(profile))


# --- 5.1: swarm mode ------------------------------------------------------------------------------------


@daemon_check(
    id="daemon.swarm_mode",
    cis={"1.8.0": "5.1", "1.6.0": "5.1"},
    level=1,
    severity=Severity.MEDIUM,
    title="Swarm mode is off unless it is needed",
    rationale="Swarm mode opens management and data ports (2377, 7946, 4789) and makes the node take "
    "orders from the cluster's managers; a node that does not need it should not carry that surface.",
    remediation="If this node need not be in a swarm: docker swarm leave (a manager: --force after demoting it).",
)
def daemon_swarm_mode(d: DaemonView, ctx: Context) -> Verdict:
    swarm = ctx.swarm
    if swarm is None:
        return errored(ctx.why(Fact.SWARM))
    if not swarm.active:
        return passed("swarm mode is off", **{"Swarm.LocalNodeState": swarm.state or "inactive"})
    evidence: dict[str, object] = {"Swarm.LocalNodeState": swarm.state, "manager": swarm.manager}
    if swarm.node_addr:
        evidence["Swarm.NodeAddr"] = swarm.node_addr
    if swarm.managers is not None:
        evidence["managers"] = swarm.managers
    if swarm.nodes is not None:
        evidence["nodes"] = swarm.nodes
    return manual("swarm mode is on: confirm this node needs it", **evidence)


# --- beyond: the configuration sources agree --------------------------------------------------------------


@daemon_check(
    id="daemon.config_conflicts",
    severity=Severity.LOW,
    title="The daemon's configuration sources agree",
    rationale="dockerd refuses to start or reload when a key is set both as a flag and in daemon.json, or when "
    "daemon.json holds a key it does not know: such a file was edited after the daemon started, the running "
    "configuration is not what the file says, and the next restart fails.",
    remediation="Keep each option in one place: remove the flag from the unit's ExecStart (or "
    "/etc/default/docker) or the key from /etc/docker/daemon.json; fix or remove unknown keys; check with "
    "dockerd --validate.",
)
def daemon_config_conflicts(d: DaemonView, ctx: Context) -> Verdict:
    config = d.config
    if config is None:
        return errored(d.config_why or "the daemon's configuration was not built")
    evidence: dict[str, object] = {"sources read": list(config.read) or "none"}
    if config.unread:
        evidence["not read"] = [f"{k}: {v}" for k, v in config.unread.items()]
    conflicts = [f"{key} ({_sources(d.setting(key))})" for key in config.conflicts]
    in_file = [
        key for key in config.unknown_keys if any(v.origin is Origin.DAEMON_JSON for v in config.values.get(key, ()))
    ]
    if conflicts:
        if in_file:
            evidence["unknown daemon.json keys"] = in_file
        return failed(f"set both as a flag and in daemon.json: {'; '.join(conflicts)}", **evidence)
    if in_file:
        where = [f"{k} ({', '.join(v.source for v in config.values.get(k, ()))})" for k in in_file]
        return manual(f"daemon.json keys no dockerd release knows: {'; '.join(where)}", **evidence)
    unread = [f"{k}: {config.unread[k]}" for k in (Origin.ARGV.value, Origin.DAEMON_JSON.value) if k in config.unread]
    if unread:
        return errored(f"whether the flags and daemon.json agree cannot be told: {'; '.join(unread)}")
    return passed(**evidence)
